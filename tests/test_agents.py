"""Agents: creation, names, configuration, quota, status rules, isolation and
the counters recomputed from matches, progress and training records, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from tests.factories import make_agent
from university_models.db import Base, new_id, read_session, transaction
from university_models.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
    StaleVersion,
)
from university_models.models import (
    AgentProgress,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    CurriculumLevel,
    CurriculumPath,
    TrainingDataCollection,
    University,
    UniversityAgent,
)
from university_models.queries.agents import agent_profile
from university_models.services.agents import (
    agent_version,
    archive_agent,
    competency_from_progress,
    create_agent,
    ensure_agents,
    get_agent,
    refresh_agent_counters,
    restore_agent,
    set_agent_status,
    update_agent,
)
from university_models.services.competitions import disqualify_participant
from university_models.services.universities import (
    create_university,
    set_university_status,
    update_university,
)


def row_counts(engine: Engine) -> dict[str, int]:
    """The number of rows of every table."""
    with read_session(engine) as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def assert_refused(engine: Engine, error: type[Exception], action, match=None):
    """``action(session)`` raises ``error`` and leaves every row count as it
    was; returns the error's message."""
    before = row_counts(engine)
    with (
        pytest.raises(error, match=match) as caught,
        transaction(engine) as session,
    ):
        action(session)
    assert row_counts(engine) == before
    return str(caught.value)


def new_university(engine: Engine, name: str = "Athena", **values) -> str:
    with transaction(engine) as session:
        return create_university(
            session, name=name, owner_email=f"{name.lower()}@example.org", **values
        ).id


def new_agent(engine: Engine, university_id: str, name: str = "Ada", **values) -> str:
    values.setdefault("agent_type", "student")
    with transaction(engine) as session:
        return create_agent(session, university_id, name=name, **values).id


def load_agent(engine: Engine, agent_id: str) -> UniversityAgent:
    """The agent's row as it is now, detached from any session."""
    with read_session(engine) as session:
        agent = session.get(UniversityAgent, agent_id)
        session.expunge(agent)
        return agent


def open_competition(session, university_id: str, *agents, status="scheduled"):
    competition = Competition(
        university_id=university_id,
        name=f"Cup {status}",
        competition_type="head_to_head",
        rules={},
        evaluation_config={},
        status=status,
    )
    session.add(competition)
    session.flush()
    for agent_id, kind in agents:
        session.add(
            CompetitionParticipant(
                competition_id=competition.id, agent_id=agent_id, participant_type=kind
            )
        )
    session.flush()
    return competition


# --- create_agent -----------------------------------------------------------


def test_create_agent_trims_the_name_and_keeps_the_configuration(engine):
    university_id = new_university(engine)

    agent_id = new_agent(
        engine,
        university_id,
        name="  Ada Lovelace ",
        agent_type="researcher",
        configuration={"llm": {"model": "m", "temperature": 0.2}, "tools": ["calc"]},
        specialization=" algebra ",
        description="First programmer",
    )

    agent = load_agent(engine, agent_id)
    assert agent.name == "Ada Lovelace"
    assert agent.agent_type == "researcher"
    assert agent.configuration == {
        "llm": {"model": "m", "temperature": 0.2},
        "tools": ["calc"],
    }
    assert agent.specialization == "algebra"
    assert agent.description == "First programmer"
    assert agent.status == "active"
    assert agent.university_id == university_id


def test_create_agent_parses_a_json_object_string_and_defaults_to_empty(engine):
    university_id = new_university(engine)

    parsed = new_agent(engine, university_id, "A", configuration='{"model": "x"}')
    empty = new_agent(engine, university_id, "B")

    assert load_agent(engine, parsed).configuration == {"model": "x"}
    assert load_agent(engine, empty).configuration == {}


def test_create_agent_accepts_every_agent_type(engine):
    university_id = new_university(engine)

    for agent_type in ("student", "instructor", "researcher", "specialist"):
        agent_id = new_agent(engine, university_id, agent_type, agent_type=agent_type)
        assert load_agent(engine, agent_id).agent_type == agent_type


