"""Overview: the selected university's headline numbers and activity."""

import streamlit as st

from university_models.ui import select_university

st.title("Overview")
university = select_university()
st.info(
    "Nothing has happened in this university yet. Create agents on the Agents "
    "page and schedule a competition on the Competitions page."
)
