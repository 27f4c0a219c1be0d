"""Proposals: being built by the dashboard part 2 engineer (placeholder)."""

import streamlit as st

st.title("Proposals")
st.info("This page is being built.")
