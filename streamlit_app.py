"""The dashboard's only entrypoint: page config, engine and navigation.

Run it with ``streamlit run streamlit_app.py`` (or ``make run``). Every page
lives in ``pages/`` and is listed here, grouped by what a person comes to do:
watch, act, report or administer.
"""

import streamlit as st

from university_models.ui import enter_app

st.set_page_config(
    page_title="Agentic University",
    # An emoji, not a Material icon: those are fetched from Google's font
    # servers, which an offline installation cannot reach.
    page_icon="🎓",
    layout="wide",
)

overview = st.Page(
    "pages/overview.py",
    title="Overview",
    icon=":material/dashboard:",
    default=True,
    # Served at the root; this name only has to differ from the one below.
    url_path="home",
)


def _to_overview() -> None:
    # Every other page lives at /<its name>, so people type /overview too.
    st.switch_page(overview, query_params=st.query_params.to_dict())


navigation = st.navigation(
    {
        "Watch": [
            overview,
            st.Page(
                _to_overview,
                title="Overview",
                url_path="overview",
                visibility="hidden",
            ),
            st.Page(
                "pages/leaderboard.py",
                title="Leaderboard",
                icon=":material/leaderboard:",
            ),
            st.Page(
                "pages/curriculum.py",
                title="Curriculum",
                icon=":material/school:",
            ),
            st.Page(
                "pages/training_data.py",
                title="Training data",
                icon=":material/dataset:",
            ),
        ],
        "Act": [
            st.Page("pages/agents.py", title="Agents", icon=":material/smart_toy:"),
            st.Page(
                "pages/competitions.py",
                title="Competitions",
                icon=":material/trophy:",
            ),
            st.Page(
                "pages/proposals.py",
                title="Proposals",
                icon=":material/lightbulb:",
            ),
        ],
        "Report": [
            st.Page("pages/exports.py", title="Exports", icon=":material/download:"),
        ],
        "Admin": [
            st.Page(
                "pages/universities.py",
                title="Universities",
                icon=":material/account_balance:",
            ),
        ],
    }
)
enter_app()
navigation.run()