#: Invalid arguments of create_agent, each with a word its refusal names.
INVALID_AGENTS = [
    ({"name": ""}, "empty"),
    ({"name": "   "}, "empty"),
    ({"name": "x" * 256}, "256 characters"),
    ({"name": None}, "None"),
    ({"agent_type": "bot"}, "'bot'"),
    ({"configuration": ["a", "b"]}, "list"),
    ({"configuration": "[1, 2]"}, "list"),
    ({"configuration": '"text"'}, "str"),
    ({"configuration": "42"}, "int"),
    ({"configuration": 3.5}, "float"),
    ({"configuration": "{not json"}, "not valid JSON"),
    ({"configuration": {"when": datetime(2025, 1, 1, tzinfo=UTC)}}, "JSON"),
    ({"specialization": "s" * 101}, "101 characters"),
    ({"description": 5}, "5"),
]


def test_create_agent_refuses_invalid_input(engine):
    university_id = new_university(engine)

    for values, named in INVALID_AGENTS:
        arguments = {"name": "Ada", "agent_type": "student", **values}
        assert_refused(
            engine,
            InvalidInput,
            lambda s, a=arguments: create_agent(s, university_id, **a),
            match=named,
        )
    assert row_counts(engine)["university_agents"] == 0


def test_create_agent_accepts_a_name_of_exactly_255_characters(engine):
    university_id = new_university(engine)

    agent_id = new_agent(engine, university_id, name="n" * 255)

    assert len(load_agent(engine, agent_id).name) == 255


def test_create_agent_refuses_a_taken_name_in_any_case(engine):
    university_id = new_university(engine)
    new_agent(engine, university_id, "Ada")

    for duplicate in ("Ada", "ada", " ADA "):
        message = assert_refused(
            engine,
            Conflict,
            lambda s, d=duplicate: create_agent(
                s, university_id, name=d, agent_type="student"
            ),
        )
        assert "'Ada'" in message


def test_create_agent_refuses_a_taken_name_in_any_case_of_accented_letters(engine):
    university_id = new_university(engine)
    new_agent(engine, university_id, "Émile Ärzt")

    message = assert_refused(
        engine,
        Conflict,
        lambda s: create_agent(
            s, university_id, name="ÉMILE ärzt", agent_type="student"
        ),
    )

    assert "'Émile Ärzt'" in message


def test_archived_agents_keep_their_names(engine):
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id, "Ada")
    with transaction(engine) as session:
        archive_agent(session, agent_id)

    assert_refused(
        engine,
        Conflict,
        lambda s: create_agent(s, university_id, name="ada", agent_type="student"),
    )


def test_the_same_agent_name_is_free_in_another_university(engine):
    athena = new_university(engine, "Athena")
    minerva = new_university(engine, "Minerva")
    new_agent(engine, athena, "Ada")

    new_agent(engine, minerva, "Ada")

    assert row_counts(engine)["university_agents"] == 2


def test_create_agent_refuses_at_max_agents_and_archived_agents_do_not_count(engine):
    university_id = new_university(engine, max_agents=2)
    first = new_agent(engine, university_id, "A")
    new_agent(engine, university_id, "B")

    message = assert_refused(
        engine,
        QuotaExceeded,
        lambda s: create_agent(s, university_id, name="C", agent_type="student"),
    )
    assert "Athena" in message and "2 agents" in message
    assert "its agent quota (max_agents) of 2" in message
    assert "raise the agent quota to add another" in message

    with transaction(engine) as session:
        archive_agent(session, first)
    new_agent(engine, university_id, "C")
    assert row_counts(engine)["university_agents"] == 3


def test_create_agent_refuses_an_unknown_university(engine):
    assert_refused(
        engine,
        NotFound,
        lambda s: create_agent(s, "nowhere", name="Ada", agent_type="student"),
        match="nowhere",
    )


# --- ensure_agents ----------------------------------------------------------


