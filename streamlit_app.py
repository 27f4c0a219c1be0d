"""The dashboard's only entrypoint: page config, engine and navigation."""

import streamlit as st

st.set_page_config(
    page_title="Agentic University",
    page_icon=":material/school:",
    layout="wide",
)

navigation = st.navigation(
    {
        "Admin": [
            st.Page(
                "pages/universities.py",
                title="Universities",
                icon=":material/account_balance:",
                default=True,
            ),
        ],
    }
)
navigation.run()
