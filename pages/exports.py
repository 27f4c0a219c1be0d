"""Exports: CSV reports of the selected university."""

import streamlit as st

from university_models.ui import select_university

st.title("Exports")
university = select_university()
st.info("Exports are being built.")
