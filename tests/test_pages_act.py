"""The Act and Admin pages (Agents, Competitions, Proposals, Universities)
driven through Streamlit's AppTest: each renders on an empty database and
with data, and each form's success and refusal paths; a refusal writes
nothing and keeps what was typed."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import streamlit as st
from hypothesis import given, settings
from hypothesis.strategies import (
    booleans,
    dictionaries,
    integers,
    lists,
    none,
    recursive,
    text,
)
from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from tests.markdown_text import as_read
from university_models import models, ui
from university_models.config import PROJECT_ROOT, published_data_dir
from university_models.db import make_engine, read_session, transaction
from university_models.demo import build_demo
from university_models.errors import InvalidInput
from university_models.models import (
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    ImprovementProposal,
    University,
    UniversityAgent,
    universities_archive,
)
from university_models.services import competitions, curriculum, proposals
from university_models.services import universities as universities_service
from university_models.services.agents import create_agent
from university_models.services.training_data import collect_training_data
from university_models.services.universities import create_university
from university_models.ui import parse_json_object

APP = PROJECT_ROOT / "streamlit_app.py"


def _point_app_at(engine: Engine, monkeypatch) -> None:
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    from university_models import ui

    ui.engine.clear()
    st.cache_data.clear()


@pytest.fixture
def configured(engine: Engine, monkeypatch) -> Iterator[Engine]:
    """The app pointed at the test's database (each engine), nothing cached."""
    _point_app_at(engine, monkeypatch)
    yield engine
    st.cache_data.clear()


@pytest.fixture
def sqlite_configured(sqlite_template, tmp_path, monkeypatch) -> Iterator[Engine]:
    """The app on a migrated, empty SQLite database. Page renders cost
    seconds, so most page tests run on SQLite; the ``*_on_both_engines``
    tests run one form of each page on PostgreSQL too."""
    path = tmp_path / "university.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    _point_app_at(engine, monkeypatch)
    yield engine
    st.cache_data.clear()
    engine.dispose()


def open_page(page: str, **query: str) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in query.items():
        app.query_params[key] = value
    app.switch_page(f"pages/{page}.py")
    return app.run()


def count(engine: Engine, model) -> int:
    with read_session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def make_university(engine: Engine, name: str = "Test U", **values) -> str:
    with transaction(engine) as session:
        university = create_university(
            session, name=name, owner_email="dean@example.org", **values
        )
        return university.id


def by_key(widgets, key: str):
    return next(widget for widget in widgets if widget.key == key)


def field(app: AppTest, key: str) -> str:
    """The key the form field named ``key`` has now (``ui.field_key``: a
    field moves to a new key each time a write resets it)."""
    try:
        generation = app.session_state[ui.FIELD_GENERATIONS_KEY].get(key, 0)
    except KeyError:  # no field has been reset yet
        generation = 0
    return f"{key}~{generation}" if generation else key


def match_box(app: AppTest):
    """The result form's match box: its key is the field's, followed by a
    digest of the matches as drawn (pages/competitions.py)."""
    prefix = field(app, "result_match") + "@"
    (box,) = [box for box in app.selectbox if (box.key or "").startswith(prefix)]
    return box


def texts(elements) -> str:
    return "\n".join(as_read(element.value) for element in elements)


# -- Universities ------------------------------------------------------------------


def test_universities_page_explains_what_to_do_on_an_empty_database(
    sqlite_configured,
):
    app = open_page("universities")

    assert not app.exception
    assert "no university yet" in app.info[0].value


def test_every_quota_box_names_its_range(sqlite_configured):
    make_university(sqlite_configured)
    app = open_page("universities")

    # Both forms: creating one, and editing the selected one.
    boxes = [box for box in app.number_input if "max_agents" in box.key]
    assert len(boxes) == 2
    assert len(app.number_input) == 8
    for box in app.number_input:
        assert "A whole number from 1 to 2,147,483,647." in box.help
        assert box.min == 1


def test_creating_a_university_on_the_page_shows_it_on_both_engines(configured):
    app = open_page("universities")
    app.text_input(key=field(app, "new_university_name")).input("Page U")
    app.text_input(key=field(app, "new_university_owner")).input("Owner@Example.org")
    app.number_input(key="new_max_agents").set_value(5)
    app.button(key="FormSubmitter:create_university-Create university").click()
    app.run()

    assert not app.exception
    assert "Page U" in texts(app.success)
    with read_session(configured) as session:
        university = session.scalars(select(University)).one()
        assert (university.name, university.max_agents) == ("Page U", 5)
    assert "Page U" in app.dataframe[0].value["name"].tolist()


def test_a_refused_university_writes_nothing_and_keeps_the_form(sqlite_configured):
    make_university(sqlite_configured, name="Taken")
    app = open_page("universities")
    app.text_input(key=field(app, "new_university_name")).input("taken")
    app.text_input(key=field(app, "new_university_owner")).input("someone@example.org")
    app.button(key="FormSubmitter:create_university-Create university").click()
    app.run()

    assert not app.exception
    assert "Taken" in texts(app.error)
    assert count(sqlite_configured, University) == 1
    assert (
        app.text_input(key=field(app, "new_university_owner")).value
        == "someone@example.org"
    )


def test_university_settings_are_saved_from_the_form(sqlite_configured):
    university_id = make_university(sqlite_configured)
    app = open_page("universities")
    app.number_input(key=field(app, f"edit_max_agents_{university_id}")).set_value(7)
    app.text_area(key=field(app, f"edit_settings_{university_id}")).input(
        '{"privacy_level": "shared"}'
    )
    app.button(
        key=f"FormSubmitter:edit_university_{university_id}-Save changes"
    ).click()
    app.run()

    assert not app.exception
    assert "Saved the settings of Test U" in texts(app.success)
    with read_session(sqlite_configured) as session:
        university = session.get(University, university_id)
        assert university.max_agents == 7
        assert university.settings["privacy_level"] == "shared"
        assert university.settings["max_agents"] == 7