def test_ensure_agents_finds_existing_agents_and_creates_the_missing(engine):
    university_id = new_university(engine)
    ada = new_agent(engine, university_id, "Ada")

    with transaction(engine) as session:
        found = ensure_agents(
            session, university_id, ["ADA ", "gpt-4", "GPT-4", "claude"]
        )
        ids = {name: agent.id for name, agent in found.items()}
        types = {name: agent.agent_type for name, agent in found.items()}

    assert set(ids) == {"ADA ", "gpt-4", "GPT-4", "claude"}
    assert ids["ADA "] == ada
    assert ids["gpt-4"] == ids["GPT-4"]
    assert types["claude"] == "specialist"
    with read_session(engine) as session:
        names = session.scalars(
            select(UniversityAgent.name).order_by(UniversityAgent.name)
        ).all()
    assert names == ["Ada", "claude", "gpt-4"]


def test_ensure_agents_returns_archived_agents_without_restoring_them(engine):
    university_id = new_university(engine)
    ada = new_agent(engine, university_id, "Ada")
    with transaction(engine) as session:
        archive_agent(session, ada)

    with transaction(engine) as session:
        agent = ensure_agents(session, university_id, ["ada"])["ada"]
        assert (agent.id, agent.status) == (ada, "archived")


def test_ensure_agents_refuses_the_whole_batch_when_it_does_not_fit(engine):
    university_id = new_university(engine, max_agents=3)
    new_agent(engine, university_id, "Ada")

    message = assert_refused(
        engine,
        QuotaExceeded,
        lambda s: ensure_agents(s, university_id, ["Ada", "B", "C", "D"]),
    )
    assert "3 agents are missing" in message
    assert "only 2 of its 3 agent slots remain" in message
    assert "raise its agent quota (max_agents)" in message

    with transaction(engine) as session:
        ensure_agents(session, university_id, ["Ada", "B", "C"])
    assert row_counts(engine)["university_agents"] == 3


def test_ensure_agents_refuses_an_invalid_name_before_creating_any(engine):
    university_id = new_university(engine)

    assert_refused(
        engine,
        InvalidInput,
        lambda s: ensure_agents(s, university_id, ["B", "  "]),
        match="empty",
    )
    assert_refused(
        engine,
        InvalidInput,
        lambda s: ensure_agents(s, university_id, ["B"], agent_type="robot"),
        match="robot",
    )


def test_ensure_agents_with_no_names_changes_nothing(engine):
    university_id = new_university(engine)

    with transaction(engine) as session:
        assert ensure_agents(session, university_id, []) == {}

    assert row_counts(engine)["university_agents"] == 0


# --- status -----------------------------------------------------------------


def test_working_statuses_follow_one_another_freely(engine):
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id)

    for status in ("training", "competing", "idle", "active", "competing", "training"):
        with transaction(engine) as session:
            set_agent_status(session, agent_id, status)
        assert load_agent(engine, agent_id).status == status


def test_set_agent_status_refuses_an_unknown_status(engine):
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id)

    assert_refused(
        engine,
        InvalidInput,
        lambda s: set_agent_status(s, agent_id, "sleeping"),
        match="sleeping",
    )
    assert load_agent(engine, agent_id).status == "active"


def test_archiving_is_refused_while_the_agent_competes_in_an_open_competition(
    engine,
):
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id)
    with transaction(engine) as session:
        competition = open_competition(
            session, university_id, (agent_id, "competitor"), status="active"
        )
        competition_id = competition.id

    assert_refused(
        engine,
        InvalidTransition,
        lambda s: archive_agent(s, agent_id),
        match="Cup active",
    )
    assert load_agent(engine, agent_id).status == "active"

    with transaction(engine) as session:
        session.get(Competition, competition_id).status = "completed"
    with transaction(engine) as session:
        archive_agent(session, agent_id)
    assert load_agent(engine, agent_id).status == "archived"


def test_archiving_refusal_points_to_disqualification_which_unblocks_it(engine):
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id)
    with transaction(engine) as session:
        competition = open_competition(
            session, university_id, (agent_id, "competitor"), status="active"
        )
        participant_id = competition.participants[0].id

    message = assert_refused(
        engine,
        InvalidTransition,
        lambda s: archive_agent(s, agent_id),
        match="disqualify it from them",
    )
    assert "withdraw" not in message

    with transaction(engine) as session:
        disqualify_participant(session, participant_id)
    with transaction(engine) as session:
        archive_agent(session, agent_id)
    assert load_agent(engine, agent_id).status == "archived"


