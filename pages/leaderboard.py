"""Leaderboard: agents ranked by their competition results."""

import streamlit as st

from university_models.ui import select_university

st.title("Leaderboard")
university = select_university()
st.info(
    "No completed matches yet. Schedule a competition on the Competitions page "
    "and record results."
)