def test_university_settings_with_broken_json_are_refused_naming_the_problem(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    app = open_page("universities")
    app.number_input(key=field(app, f"edit_max_agents_{university_id}")).set_value(7)
    app.text_area(key=field(app, f"edit_settings_{university_id}")).input('{"a": 1,}')
    app.button(
        key=f"FormSubmitter:edit_university_{university_id}-Save changes"
    ).click()
    app.run()

    assert not app.exception
    assert "Other settings is not valid JSON" in texts(app.error)
    assert "line 1, column" in texts(app.error)
    assert (
        app.number_input(key=field(app, f"edit_max_agents_{university_id}")).value == 7
    )
    with read_session(sqlite_configured) as session:
        assert session.get(University, university_id).max_agents == 100


def university_status(engine: Engine, university_id: str) -> str:
    with read_session(engine) as session:
        return session.get(University, university_id).status


def press(app: AppTest, key: str) -> AppTest:
    app.button(key=key).click()
    return app.run()


def test_suspending_and_reactivating_a_university_from_the_page(sqlite_configured):
    university_id = make_university(sqlite_configured)
    app = press(open_page("universities"), "university_status_suspended")

    # Suspending stops every operator's writes: it asks first.
    assert "Every change to it is refused" in texts(app.warning)
    assert university_status(sqlite_configured, university_id) == "active"

    press(app, "university_status_confirm")

    assert not app.exception
    assert "is now suspended" in texts(app.success)
    assert university_status(sqlite_configured, university_id) == "suspended"

    # Reactivating undoes it, at once.
    press(app, "university_status_active")
    assert university_status(sqlite_configured, university_id) == "active"


def test_archiving_a_university_asks_first_and_names_its_retention_period(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    app = press(open_page("universities"), "university_status_archived")

    question = texts(app.warning)
    assert "Archive" in question and "days without activity" in question
    assert university_status(sqlite_configured, university_id) == "active"

    press(app, "university_status_keep")

    assert not app.exception
    assert "days without activity" not in texts(app.warning)
    assert university_status(sqlite_configured, university_id) == "active"

    press(app, "university_status_archived")
    press(app, "university_status_confirm")

    assert "is now archived" in texts(app.success)
    assert university_status(sqlite_configured, university_id) == "archived"


def test_a_status_question_is_dropped_when_the_status_changed_since(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    app = press(open_page("universities"), "university_status_archived")

    # Meanwhile, in another session, someone suspends it.
    with transaction(sqlite_configured) as session:
        universities_service.set_university_status(session, university_id, "suspended")
    ui.clear_caches()
    app.run()

    assert "days without activity" not in texts(app.warning)
    assert university_status(sqlite_configured, university_id) == "suspended"


def test_retention_dry_run_says_when_nothing_is_due(sqlite_configured):
    make_university(sqlite_configured)
    app = open_page("universities")
    next(b for b in app.button if "Dry run" in b.label).click()
    app.run()

    assert not app.exception
    assert "Nothing is due" in texts(app.info)


# -- Agents -----------------------------------------------------------------------


def submit_agent(app: AppTest) -> AppTest:
    app.button(key="FormSubmitter:create_agent-Create agent").click()
    return app.run()


def test_agents_page_says_how_to_add_the_first_agent(sqlite_configured):
    make_university(sqlite_configured)
    app = open_page("agents")

    assert not app.exception
    assert "has no agents yet" in texts(app.info)


@pytest.mark.parametrize(
    ("page", "empty"),
    [
        ("agents", "has no agents yet"),
        ("competitions", "has no competitions yet"),
        ("curriculum", "has no curriculum path yet"),
    ],
)
def test_an_empty_page_of_a_suspended_university_does_not_invite_a_write(
    sqlite_configured, page, empty
):
    university_id = make_university(sqlite_configured)
    with transaction(sqlite_configured) as session:
        universities_service.set_university_status(session, university_id, "suspended")
    app = open_page(page)

    assert not app.exception
    message = texts(app.info)
    assert empty in message
    assert "It is suspended and accepts no changes" in message
    assert "above" not in message


def test_creating_an_agent_on_the_page_on_both_engines(configured):
    make_university(configured)
    app = open_page("agents")
    app.text_input(key=field(app, "agent_name")).input("Ada")
    app.selectbox(key=field(app, "agent_type")).set_value("researcher")
    app.text_input(key=field(app, "agent_specialization")).input("proofs")
    app.text_area(key=field(app, "agent_configuration")).input(
        '{"llm": {"temperature": 0.2}}'
    )
    submit_agent(app)

    assert not app.exception
    assert "Agent 'Ada' created." in texts(app.success)
    with read_session(configured) as session:
        agent = session.scalars(select(UniversityAgent)).one()
        assert (agent.name, agent.agent_type, agent.specialization) == (
            "Ada",
            "researcher",
            "proofs",
        )
        assert agent.configuration == {"llm": {"temperature": 0.2}}
    assert app.dataframe[0].value["name"].tolist() == ["Ada"]
    # The form is empty again for the next agent.
    assert app.text_input(key=field(app, "agent_name")).value == ""


def test_an_agent_with_broken_configuration_json_is_refused_and_kept(
    sqlite_configured,
):
    make_university(sqlite_configured)
    app = open_page("agents")
    app.text_input(key=field(app, "agent_name")).input("Ada")
    app.text_area(key=field(app, "agent_configuration")).input('{"llm": }')
    submit_agent(app)

    assert not app.exception
    assert "Configuration is not valid JSON" in texts(app.error)
    assert "line 1, column 9" in texts(app.error)
    assert count(sqlite_configured, UniversityAgent) == 0
    assert app.text_input(key=field(app, "agent_name")).value == "Ada"
    assert app.text_area(key=field(app, "agent_configuration")).value == '{"llm": }'


def test_an_agent_past_the_quota_is_refused_and_nothing_is_written(
    sqlite_configured,
):
    make_university(sqlite_configured, max_agents=1)
    app = open_page("agents")
    app.text_input(key=field(app, "agent_name")).input("First")
    submit_agent(app)
    app.text_input(key=field(app, "agent_name")).input("Second")
    submit_agent(app)

    assert not app.exception
    assert "max_agents" in texts(app.error) or "quota" in texts(app.error).lower()
    assert count(sqlite_configured, UniversityAgent) == 1
    assert app.text_input(key=field(app, "agent_name")).value == "Second"


# -- Competitions ------------------------------------------------------------------


def make_agents(engine: Engine, university_id: str, *names: str) -> list[str]:
    with transaction(engine) as session:
        return [
            create_agent(session, university_id, name=name, agent_type="student").id
            for name in names
        ]


def click_agent_row(app: AppTest, row: int) -> AppTest:
    """What a click on a row of the agents table leaves in the session."""
    # AppTest's session state has keys() but cannot be iterated itself.
    names = app.session_state.keys()  # noqa: SIM118
    [key] = [name for name in names if name.startswith("agents_rows_")]
    app.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return app.run()


def test_an_agent_without_a_scored_match_shows_no_score_rather_than_zero(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    ada, bob = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    competition_id = make_competition(
        sqlite_configured, university_id, [ada, bob], start=True
    )
    app = open_page("agents")
    app.selectbox(key="profile_agent").set_value(ada).run()
    scores = {m.label: m.value for m in app.metric}
    assert (scores["Average score"], scores["Highest score"]) == ("—", "—")

    play_all(sqlite_configured, competition_id, complete=False)
    st.cache_data.clear()
    app = open_page("agents")
    app.selectbox(key="profile_agent").set_value(ada).run()

    scores = {m.label: m.value for m in app.metric}
    # Ada played the first side of the only match and scored 2.
    assert (scores["Average score"], scores["Highest score"]) == ("2.000", "2.000")


def test_a_clicked_agent_stays_open_when_the_table_filters_change(sqlite_configured):
    university_id = make_university(sqlite_configured)
    _, bob, _ = make_agents(sqlite_configured, university_id, "Ada", "Bob", "Cy")
    app = open_page("agents")
    click_agent_row(app, 1)
    assert app.selectbox(key="profile_agent").value == bob

    app.text_input(key="filter_name").input("cy").run()

    assert not app.exception
    assert app.selectbox(key="profile_agent").value == bob


def make_competition(
    engine: Engine,
    university_id: str,
    agent_ids: list[str],
    *,
    name: str = "Cup",
    competition_type: str = "head_to_head",
    start: bool = False,
) -> str:
    now = datetime.now(UTC)
    with transaction(engine) as session:
        competition = competitions.schedule_competition(
            session,
            university_id,
            name=name,
            competition_type=competition_type,
            scheduled_start=now,
            scheduled_end=now + timedelta(days=1),
        )
        for seed, agent_id in enumerate(agent_ids, start=1):
            competitions.add_participant(
                session, competition.id, agent_id, seed_ranking=seed
            )
        if start:
            competitions.start_competition(session, competition.id)
        return competition.id


def submit_schedule(app: AppTest) -> AppTest:
    app.button(key="FormSubmitter:schedule_competition-Schedule competition").click()
    return app.run()


def test_competitions_page_says_what_to_do_when_there_are_none(sqlite_configured):
    make_university(sqlite_configured)
    app = open_page("competitions")

    assert not app.exception
    assert "has no competitions yet" in texts(app.info)
    assert "create some agents first" in texts(app.info)


def test_scheduling_a_competition_with_seeded_participants_on_both_engines(
    configured,
):
    university_id = make_university(configured)
    ada, bob = make_agents(configured, university_id, "Ada", "Bob")
    app = open_page("competitions")
    app.selectbox(key="competition_type").set_value("tournament").run()
    app.text_input(key=field(app, "competition_name")).input("Spring cup")
    app.multiselect(key=field(app, "competition_participants")).select(bob).select(ada)
    submit_schedule(app)

    assert not app.exception
    assert "'Spring cup' scheduled with 2 participants" in texts(app.success)
    with read_session(configured) as session:
        competition = session.scalars(select(Competition)).one()
        assert competition.competition_type == "tournament"
        assert competition.rules["tie_break"] == "higher_seed"
        seeds = {p.agent_id: p.seed_ranking for p in competition.participants}
        assert seeds == {bob: 1, ada: 2}
    assert app.dataframe[0].value["name"].tolist() == ["Spring cup"]


def test_a_competition_with_broken_rules_json_is_refused_and_kept(
    sqlite_configured,
):
    make_university(sqlite_configured)
    app = open_page("competitions")
    app.text_input(key=field(app, "competition_name")).input("Broken")
    app.text_area(key="competition_rules_solo").input("[1, 2")
    submit_schedule(app)

    assert not app.exception
    assert "Rules is not valid JSON" in texts(app.error)
    assert count(sqlite_configured, Competition) == 0
    assert app.text_input(key=field(app, "competition_name")).value == "Broken"


def test_a_competition_ending_before_it_starts_is_refused_with_its_participants(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    (ada,) = make_agents(sqlite_configured, university_id, "Ada")
    app = open_page("competitions")
    app.text_input(key=field(app, "competition_name")).input("Backwards")
    app.multiselect(key=field(app, "competition_participants")).select(ada)
    start = app.date_input(key="competition_start_day").value
    app.date_input(key="competition_end_day").set_value(start - timedelta(days=2))
    submit_schedule(app)

    assert not app.exception
    assert "move the end after the start" in texts(app.error)
    assert count(sqlite_configured, Competition) == 0
    assert count(sqlite_configured, CompetitionParticipant) == 0


def test_starting_recording_and_completing_a_competition_from_the_page(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    agent_ids = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    competition_id = make_competition(sqlite_configured, university_id, agent_ids)
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    app.button(key="competition_start").click().run()

    assert not app.exception
    assert "Cup started" in texts(app.success)
    assert count(sqlite_configured, CompetitionMatch) == 1

    app.number_input(key=field(app, "result_score1")).set_value(3.0)
    app.number_input(key=field(app, "result_score2")).set_value(1.0)
    app.button(
        key=f"FormSubmitter:record_result_{competition_id}-Record result"
    ).click()
    app.run()
    assert not app.exception
    assert "recorded" in texts(app.success)

    app.button(key="competition_complete").click().run()
    assert not app.exception
    with read_session(sqlite_configured) as session:
        competition = session.get(Competition, competition_id)
        assert competition.status == "completed"
        assert competition.winner.name == "Ada"


def test_completing_with_unplayed_matches_is_refused_and_changes_nothing(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    agent_ids = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    competition_id = make_competition(
        sqlite_configured, university_id, agent_ids, start=True
    )
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    app.button(key="competition_complete").click().run()

    assert not app.exception
    assert app.error, "the refusal is shown"
    with read_session(sqlite_configured) as session:
        assert session.get(Competition, competition_id).status == "active"
        statuses = session.scalars(select(CompetitionMatch.status)).all()
        assert statuses == ["scheduled"]


def test_a_match_is_put_in_play_and_a_competitor_disqualified_from_the_page(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    agent_ids = make_agents(sqlite_configured, university_id, "Ada", "Bob", "Cyd")
    competition_id = make_competition(
        sqlite_configured, university_id, agent_ids, start=True
    )
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()

    app.button(key="match_start").click().run()
    assert not app.exception
    # The names as written, not lowered by the sentence's capital.
    assert "Match #1 (Bob vs Cyd) is in play." in texts(app.success)
    with read_session(sqlite_configured) as session:
        statuses = session.scalars(
            select(CompetitionMatch.status).order_by(CompetitionMatch.match_number)
        ).all()
    assert statuses == ["active", "scheduled", "scheduled"]

    with read_session(sqlite_configured) as session:
        cyd = session.scalars(
            select(CompetitionParticipant.id)
            .join(UniversityAgent)
            .where(UniversityAgent.name == "Cyd")
        ).one()
    app.selectbox(key="participant_disqualify_choice").set_value(cyd).run()
    app.button(key="participant_disqualify").click().run()
    app.button(key="participant_disqualify_confirm").click().run()
    assert not app.exception
    assert "Cyd disqualified" in texts(app.success)
    with read_session(sqlite_configured) as session:
        assert session.get(CompetitionParticipant, cyd).status == "disqualified"
        forfeit_winners = [
            m.winner_participant_id
            for m in session.scalars(select(CompetitionMatch))
            if (m.match_config or {}).get("forfeit")
        ]
    assert forfeit_winners and cyd not in forfeit_winners


def bracket_of_a_started_tournament(
    engine: Engine, *names: str, cancel: bool = False
) -> str:
    """The markdown of the competitions page opened at a tournament of the
    agents ``names``, started (seeded in that order), then cancelled with
    ``cancel``."""
    university_id = make_university(engine)
    competition_id = make_competition(
        engine,
        university_id,
        make_agents(engine, university_id, *names),
        competition_type="tournament",
        start=True,
    )
    if cancel:
        with transaction(engine) as session:
            competitions.cancel_competition(session, competition_id)
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    assert not app.exception
    return texts(app.markdown)


def test_a_tournament_shows_its_bracket_one_column_per_round(sqlite_configured):
    bracket = bracket_of_a_started_tournament(sqlite_configured, "A", "B", "C", "D")

    assert "Round 1" in bracket
    assert "A vs D" in bracket and "B vs C" in bracket


def test_a_bracket_marks_its_cancelled_matches(sqlite_configured):
    bracket = bracket_of_a_started_tournament(
        sqlite_configured, "A", "B", "C", "D", cancel=True
    )

    assert "A vs D (cancelled, not played)" in bracket


def test_a_bracket_draws_the_byes_its_matches_do_not_show(sqlite_configured):
    bracket = bracket_of_a_started_tournament(sqlite_configured, "A", "B", "C")

    assert "B vs C" in bracket
    assert "A — bye, straight into round 2" in bracket


DATA = published_data_dir()


def arena_battles(lines: int) -> bytes:
    """The first ``lines`` judgments of the real Arena-Hard battles file."""
    with open(DATA / "arena-hard-battles.jsonl", "rb") as source:
        return b"".join(source.readline() for _ in range(lines))


def test_importing_a_results_file_shows_the_report(sqlite_configured):
    make_university(sqlite_configured)
    app = open_page("competitions")
    app.file_uploader(key="import_file").upload(
        "battles.jsonl", arena_battles(30), "application/json"
    )
    app.run()
    app.text_input(key="import_name").input("Arena sample")
    app.selectbox(key="import_type").set_value("head_to_head")
    next(b for b in app.button if b.label == "Import").click()
    app.run()

    assert not app.exception
    assert "Imported battles.jsonl into 'Arena sample': 30 records read" in texts(
        app.success
    )
    assert count(sqlite_configured, CompetitionMatch) == 30
    report = app.dataframe[0].value
    assert report["records"].tolist() == [30]


def test_a_malformed_results_file_is_refused_and_nothing_is_imported(
    sqlite_configured,
):
    make_university(sqlite_configured)
    app = open_page("competitions")
    app.file_uploader(key="import_file").upload(
        "battles.csv", b"agent_a,agent_b,winner\nx,y,model_c\n", "text/csv"
    )
    app.run()
    app.text_input(key="import_name").input("Broken import")
    next(b for b in app.button if b.label == "Import").click()
    app.run()

    assert not app.exception
    assert app.error, "the refusal is shown next to the upload"
    assert count(sqlite_configured, Competition) == 0
    assert count(sqlite_configured, UniversityAgent) == 0
    assert app.text_input(key="import_name").value == "Broken import"


# -- Proposals ------------------------------------------------------------------------

CONVERSATION = {
    "messages": [
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": "4."},
    ]
}


def make_proposals(engine: Engine, university_id: str, *titles: str) -> list[str]:
    """Pending proposals drawn from one training record of agent Ada."""
    (ada,) = make_agents(engine, university_id, "Ada")
    with transaction(engine) as session:
        record = collect_training_data(
            session,
            university_id,
            agent_id=ada,
            source_type="training",
            data_type="conversation",
            raw_data=CONVERSATION,
        )
        return [
            proposals.create_proposal(
                session,
                university_id,
                title=title,
                description=f"Because of {title}.",
                expected_improvement=0.05,
                source_data_collection_id=record.id,
                generated_by="professor_agent",
            ).id
            for title in titles
        ]


def open_proposals(decider: str | None = None) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60)
    if decider is not None:
        app.session_state["proposal_decider"] = decider
    app.switch_page("pages/proposals.py")
    return app.run()


def statuses(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with read_session(engine) as session:
        return {
            p.title: (p.validation_status, p.validated_by)
            for p in session.scalars(select(ImprovementProposal))
        }


def test_proposals_page_says_where_proposals_come_from_when_empty(
    sqlite_configured,
):
    make_university(sqlite_configured)
    app = open_proposals()

    assert not app.exception
    assert "no improvement proposals yet" in texts(app.info)


def test_proposals_page_shows_only_the_selected_universitys_proposals(
    sqlite_configured,
):
    lyceum = make_university(sqlite_configured, name="Lyceum")
    academy = make_university(sqlite_configured, name="Academy")
    make_proposals(sqlite_configured, lyceum, "Lyceum idea")
    make_proposals(sqlite_configured, academy, "Academy idea")

    app = open_page("proposals", university=lyceum)

    assert not app.exception
    shown = texts(app.markdown)
    assert "Lyceum idea" in shown
    assert "Academy idea" not in shown
    assert [metric.value for metric in app.metric][:1] == ["1"]


def test_approving_a_proposal_records_who_on_both_engines(configured):
    university_id = make_university(configured)
    first, _ = make_proposals(configured, university_id, "Shorter answers", "Tools")
    app = open_proposals()
    app.sidebar.text_input(key="proposal_decider_input").input("ada@example.org")
    app.run()
    app.button(key=f"approve_{first}").click().run()

    assert not app.exception
    assert "Approved 'Shorter answers'." in texts(app.success)
    assert statuses(configured) == {
        "Shorter answers": ("approved", "ada@example.org"),
        "Tools": ("pending", None),
    }
    history = app.dataframe[0].value
    assert history[["decided_by", "decision", "title"]].values.tolist() == [
        ["ada@example.org", "approved", "Shorter answers"]
    ]


def test_deciding_without_a_name_is_refused_and_changes_nothing(sqlite_configured):
    university_id = make_university(sqlite_configured)
    (first,) = make_proposals(sqlite_configured, university_id, "Shorter answers")
    app = open_proposals()
    app.button(key=f"approve_{first}").click().run()

    assert not app.exception
    assert "Type your name or e-mail in the sidebar" in texts(app.error)
    assert statuses(sqlite_configured) == {"Shorter answers": ("pending", None)}


def test_rejecting_needs_a_reason_and_then_records_it(sqlite_configured):
    university_id = make_university(sqlite_configured)
    (first,) = make_proposals(sqlite_configured, university_id, "Shorter answers")
    app = open_proposals(decider="Bob")
    app.button(key=f"reject_{first}").click().run()

    assert not app.exception
    assert "give a reason" in texts(app.error)
    assert statuses(sqlite_configured) == {"Shorter answers": ("pending", None)}

    app.text_input(key=f"reject_reason_{first}").input("Too vague")
    app.button(key=f"reject_{first}").click().run()
    assert "Rejected 'Shorter answers'." in texts(app.success)
    assert statuses(sqlite_configured) == {"Shorter answers": ("rejected", "Bob")}
    assert app.dataframe[0].value["reason"].tolist() == ["Too vague"]


def test_bulk_approval_states_the_count_and_waits_for_confirmation(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    make_proposals(sqlite_configured, university_id, "A", "B", "C")
    app = open_proposals(decider="Bob")
    app.button(key="bulk_approve_start").click().run()

    assert not app.exception
    assert "Approve **3** pending proposals as **Bob**?" in texts(app.warning)
    assert {s for s, _ in statuses(sqlite_configured).values()} == {"pending"}

    app.button(key="bulk_approve_confirm").click().run()
    assert not app.exception
    assert "Approved 3 proposals." in texts(app.success)
    assert {s for s, _ in statuses(sqlite_configured).values()} == {"approved"}


def test_bulk_approval_refused_when_one_was_decided_meanwhile(sqlite_configured):
    university_id = make_university(sqlite_configured)
    first, _ = make_proposals(sqlite_configured, university_id, "A", "B")
    app = open_proposals(decider="Bob")
    app.button(key="bulk_approve_start").click().run()
    with transaction(sqlite_configured) as session:
        proposals.reject_proposal(
            session, first, decided_by="Carol", reason="Duplicate"
        )
    app.button(key="bulk_approve_confirm").click().run()

    assert not app.exception
    assert "already rejected by Carol" in texts(app.error)
    assert statuses(sqlite_configured) == {
        "A": ("rejected", "Carol"),
        "B": ("pending", None),
    }


def test_implementing_a_proposal_from_the_page_keeps_who_approved_it(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    (first,) = make_proposals(sqlite_configured, university_id, "A")
    with transaction(sqlite_configured) as session:
        proposals.approve_proposal(session, first, decided_by="Bob")
    app = open_proposals(decider="Bob")
    app.button(key=f"implement_{first}").click().run()
    assert "Implementation of 'A' started." in texts(app.success)

    app.button(key=f"finish_True_{first}").click().run()
    assert not app.exception
    with read_session(sqlite_configured) as session:
        proposal = session.get(ImprovementProposal, first)
        assert (proposal.validation_status, proposal.implementation_status) == (
            "implemented",
            "completed",
        )
    # The card still names the approval, not an "implemented by".
    card = texts(app.caption)
    assert "approved by Bob at" in card
    assert "implemented by" not in card
    assert "implementation completed at" in card


# -- With the demo --------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_url(sqlite_template, tmp_path_factory) -> str:
    """A SQLite database holding the demo, shared by the read-only tests."""
    path = tmp_path_factory.mktemp("demo") / "university.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    build_demo(engine, seed=0)
    engine.dispose()
    return f"sqlite:///{path}"


@pytest.fixture
def demo(demo_url, monkeypatch) -> Iterator[Engine]:
    engine = make_engine(demo_url)
    _point_app_at(engine, monkeypatch)
    yield engine
    st.cache_data.clear()
    engine.dispose()


EVERY_PAGE = [
    "overview",
    "leaderboard",
    "curriculum",
    "training_data",
    "agents",
    "competitions",
    "proposals",
    "exports",
    "universities",
]


def demo_university_ids(engine: Engine) -> list[str]:
    with read_session(engine) as session:
        return session.scalars(select(University.id).order_by(University.name)).all()


@pytest.mark.parametrize("page", EVERY_PAGE)
def test_every_page_renders_each_demo_university(demo, page):
    for university_id in demo_university_ids(demo):
        app = open_page(page, university=university_id)

        assert not app.exception, university_id
        assert not app.error, university_id
        assert app.sidebar.selectbox[0].value == university_id


# The stored codes a person would read with an underscore ("head_to_head").
CODES_WITH_UNDERSCORES = frozenset(
    code
    for name in models.__all__
    if name.endswith(("_STATUSES", "_TYPES"))
    for code in getattr(models, name)
    if "_" in code
)


def tables_not_in_words(app: AppTest) -> list[str]:
    """Every header over the page's tables that still reads as a field name,
    every table that would show a missing value as "None", and every stored
    code a table cell or a choice shows as a code instead of in words."""
    # A specialization is free text that an operator typed ("tool_use" in
    # the demo): shown as it was typed, not read as a code.
    faults = [
        f"choice {option!r} of {box.label!r}"
        for box in app.selectbox
        if box.label != "Specialization"
        for option in box.options
        if option in CODES_WITH_UNDERSCORES
    ]
    for table in app.dataframe:
        faults += [
            f"cell {value!r} of {column!r}"
            for column in table.value.columns
            if column != "specialization"
            for value in set(table.value[column].dropna().astype(str))
            if value in CODES_WITH_UNDERSCORES
        ]
        config = json.loads(table.proto.columns or "{}")
        faults += [
            f"header {column!r}"
            for column in table.value.columns
            if "_" in config.get(column, {}).get("label", column)
            and not config.get(column, {}).get("hidden")
        ]
        if table.proto.placeholder != ui.MISSING:
            faults.append(f"placeholder of {list(table.value.columns)[:3]}")
    return faults


def test_every_table_of_the_demo_is_headed_in_words_with_dashes_and_codes_in_words(
    demo,
):
    with read_session(demo) as session:
        agent = session.scalars(
            select(UniversityAgent).order_by(UniversityAgent.competition_wins.desc())
        ).first()
        competition = session.scalars(
            select(Competition)
            .where(Competition.university_id == agent.university_id)
            .order_by(Competition.name)
        ).first()
        university_id, agent_id = agent.university_id, agent.id
        competition_id = competition.id

    faults = {}
    for page in EVERY_PAGE:
        app = open_page(page, university=university_id)
        if page == "agents":
            app.selectbox(key="profile_agent").set_value(agent_id).run()
        if page == "competitions":
            app.selectbox(key="competition_open").set_value(competition_id).run()
        assert not app.exception, page
        faults[page] = tables_not_in_words(app)
        if page == "exports":
            # Each report has its own filters (the Status box differs).
            for report in app.selectbox(key="export_report").options[1:]:
                app.selectbox(key="export_report").select_index(
                    app.selectbox(key="export_report").options.index(report)
                ).run()
                faults[page] += tables_not_in_words(app)

    assert faults == {page: [] for page in EVERY_PAGE}


@pytest.mark.parametrize("page", EVERY_PAGE)
def test_every_page_on_an_empty_database_says_how_to_begin(configured, page):
    app = open_page(page)

    assert not app.exception
    assert "no university yet" in texts(app.info)


@pytest.mark.parametrize("page", EVERY_PAGE)
def test_every_page_renders_a_university_with_nothing_in_it(sqlite_configured, page):
    make_university(sqlite_configured, name="Bare U")

    app = open_page(page)

    assert not app.exception
    assert not app.error


def test_an_agent_profile_shows_its_rating_record_and_data(demo):
    with read_session(demo) as session:
        # The agent with the most pairwise wins has a rating for sure.
        agent = session.scalars(
            select(UniversityAgent).order_by(
                UniversityAgent.competition_wins.desc(), UniversityAgent.name
            )
        ).first()
        university_id, agent_id = agent.university_id, agent.id
        wins = agent.competition_wins
        agent_draws, agent_losses = agent.competition_draws, agent.competition_losses
    app = open_page("agents", university=university_id)
    app.selectbox(key="profile_agent").set_value(agent_id).run()

    assert not app.exception
    profile = texts(app.markdown)
    assert re.search(r"Rating \*\*\d+\*\* \(95% interval \d+ to \d+\), rank", profile)
    # Ranks count within the agent's comparison group, not across groups.
    assert re.search(r"rank \*\*\d+\*\* of \d+ agents in its comparison group", profile)
    # The sentence counts the matches the rating rests on: pairwise ones, not
    # solo runs, so never more than the agent's wins, draws and losses.
    rated = re.search(r"from (\d+) match(?:es)? against other agents", profile)
    assert rated and int(rated.group(1)) <= wins + agent_draws + agent_losses
    assert any(
        m.label == "W / D / L" and m.value.startswith(f"{wins} /") for m in app.metric
    )


def test_a_tournament_of_the_demo_draws_every_round(demo):
    with read_session(demo) as session:
        competition = session.scalars(
            select(Competition)
            .where(Competition.competition_type == "tournament")
            .where(Competition.status == "completed")
            .order_by(Competition.name)
        ).first()
        rounds = max(m.match_config["round"] for m in competition.matches)
        university_id, competition_id = competition.university_id, competition.id
    app = open_page("competitions", university=university_id)
    app.selectbox(key="competition_open").set_value(competition_id).run()

    assert not app.exception
    drawn = texts(app.markdown)
    assert all(f"Round {number}" in drawn for number in range(1, rounds + 1))


# -- More form paths ----------------------------------------------------------------


def test_each_page_shows_only_the_university_in_the_link(sqlite_configured):
    alpha = make_university(sqlite_configured, name="Alpha U")
    beta = make_university(sqlite_configured, name="Beta U")
    make_agents(sqlite_configured, alpha, "Alpha agent")
    (beta_agent,) = make_agents(sqlite_configured, beta, "Beta agent")
    make_competition(sqlite_configured, beta, [beta_agent], name="Beta cup")

    agents_page = open_page("agents", university=alpha)
    competitions_page = open_page("competitions", university=alpha)

    assert agents_page.dataframe[0].value["name"].tolist() == ["Alpha agent"]
    assert "Alpha U has no competitions yet" in texts(competitions_page.info)
    beta_page = open_page("competitions", university=beta)
    assert beta_page.dataframe[0].value["name"].tolist() == ["Beta cup"]


def test_creating_an_agent_enrolled_in_a_path(sqlite_configured):
    university_id = make_university(sqlite_configured)
    with transaction(sqlite_configured) as session:
        path = curriculum.create_path(session, university_id, name="Reasoning")
        curriculum.add_level(session, path.id, name="Basics", challenges=[{"q": 1}])
        path_id = path.id
    app = open_page("agents")
    app.text_input(key=field(app, "agent_name")).input("Ada")
    app.selectbox(key=field(app, "agent_path")).set_value(path_id)
    submit_agent(app)

    assert not app.exception
    assert "Agent 'Ada' created." in texts(app.success)
    assert app.dataframe[0].value["curriculum_path"].tolist() == ["Reasoning"]


def test_a_pasted_name_past_the_limit_is_kept_and_refused_with_its_length(
    sqlite_configured,
):
    # A widget limit (max_chars) would drop a pasted over-long name without a
    # word; the service's refusal says what to change.
    make_university(sqlite_configured)
    app = open_page("agents")
    app.text_input(key=field(app, "agent_name")).input("x" * 300)
    submit_agent(app)

    assert not app.exception
    assert "has 300 characters: shorten it to at most 255" in texts(app.error)
    assert app.text_input(key=field(app, "agent_name")).value == "x" * 300
    assert count(sqlite_configured, UniversityAgent) == 0


def test_a_refused_enrolment_creates_no_agent_either(sqlite_configured):
    university_id = make_university(sqlite_configured)
    with transaction(sqlite_configured) as session:
        # A path without levels takes no enrolment.
        path_id = curriculum.create_path(session, university_id, name="Empty").id
    app = open_page("agents")
    app.text_input(key=field(app, "agent_name")).input("Ada")
    app.selectbox(key=field(app, "agent_path")).set_value(path_id)
    submit_agent(app)

    assert not app.exception
    assert app.error, "the refusal is shown"
    assert count(sqlite_configured, UniversityAgent) == 0
    assert app.text_input(key=field(app, "agent_name")).value == "Ada"


def change_status(app: AppTest, agent_id: str, status: str) -> AppTest:
    app.selectbox(key="profile_agent").set_value(agent_id).run()
    app.selectbox(key=f"agent_new_status_{agent_id}").set_value(status)
    app.button(key="FormSubmitter:agent_status-Change status").click()
    return app.run()


def test_changing_an_agents_status_from_its_profile(sqlite_configured):
    university_id = make_university(sqlite_configured)
    (ada,) = make_agents(sqlite_configured, university_id, "Ada")
    app = change_status(open_page("agents"), ada, "idle")

    assert not app.exception
    assert "Ada is now idle." in texts(app.success)
    with read_session(sqlite_configured) as session:
        assert session.get(UniversityAgent, ada).status == "idle"


def test_choosing_the_status_an_agent_has_says_nothing_changed(sqlite_configured):
    university_id = make_university(sqlite_configured)
    (ada,) = make_agents(sqlite_configured, university_id, "Ada")
    app = change_status(open_page("agents"), ada, "active")

    assert "Ada is already active: nothing changed." in texts(app.success)


def test_a_success_low_on_the_page_also_shows_as_a_toast(sqlite_configured):
    university_id = make_university(sqlite_configured)
    (ada,) = make_agents(sqlite_configured, university_id, "Ada")
    app = change_status(open_page("agents"), ada, "idle")

    # The profile's settings sit far below the top, where the success box is.
    assert "Ada is now idle." in texts(app.toast)


def test_archiving_an_agent_in_an_open_competition_is_refused(sqlite_configured):
    university_id = make_university(sqlite_configured)
    ada, bob = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    make_competition(sqlite_configured, university_id, [ada, bob])
    app = change_status(open_page("agents"), ada, "archived")

    assert not app.exception
    assert "'Cup'" in texts(app.error)
    with read_session(sqlite_configured) as session:
        assert session.get(UniversityAgent, ada).status == "active"


def test_adding_a_participant_and_cancelling_a_competition(sqlite_configured):
    university_id = make_university(sqlite_configured)
    ada, bob = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    competition_id = make_competition(sqlite_configured, university_id, [ada])
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    app.selectbox(key="participant_agent").set_value(bob)
    app.button(
        key=f"FormSubmitter:add_participant_{competition_id}-Add participant"
    ).click()
    app.run()

    assert not app.exception
    assert "Bob added." in texts(app.success)
    assert count(sqlite_configured, CompetitionParticipant) == 2

    app.button(key="competition_cancel").click().run()
    # Cancelling cannot be undone: nothing changes before the confirmation.
    assert "Cancel Cup?" in texts(app.warning)
    with read_session(sqlite_configured) as session:
        assert session.get(Competition, competition_id).status == "scheduled"

    app.button(key="competition_cancel_confirm").click().run()
    assert "Cup cancelled." in texts(app.success)
    with read_session(sqlite_configured) as session:
        assert session.get(Competition, competition_id).status == "cancelled"


def play_all(engine: Engine, competition_id: str, *, complete: bool) -> None:
    """Every match of the competition won by its first side, 2 to 1."""
    with transaction(engine) as session:
        for match in session.scalars(
            select(CompetitionMatch)
            .where(CompetitionMatch.competition_id == competition_id)
            .order_by(CompetitionMatch.match_number)
        ):
            competitions.record_match_result(
                session, match.id, participant1_score=2.0, participant2_score=1.0
            )
        if complete:
            competitions.complete_competition(session, competition_id)


def test_a_result_of_a_completed_competition_is_corrected_on_the_page(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    agents = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    competition_id = make_competition(
        sqlite_configured, university_id, agents, start=True
    )
    play_all(sqlite_configured, competition_id, complete=True)
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()

    assert "Correct a result" in texts(app.markdown)
    # Every match is played: a correction is chosen, never a default.
    assert match_box(app).value is None
    with read_session(sqlite_configured) as session:
        played = session.scalars(select(CompetitionMatch.id)).one()
    match_box(app).set_value(played)
    app.number_input(key=field(app, "result_score1")).set_value(0.0)
    app.number_input(key=field(app, "result_score2")).set_value(3.0)
    app.button(
        key=f"FormSubmitter:record_result_{competition_id}-Record result"
    ).click().run()

    assert not app.exception
    with read_session(sqlite_configured) as session:
        scores = session.execute(
            select(
                CompetitionMatch.participant1_score,
                CompetitionMatch.participant2_score,
            ).where(CompetitionMatch.competition_id == competition_id)
        ).one()
        winner = session.get(Competition, competition_id).winner_agent_id
    assert tuple(scores) == (0.0, 3.0)
    assert winner == agents[1]


def test_forfeited_matches_are_not_offered_and_show_as_walkovers(sqlite_configured):
    university_id = make_university(sqlite_configured)
    agents = make_agents(sqlite_configured, university_id, *"ABCD")
    competition_id = make_competition(
        sqlite_configured,
        university_id,
        agents,
        competition_type="tournament",
        start=True,
    )
    with transaction(sqlite_configured) as session:
        dropped = session.scalars(
            select(CompetitionParticipant.id).where(
                CompetitionParticipant.competition_id == competition_id,
                CompetitionParticipant.agent_id == agents[3],
            )
        ).one()
        competitions.disqualify_participant(session, dropped)
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()

    assert not app.exception
    # Match 1 (A against the disqualified D) went to A as a walkover.
    assert match_box(app).options == ["match #2 (B vs C)"]
    assert "(walkover)" in texts(app.markdown)


def test_keeping_a_competition_at_the_cancel_question_changes_nothing(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    (ada,) = make_agents(sqlite_configured, university_id, "Ada")
    competition_id = make_competition(sqlite_configured, university_id, [ada])
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()

    app.button(key="competition_cancel").click().run()
    app.button(key="competition_cancel_keep").click().run()

    assert not app.exception
    assert not app.warning
    with read_session(sqlite_configured) as session:
        assert session.get(Competition, competition_id).status == "scheduled"


def test_the_cancel_question_is_dropped_when_no_competition_is_open(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    (ada,) = make_agents(sqlite_configured, university_id, "Ada")
    competition_id = make_competition(sqlite_configured, university_id, [ada])
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    app.button(key="competition_cancel").click().run()
    assert app.warning, "the question is asked"

    # Away to no competition and back: the question is not asked again.
    app.selectbox(key="competition_open").set_value(None).run()
    app.selectbox(key="competition_open").set_value(competition_id).run()

    assert not app.exception
    assert not app.warning
    with read_session(sqlite_configured) as session:
        assert session.get(Competition, competition_id).status == "scheduled"


def test_a_taken_seed_is_refused_and_adds_nobody(sqlite_configured):
    university_id = make_university(sqlite_configured)
    ada, bob = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    competition_id = make_competition(sqlite_configured, university_id, [ada])
    app = open_page("competitions")
    app.selectbox(key="competition_open").set_value(competition_id).run()
    app.selectbox(key="participant_agent").set_value(bob)
    app.number_input(key="participant_seed").set_value(1)
    app.button(
        key=f"FormSubmitter:add_participant_{competition_id}-Add participant"
    ).click()
    app.run()

    assert not app.exception
    assert app.error, "the refusal is shown"
    assert count(sqlite_configured, CompetitionParticipant) == 1


def test_reopening_a_rejected_proposal_needs_a_reason(sqlite_configured):
    university_id = make_university(sqlite_configured)
    (first,) = make_proposals(sqlite_configured, university_id, "A")
    with transaction(sqlite_configured) as session:
        proposals.reject_proposal(session, first, decided_by="Bob", reason="Vague")
    app = open_proposals(decider="Carol")
    app.button(key=f"reopen_{first}").click().run()

    assert "give a reason" in texts(app.error)
    assert statuses(sqlite_configured) == {"A": ("rejected", "Bob")}

    app.text_input(key=f"reopen_reason_{first}").input("New evidence")
    app.button(key=f"reopen_{first}").click().run()
    assert not app.exception
    assert "it is pending again" in texts(app.success)
    assert statuses(sqlite_configured) == {"A": ("pending", None)}


def test_retention_lists_what_is_due_then_archives_it_on_confirmation(
    sqlite_configured,
):
    make_university(sqlite_configured, name="Live U")
    old_id = make_university(sqlite_configured, name="Old U", data_retention_days=30)
    with transaction(sqlite_configured) as session:
        old = session.get(University, old_id)
        old.status = "archived"
        # Scene: archived and untouched for longer than its 30 days.
        old.last_activity_at = datetime.now(UTC) - timedelta(days=31)
    app = open_page("universities")
    next(b for b in app.button if "Dry run" in b.label).click()
    app.run()

    assert not app.exception
    assert "1 university would move to the archive." in texts(app.warning)
    assert count(sqlite_configured, University) == 2

    next(b for b in app.button if b.label.startswith("Confirm")).click()
    app.run()
    assert not app.exception
    assert "Archived 1 university." in texts(app.success)
    assert app.dataframe[0].value["name"].tolist() == ["Live U"]
    with read_session(sqlite_configured) as session:
        names = session.scalars(select(University.name)).all()
        archived = session.execute(select(universities_archive.c.name)).scalars().all()
    assert (names, archived) == (["Live U"], ["Old U"])


def test_retention_confirmation_archives_only_the_universities_listed(
    sqlite_configured,
):
    def archived_and_idle(name):
        university_id = make_university(
            sqlite_configured, name=name, data_retention_days=30
        )
        with transaction(sqlite_configured) as session:
            university = session.get(University, university_id)
            university.status = "archived"
            university.last_activity_at = datetime.now(UTC) - timedelta(days=31)

    archived_and_idle("Listed U")
    app = open_page("universities")
    next(b for b in app.button if "Dry run" in b.label).click()
    app.run()
    # Due only after the person read the list.
    archived_and_idle("Late U")

    next(b for b in app.button if b.label.startswith("Confirm")).click()
    app.run()

    assert not app.exception
    assert "Archived 1 university." in texts(app.success)
    with read_session(sqlite_configured) as session:
        live = session.scalars(select(University.name)).all()
        archived = session.execute(select(universities_archive.c.name)).scalars().all()
    assert (live, archived) == (["Late U"], ["Listed U"])


def test_enrolling_an_agent_from_its_profile(sqlite_configured):
    university_id = make_university(sqlite_configured)
    (ada,) = make_agents(sqlite_configured, university_id, "Ada")
    with transaction(sqlite_configured) as session:
        path = curriculum.create_path(session, university_id, name="Reasoning")
        curriculum.add_level(session, path.id, name="Basics", challenges=[{"q": 1}])
        path_id = path.id
    app = open_page("agents")
    app.selectbox(key="profile_agent").set_value(ada).run()
    assert "Not enrolled in a curriculum path" in texts(app.info)

    app.selectbox(key=f"enrol_path_{ada}").set_value(path_id)
    app.button(key=f"FormSubmitter:enrol_{ada}-Enrol").click().run()

    assert not app.exception
    assert "Ada enrolled in Reasoning." in texts(app.success)
    assert "Path **Reasoning**, level **1 of 1** (Basics)" in texts(app.markdown)
    with read_session(sqlite_configured) as session:
        assert session.get(UniversityAgent, ada).current_curriculum_path_id == path_id


# -- The JSON boxes ---------------------------------------------------------------

JSON_VALUES = recursive(
    none() | booleans() | integers() | text(max_size=5),
    lambda children: (
        lists(children, max_size=3)
        | dictionaries(text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=50, deadline=None)
@given(document=dictionaries(text(max_size=8), JSON_VALUES, max_size=4))
def test_a_json_box_reads_back_every_json_object(document):
    assert parse_json_object(json.dumps(document, indent=2), field="Box") == document


@settings(max_examples=30, deadline=None)
@given(value=JSON_VALUES.filter(lambda value: not isinstance(value, dict)))
def test_a_json_box_refuses_anything_but_an_object(value):
    with pytest.raises(InvalidInput, match="Box must be a JSON object"):
        parse_json_object(json.dumps(value), field="Box")


def test_an_empty_json_box_is_an_empty_object():
    assert parse_json_object("  \n", field="Box") == {}


def test_a_broken_json_box_names_the_line_and_column():
    with pytest.raises(
        InvalidInput, match=r"Box is not valid JSON: .* line 2, column 8\."
    ):
        parse_json_object('{\n  "a": ,\n}', field="Box")


def test_a_stuck_agents_profile_says_why(sqlite_configured):
    university_id = make_university(sqlite_configured)
    (ada,) = make_agents(sqlite_configured, university_id, "Ada")
    with transaction(sqlite_configured) as session:
        path = curriculum.create_path(session, university_id, name="Reasoning")
        basics = curriculum.add_level(
            session, path.id, name="Basics", challenges=[{"q": 1}], passing_score=0.5
        )
        curriculum.add_level(
            session,
            path.id,
            name="Hard",
            challenges=[{"q": 2}],
            required_competency_score=0.99,
        )
        curriculum.enrol_agent(session, ada, path.id)
        curriculum.record_challenge_result(
            session, ada, basics.id, challenge_index=0, score=0.6, minutes=5
        )
    app = open_page("agents")
    app.selectbox(key="profile_agent").set_value(ada).run()

    assert not app.exception
    stuck = texts(app.warning)
    assert "Stuck: Level 2 'Hard'" in stuck
    assert "0.99" in stuck


def test_a_bulk_confirmation_does_not_follow_a_switch_of_university(
    sqlite_configured,
):
    alpha = make_university(sqlite_configured, name="Alpha U")
    beta = make_university(sqlite_configured, name="Beta U")
    make_proposals(sqlite_configured, alpha, "A")
    make_proposals(sqlite_configured, beta, "B")
    app = open_proposals(decider="Bob")
    app.button(key="bulk_approve_start").click().run()
    assert "Approve **1** pending proposal as **Bob**?" in texts(app.warning)

    app.sidebar.selectbox(key="university_selectbox").set_value(beta).run()

    assert not app.exception
    assert not app.warning
    assert statuses(sqlite_configured) == {
        "A": ("pending", None),
        "B": ("pending", None),
    }


def test_finding_a_competition_by_name_to_open_it(sqlite_configured):
    university_id = make_university(sqlite_configured)
    (ada,) = make_agents(sqlite_configured, university_id, "Ada")
    for name in ("Spring Cup", "Autumn Cup"):
        make_competition(sqlite_configured, university_id, [ada], name=name)
    app = open_page("competitions")
    app.text_input(key="competitions_name").input("autumn").run()

    assert not app.exception
    assert app.dataframe[0].value["name"].tolist() == ["Autumn Cup"]
    assert app.selectbox(key="competition_open").options == [
        "Choose a competition",
        "Autumn Cup",
    ]


def save_agent(app: AppTest, agent_id: str) -> AppTest:
    app.button(key=f"FormSubmitter:agent_settings_{agent_id}-Save agent").click()
    return app.run()


def test_editing_an_agents_settings_from_its_profile(sqlite_configured):
    university_id = make_university(sqlite_configured)
    (ada,) = make_agents(sqlite_configured, university_id, "Ada")
    app = open_page("agents")
    app.selectbox(key="profile_agent").set_value(ada).run()
    app.text_input(key=field(app, f"edit_agent_name_{ada}")).input("Ada Lovelace")
    app.text_area(key=field(app, f"edit_agent_configuration_{ada}")).input(
        '{"tools": ["sql"]}'
    )
    save_agent(app, ada)

    assert not app.exception
    assert "Saved Ada Lovelace." in texts(app.success)
    with read_session(sqlite_configured) as session:
        agent = session.get(UniversityAgent, ada)
        assert (agent.name, agent.configuration) == ("Ada Lovelace", {"tools": ["sql"]})


def test_an_agent_renamed_to_a_taken_name_is_refused_and_kept(sqlite_configured):
    university_id = make_university(sqlite_configured)
    ada, _ = make_agents(sqlite_configured, university_id, "Ada", "Bob")
    app = open_page("agents")
    app.selectbox(key="profile_agent").set_value(ada).run()
    app.text_input(key=field(app, f"edit_agent_name_{ada}")).input("bob")
    save_agent(app, ada)

    assert not app.exception
    assert "bob" in texts(app.error).lower()
    assert app.text_input(key=field(app, f"edit_agent_name_{ada}")).value == "bob"
    with read_session(sqlite_configured) as session:
        assert session.get(UniversityAgent, ada).name == "Ada"


def test_whole_number_boxes_stop_at_the_largest_integer_the_database_stores(
    sqlite_configured,
):
    # A box without a maximum let a form send 99999999999999999999999, which
    # crashed the save (OverflowError on SQLite, out of range on PostgreSQL).
    university_id = make_university(sqlite_configured)
    (ada,) = make_agents(sqlite_configured, university_id, "Ada")
    competition_id = make_competition(sqlite_configured, university_id, [ada])
    boxes = {
        "universities": [
            "new_max_agents",
            "new_max_competitions",
            "new_storage_quota",
            "new_retention_days",
            f"edit_max_agents_{university_id}",
            f"edit_max_competitions_{university_id}",
            f"edit_storage_quota_{university_id}",
            f"edit_retention_days_{university_id}",
        ],
        "competitions": ["competition_max_participants", "participant_seed"],
    }

    for page, keys in boxes.items():
        app = open_page(page, university=university_id)
        if page == "competitions":
            app.selectbox(key="competition_open").set_value(competition_id).run()
        for key in keys:
            box = app.number_input(key=key)
            assert (key, box.max) == (key, 2_147_483_647)
            assert box.min in (0, 1)
        assert not app.exception