def test_observers_and_judges_can_be_archived_during_a_competition(engine):
    university_id = new_university(engine)
    observer = new_agent(engine, university_id, "Observer")
    judge = new_agent(engine, university_id, "Judge")
    with transaction(engine) as session:
        open_competition(
            session, university_id, (observer, "observer"), (judge, "judge")
        )

    with transaction(engine) as session:
        archive_agent(session, observer)
        archive_agent(session, judge)

    assert load_agent(engine, judge).status == "archived"


def test_an_archived_agent_comes_back_only_into_a_free_slot(engine):
    university_id = new_university(engine, max_agents=1)
    archived = new_agent(engine, university_id, "Old")
    with transaction(engine) as session:
        archive_agent(session, archived)
    new_agent(engine, university_id, "New")

    assert_refused(
        engine,
        QuotaExceeded,
        lambda s: set_agent_status(s, archived, "active"),
        match="max_agents",
    )
    assert_refused(
        engine, QuotaExceeded, lambda s: restore_agent(s, archived), match="1 agents"
    )
    assert load_agent(engine, archived).status == "archived"

    with transaction(engine) as session:
        newer = session.scalars(
            select(UniversityAgent.id).where(UniversityAgent.name == "New")
        ).one()
        archive_agent(session, newer)
        restore_agent(session, archived, status="idle", university_id=university_id)
    assert load_agent(engine, archived).status == "idle"


def test_restore_agent_refuses_an_agent_that_is_not_archived(engine):
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id)

    assert_refused(
        engine,
        InvalidTransition,
        lambda s: restore_agent(s, agent_id),
        match="not archived",
    )
    assert_refused(
        engine,
        InvalidInput,
        lambda s: restore_agent(s, agent_id, status="archived"),
        match="other than archived",
    )


# --- update_agent -----------------------------------------------------------


def test_update_agent_changes_name_description_specialization_configuration(engine):
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id, configuration={"a": 1, "b": 2})

    with transaction(engine) as session:
        update_agent(
            session,
            agent_id,
            name=" Ada II ",
            description="new",
            specialization="logic",
            configuration='{"c": 3}',
        )

    agent = load_agent(engine, agent_id)
    assert (agent.name, agent.description, agent.specialization) == (
        "Ada II",
        "new",
        "logic",
    )
    assert agent.configuration == {"c": 3}


def test_agent_description_and_specialization_with_nul_are_refused_on_both_engines(
    engine,
):
    # PostgreSQL raised psycopg.DataError for a NUL in these text columns.
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id, description="kept", specialization="x")
    refusals = {
        "description": (
            lambda s: create_agent(
                s, university_id, name="Bob", agent_type="student", description="a\x00b"
            )
        ),
        "specialization": (
            lambda s: create_agent(
                s,
                university_id,
                name="Bob",
                agent_type="student",
                specialization="\x00",
            )
        ),
        "changed description": (
            lambda s: update_agent(s, agent_id, description="line\n\x00")
        ),
        "changed specialization": (
            lambda s: update_agent(s, agent_id, specialization="lo\x00gic")
        ),
    }

    for field, action in refusals.items():
        message = assert_refused(engine, InvalidInput, action, match=r"U\+0000 \(NUL\)")
        assert field.split()[-1] in message
        assert "remove it" in message
    agent = load_agent(engine, agent_id)
    assert (agent.description, agent.specialization) == ("kept", "x")


def test_a_specialization_is_one_line_and_a_description_may_hold_line_breaks(
    engine,
):
    university_id = new_university(engine)

    assert_refused(
        engine,
        InvalidInput,
        lambda s: create_agent(
            s, university_id, name="Ada", agent_type="student", specialization="a\nb"
        ),
        match="The specialization 'a\\\\nb' holds the control character U\\+000A",
    )
    agent_id = new_agent(
        engine, university_id, description="  First\n\tSecond  ", specialization=" "
    )

    agent = load_agent(engine, agent_id)
    assert (agent.description, agent.specialization) == ("First\n\tSecond", None)


