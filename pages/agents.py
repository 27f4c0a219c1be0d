"""Agents: being built by the dashboard part 2 engineer (placeholder)."""

import streamlit as st

st.title("Agents")
st.info("This page is being built.")
