"""What every page shares: the engine, cached once per server process."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from university_models.db import make_engine


@st.cache_resource(show_spinner=False)
def engine() -> Engine:
    """The configured database's engine, shared by every session."""
    return make_engine()