def test_update_agent_may_change_the_case_of_its_own_name(engine):
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id, "Ada")

    with transaction(engine) as session:
        update_agent(session, agent_id, name="ADA")

    assert load_agent(engine, agent_id).name == "ADA"


#: Invalid changes for update_agent: the refusal and a word it names.
INVALID_AGENT_CHANGES = [
    ({"name": "bob"}, Conflict, "'Bob'"),
    ({"name": ""}, InvalidInput, "empty"),
    ({"agent_type": "instructor"}, InvalidInput, "agent_type"),
    ({"competition_wins": 3}, InvalidInput, "competition_wins"),
    ({"configuration": []}, InvalidInput, "list"),
    ({"specialization": "s" * 101}, InvalidInput, "101"),
]


def test_update_agent_refuses_invalid_changes(engine):
    university_id = new_university(engine)
    new_agent(engine, university_id, "Bob")
    agent_id = new_agent(engine, university_id, "Ada", configuration={"a": 1})

    for changes, error, named in INVALID_AGENT_CHANGES:
        assert_refused(
            engine,
            error,
            lambda s, c=changes: update_agent(s, agent_id, **c),
            match=named,
        )
    agent = load_agent(engine, agent_id)
    assert (agent.name, agent.configuration) == ("Ada", {"a": 1})


def test_an_archived_agent_is_read_only_until_restored(engine):
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id)
    with transaction(engine) as session:
        archive_agent(session, agent_id)

    assert_refused(
        engine,
        InvalidTransition,
        lambda s: update_agent(s, agent_id, description="x"),
        match="restore it first",
    )

    with transaction(engine) as session:
        restore_agent(session, agent_id)
        update_agent(session, agent_id, description="x")
    assert load_agent(engine, agent_id).description == "x"


def shown_version(engine: Engine, university_id: str, agent_id: str) -> str:
    """The version the agent's Settings form is drawn with, read as the
    page reads it."""
    with read_session(engine) as session:
        return agent_profile(session, university_id, agent_id)["version"]


def edited_fields(engine: Engine, agent_id: str) -> tuple:
    agent = load_agent(engine, agent_id)
    return (
        agent.name,
        agent.description,
        agent.specialization,
        agent.configuration,
        agent.updated_at,
    )


def test_update_agent_refuses_a_form_drawn_before_another_save(engine):
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id, "Doc", configuration={"a": 1})
    drawn = shown_version(engine, university_id, agent_id)
    with transaction(engine) as session:
        update_agent(session, agent_id, name="Doc Scribe", seen_version=drawn)
    after_rename = edited_fields(engine, agent_id)

    message = assert_refused(
        engine,
        StaleVersion,
        lambda s: update_agent(
            s, agent_id, name="Doc", description="stale form", seen_version=drawn
        ),
    )

    assert message == (
        "Agent 'Doc Scribe' was changed by someone else after this form was "
        "opened: its current values are now shown; make your change again."
    )
    assert edited_fields(engine, agent_id) == after_rename
    assert issubclass(StaleVersion, Conflict)


def test_update_agent_saves_over_the_version_it_was_drawn_from(engine):
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id, "Doc")
    with transaction(engine) as session:
        update_agent(session, agent_id, name="Doc Scribe")

    with transaction(engine) as session:
        update_agent(
            session,
            agent_id,
            description="drawn after the rename",
            seen_version=shown_version(engine, university_id, agent_id),
        )

    agent = load_agent(engine, agent_id)
    assert (agent.name, agent.description) == ("Doc Scribe", "drawn after the rename")


def test_an_agents_version_moves_only_with_the_values_its_form_shows(engine):
    # updated_at also moves with the status and the counters (and the
    # university's with every write in it), which would refuse a form over
    # values it does not show; the version does not.
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id, configuration={"llm": {"t": 0.5}})
    drawn = shown_version(engine, university_id, agent_id)
    updated_at = load_agent(engine, agent_id).updated_at
    with transaction(engine) as session:
        set_agent_status(session, agent_id, "training")
        refresh_agent_counters(session, agent_id)

    assert load_agent(engine, agent_id).updated_at > updated_at
    assert shown_version(engine, university_id, agent_id) == drawn
    with transaction(engine) as session:
        agent = session.get(UniversityAgent, agent_id)
        assert agent_version(agent) == drawn
        # A change inside the JSON document, as the services never make it
        # but a script might.
        agent.configuration["llm"]["t"] = 0.25
    assert shown_version(engine, university_id, agent_id) != drawn


