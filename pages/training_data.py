"""Training data: quality, validation and the review queue."""

import streamlit as st

from university_models.ui import select_university

st.title("Training data")
university = select_university()
st.info("No training data collected yet.")
