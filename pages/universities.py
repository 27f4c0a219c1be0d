"""Universities: every university in this installation."""

import streamlit as st

from university_models.db import read_session
from university_models.queries.universities import list_universities
from university_models.ui import engine

st.title("Universities")

with read_session(engine()) as session:
    universities = list_universities(session)

if universities.empty:
    st.info(
        "There is no university yet. Create one from a terminal with "
        "`python -m university_models university create NAME --owner EMAIL`, "
        "or load the demo with `python -m university_models demo`."
    )
else:
    st.dataframe(
        universities.drop(columns=["id"]),
        hide_index=True,
        column_config={
            "last_activity_at": st.column_config.DatetimeColumn(
                "last activity (UTC)", format="YYYY-MM-DD HH:mm"
            ),
        },
    )