# --- isolation --------------------------------------------------------------


def test_an_agent_of_another_university_is_not_found(engine):
    athena = new_university(engine, "Athena")
    minerva = new_university(engine, "Minerva")
    agent_id = new_agent(engine, athena)

    with read_session(engine) as session:
        assert get_agent(session, athena, agent_id).id == agent_id
        with pytest.raises(NotFound, match=agent_id):
            get_agent(session, minerva, agent_id)

    assert_refused(
        engine,
        NotFound,
        lambda s: set_agent_status(s, agent_id, "idle", university_id=minerva),
    )
    assert_refused(
        engine,
        NotFound,
        lambda s: update_agent(s, agent_id, university_id=minerva, name="x"),
    )
    assert_refused(engine, NotFound, lambda s: archive_agent(s, "no-such-agent"))
    assert load_agent(engine, agent_id).status == "active"


def test_agent_writes_refuse_in_a_suspended_university(engine):
    university_id = new_university(engine)
    agent_id = new_agent(engine, university_id)
    with transaction(engine) as session:
        set_university_status(session, university_id, "suspended")

    for action in (
        lambda s: set_agent_status(s, agent_id, "idle"),
        lambda s: update_agent(s, agent_id, description="x"),
        lambda s: archive_agent(s, agent_id),
        lambda s: ensure_agents(s, university_id, ["New"]),
    ):
        assert_refused(engine, InvalidTransition, action, match="suspended")


# --- counters ---------------------------------------------------------------

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def play(session, competition, number, first, second, scores, winner, *, at=T0):
    """A completed match between participants ``first`` and ``second``."""
    match = CompetitionMatch(
        competition_id=competition.id,
        match_number=number,
        participant1_id=first.id,
        participant2_id=second.id if second is not None else None,
        match_config={},
        participant1_score=scores[0],
        participant2_score=scores[1],
        winner_participant_id=winner.id if winner is not None else None,
        status="completed",
        completed_at=at,
    )
    session.add(match)
    session.flush()
    return match


def test_counters_are_recomputed_from_matches_and_follow_a_correction(engine):
    university_id = new_university(engine)
    with transaction(engine) as session:
        ada = create_agent(session, university_id, name="Ada", agent_type="student")
        bob = create_agent(session, university_id, name="Bob", agent_type="student")
        cup = open_competition(
            session,
            university_id,
            (ada.id, "competitor"),
            (bob.id, "competitor"),
            status="active",
        )
        pa, pb = sorted(cup.participants, key=lambda p: p.agent_id != ada.id)
        play(session, cup, 1, pa, pb, (0.9, 0.4), pa, at=T0)
        play(session, cup, 2, pb, pa, (0.5, 0.5), None, at=T0 + timedelta(hours=1))
        corrected = play(
            session, cup, 3, pa, pb, (0.2, 0.7), pb, at=T0 + timedelta(hours=2)
        )
        # A scheduled match counts for nothing yet.
        session.add(
            CompetitionMatch(
                competition_id=cup.id,
                match_number=4,
                participant1_id=pa.id,
                participant2_id=pb.id,
                match_config={},
            )
        )
        refresh_agent_counters(session, ada.id)
        refresh_agent_counters(session, bob.id)
        ada_id, bob_id, corrected_id = ada.id, bob.id, corrected.id
        pa_id = pa.id

    ada = load_agent(engine, ada_id)
    assert (ada.competition_wins, ada.competition_losses, ada.competition_draws) == (
        1,
        1,
        1,
    )
    assert ada.average_score == pytest.approx((0.9 + 0.5 + 0.2) / 3)
    assert ada.highest_score == pytest.approx(0.9)
    assert ada.last_competed_at == T0 + timedelta(hours=2)
    bob = load_agent(engine, bob_id)
    assert (bob.competition_wins, bob.competition_losses, bob.competition_draws) == (
        1,
        1,
        1,
    )
    assert bob.highest_score == pytest.approx(0.7)

    with transaction(engine) as session:
        match = session.get(CompetitionMatch, corrected_id)
        match.participant1_score, match.participant2_score = 0.8, 0.7
        match.winner_participant_id = pa_id
        refresh_agent_counters(session, ada_id)
        refresh_agent_counters(session, bob_id)

    ada = load_agent(engine, ada_id)
    assert (ada.competition_wins, ada.competition_losses) == (2, 0)
    assert ada.average_score == pytest.approx((0.9 + 0.5 + 0.8) / 3)
    bob = load_agent(engine, bob_id)
    assert (bob.competition_wins, bob.competition_losses) == (0, 2)


