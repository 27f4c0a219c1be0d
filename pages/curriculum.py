"""Curriculum: where agents stand in their curriculum paths."""

import streamlit as st

from university_models.ui import select_university

st.title("Curriculum")
university = select_university()
st.info("No curriculum path yet. Enrol agents in a path from the Agents page.")