def test_solo_matches_count_for_scores_but_not_for_wins(engine):
    university_id = new_university(engine)
    with transaction(engine) as session:
        ada = create_agent(session, university_id, name="Ada", agent_type="student")
        solo = open_competition(
            session, university_id, (ada.id, "competitor"), status="active"
        )
        (participant,) = solo.participants
        play(session, solo, 1, participant, None, (0.6, None), participant)
        play(session, solo, 2, participant, None, (0.8, None), None)
        refresh_agent_counters(session, ada.id)
        ada_id = ada.id

    ada = load_agent(engine, ada_id)
    assert (ada.competition_wins, ada.competition_losses, ada.competition_draws) == (
        0,
        0,
        0,
    )
    assert ada.average_score == pytest.approx(0.7)
    assert ada.highest_score == pytest.approx(0.8)


def test_counters_follow_training_records_and_progress(engine):
    university_id = new_university(engine)
    with transaction(engine) as session:
        ada = create_agent(session, university_id, name="Ada", agent_type="student")
        path = CurriculumPath(university_id=university_id, name="Logic")
        session.add(path)
        session.flush()
        levels = []
        for number in (1, 2, 3):
            level = CurriculumLevel(
                curriculum_path_id=path.id,
                level_number=number,
                name=f"L{number}",
                learning_objectives=["think"],
                challenges=[{"prompt": "p"}],
                challenge_count=1,
            )
            session.add(level)
            levels.append(level)
        session.flush()
        for level, status, best, average, minutes, at in (
            (levels[0], "completed", 0.9, 0.8, 30, T0),
            (levels[1], "completed", 0.7, 0.6, 45, T0 + timedelta(days=1)),
            (levels[2], "in_progress", 1.0, 1.0, 15, T0 + timedelta(days=2)),
        ):
            session.add(
                AgentProgress(
                    agent_id=ada.id,
                    curriculum_level_id=level.id,
                    total_challenges=1,
                    status=status,
                    best_score=best,
                    average_score=average,
                    time_spent_minutes=minutes,
                    last_activity_at=at,
                    challenge_results=[
                        {
                            "challenge_index": 0,
                            "score": average,
                            "minutes": minutes,
                            "recorded_at": at.isoformat(),
                            "attempt": 1,
                        }
                    ],
                )
            )
        for _ in range(3):
            session.add(
                TrainingDataCollection(
                    university_id=university_id,
                    agent_id=ada.id,
                    source_type="training",
                    data_type="reasoning",
                    raw_data={"steps": ["a"]},
                )
            )
        refresh_agent_counters(session, ada.id)
        competency = competency_from_progress(session, ada.id)
        ada_id = ada.id

    # The completed levels' results (average scores), not their best scores.
    expected = (0.8 * 1 + 0.6 * 2) / (1 + 2)
    assert competency == pytest.approx(expected)
    ada = load_agent(engine, ada_id)
    assert ada.competency_score == pytest.approx(expected)
    assert ada.training_data_collected == 3
    assert ada.training_hours == pytest.approx(90 / 60)
    assert ada.last_trained_at == T0 + timedelta(days=2)


def test_an_agent_without_records_has_zero_counters(engine):
    university_id = new_university(engine)
    with transaction(engine) as session:
        ada = make_agent(
            session,
            session.get(University, university_id),
            competition_wins=5,
            training_hours=3.0,
            competency_score=0.5,
        )
        refresh_agent_counters(session, ada.id)
        ada_id = ada.id

    ada = load_agent(engine, ada_id)
    assert (ada.competition_wins, ada.training_hours, ada.competency_score) == (
        0,
        0.0,
        0.0,
    )
    assert ada.last_competed_at is None and ada.last_trained_at is None


outcomes = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # opponent
        st.floats(min_value=0, max_value=1, allow_nan=False),
        st.floats(min_value=0, max_value=1, allow_nan=False),
        st.booleans(),  # completed or still scheduled
    ),
    max_size=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(results=outcomes)
def test_counters_equal_the_values_recomputed_from_any_matches(engine, results):
    # The engine fixture lives across examples: each example gets its own
    # university.
    university_id = new_university(engine, name=f"U-{new_id()[:8]}")
    with transaction(engine) as session:
        agents = [
            create_agent(session, university_id, name=n, agent_type="student")
            for n in ("Hero", "R1", "R2", "R3")
        ]
        cup = open_competition(
            session,
            university_id,
            *((a.id, "competitor") for a in agents),
            status="active",
        )
        by_agent = {p.agent_id: p for p in cup.participants}
        hero = by_agent[agents[0].id]
        for number, (opponent, mine, theirs, completed) in enumerate(results, 1):
            rival = by_agent[agents[opponent + 1].id]
            winner = hero if mine > theirs else rival if theirs > mine else None
            match = play(session, cup, number, hero, rival, (mine, theirs), winner)
            if not completed:
                match.status = "scheduled"
        refresh_agent_counters(session, agents[0].id)
        hero_id = agents[0].id

    played = [(m, t) for _, m, t, completed in results if completed]
    hero = load_agent(engine, hero_id)
    assert hero.competition_wins == sum(m > t for m, t in played)
    assert hero.competition_losses == sum(m < t for m, t in played)
    assert hero.competition_draws == sum(m == t for m, t in played)
    assert hero.average_score == pytest.approx(
        sum(m for m, _ in played) / len(played) if played else 0.0
    )
    assert hero.highest_score == pytest.approx(max((m for m, _ in played), default=0))


# --- quota invariant --------------------------------------------------------

NAMES = ["ada", "Ada", "BOB", "bob", "Cy", "dee", "Eve"]
actions = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.sampled_from(NAMES)),
        st.tuples(st.just("archive"), st.sampled_from(NAMES)),
        st.tuples(st.just("restore"), st.sampled_from(NAMES)),
        st.tuples(st.just("ensure"), st.lists(st.sampled_from(NAMES), max_size=4)),
        st.tuples(st.just("quota"), st.integers(min_value=1, max_value=4)),
    ),
    max_size=10,
)


def apply(session, university_id: str, action: tuple) -> None:
    kind, argument = action
    if kind == "create":
        create_agent(session, university_id, name=argument, agent_type="student")
    elif kind == "ensure":
        ensure_agents(session, university_id, argument)
    elif kind == "quota":
        update_university(session, university_id, max_agents=argument)
    else:
        agent = session.scalars(
            select(UniversityAgent).where(
                UniversityAgent.university_id == university_id,
                UniversityAgent.name == argument,
            )
        ).one_or_none()
        if agent is None:
            raise NotFound(argument)
        if kind == "archive":
            archive_agent(session, agent.id)
        else:
            restore_agent(session, agent.id)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=actions)
def test_no_sequence_of_actions_passes_the_quota_or_duplicates_a_name(engine, steps):
    university_id = new_university(engine, name=f"U-{new_id()[:8]}", max_agents=2)

    for step in steps:
        try:
            with transaction(engine) as session:
                apply(session, university_id, step)
        except (QuotaExceeded, Conflict, NotFound, InvalidTransition):
            pass

        with read_session(engine) as session:
            university = session.get(University, university_id)
            rows = session.execute(
                select(UniversityAgent.name, UniversityAgent.status).where(
                    UniversityAgent.university_id == university_id
                )
            ).all()
            in_use = sum(status != "archived" for _, status in rows)
            assert in_use <= university.max_agents
            assert university.settings["max_agents"] == university.max_agents
            names = [name.lower() for name, _ in rows]
            assert len(names) == len(set(names))
