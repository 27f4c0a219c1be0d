"""The read side of the Act pages (queries/agents.py, competitions.py,
proposals.py) on SQLite and PostgreSQL: every query sees one university only,
filters and paging happen in the query, and the orders the pages promise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis.strategies import text
from sqlalchemy import Engine

from university_models.db import read_session, transaction
from university_models.queries import agents as agent_queries
from university_models.queries import competitions as competition_queries
from university_models.queries import proposals as proposal_queries
from university_models.services import competitions, curriculum, proposals
from university_models.services.agents import create_agent
from university_models.services.training_data import collect_training_data
from university_models.services.universities import create_university

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CONVERSATION = {
    "messages": [
        {"role": "user", "content": "Hello?"},
        {"role": "assistant", "content": "Hello."},
    ]
}


def university(session, name: str) -> str:
    return create_university(session, name=name, owner_email="dean@example.org").id


def agents(session, university_id: str, *names: str) -> list[str]:
    return [
        create_agent(session, university_id, name=name, agent_type="student").id
        for name in names
    ]


def competition(
    session, university_id, agent_ids, *, name, competition_type="head_to_head"
) -> str:
    created = competitions.schedule_competition(
        session,
        university_id,
        name=name,
        competition_type=competition_type,
        scheduled_start=NOW,
        scheduled_end=NOW + timedelta(days=1),
    )
    for seed, agent_id in enumerate(agent_ids, start=1):
        competitions.add_participant(session, created.id, agent_id, seed_ranking=seed)
    return created.id


@pytest.fixture
def two_universities(engine: Engine) -> dict[str, str]:
    with transaction(engine) as session:
        return {"a": university(session, "Alpha U"), "b": university(session, "Beta U")}


# -- agents --------------------------------------------------------------------------


def test_the_agents_table_lists_one_university_filtered_and_paged_in_sql(
    engine, two_universities
):
    a, b = two_universities["a"], two_universities["b"]
    with transaction(engine) as session:
        agents(session, a, "Ada", "adam_x", "Bob", "Carla")
        agents(session, b, "Ada of Beta")

    with read_session(engine) as session:
        everything = agent_queries.list_agents(session, a)
        searched = agent_queries.list_agents(session, a, name_contains="AD")
        literal = agent_queries.list_agents(session, a, name_contains="_")
        page2 = agent_queries.list_agents(session, a, limit=2, offset=2)
        total = agent_queries.count_agents(session, a)
        counted = agent_queries.count_agents(session, a, name_contains="ad")

    assert everything["name"].tolist() == ["Ada", "adam_x", "Bob", "Carla"]
    assert searched["name"].tolist() == ["Ada", "adam_x"]
    assert literal["name"].tolist() == ["adam_x"]
    assert page2["name"].tolist() == ["Bob", "Carla"]
    assert (total, counted) == (4, 2)


def test_another_universitys_agent_has_no_profile_here(engine, two_universities):
    with transaction(engine) as session:
        (stranger,) = agents(session, two_universities["b"], "Stranger")

    with read_session(engine) as session:
        a = two_universities["a"]
        assert agent_queries.agent_profile(session, a, stranger) is None
        assert agent_queries.agent_curriculum_position(session, a, stranger) is None
        assert agent_queries.agent_training_summary(session, a, stranger).empty
        assert agent_queries.agent_recent_matches(session, a, stranger).empty


def test_a_profile_shows_the_curriculum_position_and_progress(engine, two_universities):
    a = two_universities["a"]
    with transaction(engine) as session:
        (ada,) = agents(session, a, "Ada")
        path = curriculum.create_path(session, a, name="Reasoning")
        curriculum.add_level(session, path.id, name="Basics", challenges=[{"q": 1}])
        curriculum.enrol_agent(session, ada, path.id)

    with read_session(engine) as session:
        profile = agent_queries.agent_profile(session, a, ada)
        position = agent_queries.agent_curriculum_position(session, a, ada)
        levels = agent_queries.agent_level_progress(session, a, ada)
        paths = agent_queries.curriculum_path_choices(session, a)

    assert (profile["curriculum_path"], profile["level_number"]) == ("Reasoning", 1)
    assert (position["path_name"], position["level_name"]) == ("Reasoning", "Basics")
    assert levels[["curriculum_path", "level_number", "status"]].values.tolist() == [
        ["Reasoning", 1, "not_started"]
    ]
    assert paths[["name", "levels"]].values.tolist() == [["Reasoning", 1]]


def test_recent_matches_name_each_outcome_from_the_agents_side(
    engine, two_universities
):
    a = two_universities["a"]
    with transaction(engine) as session:
        ada, bob, cy = agents(session, a, "Ada", "Bob", "Cy")
        league = competition(session, a, [ada, bob, cy], name="League")
        competitions.start_competition(session, league, started_at=NOW)
        matches = competition_queries.competition_matches(session, a, league)
        scores = {}
        for row in matches.itertuples():
            pair = {row.agent1, row.agent2}
            scores[frozenset(pair)] = row
        # Ada beats Bob, draws with Cy; Bob beats Cy.
        for pair, (first, second) in {
            frozenset({"Ada", "Bob"}): ("Ada", 2.0),
            frozenset({"Ada", "Cy"}): (None, 1.0),
            frozenset({"Bob", "Cy"}): ("Bob", 2.0),
        }.items():
            row = scores[pair]
            winner_is_first = first == row.agent1
            score1 = second if winner_is_first or first is None else 0.0
            score2 = 0.0 if winner_is_first else second
            if first is None:
                score1 = score2 = second
            competitions.record_match_result(
                session,
                row.id,
                participant1_score=score1,
                participant2_score=score2,
                completed_at=NOW + timedelta(hours=len(pair)),
            )
        solo = competition(session, a, [ada], name="Solo", competition_type="solo")
        competitions.start_competition(session, solo, started_at=NOW)
        (solo_match,) = competition_queries.competition_matches(session, a, solo)["id"]
        competitions.record_match_result(
            session, solo_match, participant1_score=0.9, completed_at=NOW
        )

    with read_session(engine) as session:
        record = agent_queries.agent_recent_matches(session, a, ada)
        scored = {
            name: agent_queries.agent_profile(session, a, agent)["scored_matches"]
            for name, agent in (("Ada", ada), ("Bob", bob), ("Cy", cy))
        }

    outcomes = dict(zip(record["opponent"].fillna("-"), record["outcome"], strict=True))
    assert outcomes == {"Bob": "win", "Cy": "draw", "-": "solo"}
    assert record.loc[record["outcome"] == "win", "own_score"].tolist() == [2.0]
    # Scored matches count either side of a match (a round robin of three
    # puts each agent first once and second once) and solo runs.
    assert scored == {"Ada": 3, "Bob": 2, "Cy": 2}


def test_training_summary_and_proposals_of_one_agent(engine, two_universities):
    a = two_universities["a"]
    with transaction(engine) as session:
        ada, bob = agents(session, a, "Ada", "Bob")
        records = [
            collect_training_data(
                session,
                a,
                agent_id=agent_id,
                source_type="training",
                data_type="conversation",
                raw_data=CONVERSATION,
            ).id
            for agent_id in (ada, ada, bob)
        ]
        proposals.create_proposal(
            session,
            a,
            title="From Ada",
            description="d",
            source_data_collection_id=records[0],
        )
        proposals.create_proposal(
            session,
            a,
            title="From Bob",
            description="d",
            source_data_collection_id=records[2],
        )

    with read_session(engine) as session:
        summary = agent_queries.agent_training_summary(session, a, ada)
        own = agent_queries.agent_proposals(session, a, ada)

    assert summary[["data_type", "validation_status", "records"]].values.tolist() == [
        ["conversation", "pending", 2]
    ]
    assert own["title"].tolist() == ["From Ada"]


# -- competitions ---------------------------------------------------------------------


def test_competitions_list_active_first_with_counts_of_one_university(
    engine, two_universities
):
    a, b = two_universities["a"], two_universities["b"]
    with transaction(engine) as session:
        ada, bob = agents(session, a, "Ada", "Bob")
        competition(session, a, [ada, bob], name="Later")
        running = competition(session, a, [ada, bob], name="Running")
        competitions.start_competition(session, running, started_at=NOW)
        (other,) = agents(session, b, "Other")
        competition(session, b, [other], name="Elsewhere", competition_type="solo")

    with read_session(engine) as session:
        listed = competition_queries.list_competitions(session, a)
        counts = competition_queries.competition_status_counts(session, a)
        scheduled = competition_queries.count_competitions(
            session, a, status="scheduled"
        )

    assert listed[["name", "status", "participants", "matches"]].values.tolist() == [
        ["Running", "active", 2, 1],
        ["Later", "scheduled", 2, 0],
    ]
    assert dict(counts.values.tolist()) == {
        "scheduled": 1,
        "active": 1,
        "completed": 0,
        "cancelled": 0,
    }
    assert scheduled == 1


def test_another_universitys_competition_shows_nothing_here(engine, two_universities):
    with transaction(engine) as session:
        (other,) = agents(session, two_universities["b"], "Other")
        elsewhere = competition(
            session,
            two_universities["b"],
            [other],
            name="Elsewhere",
            competition_type="solo",
        )

    with read_session(engine) as session:
        a = two_universities["a"]
        assert competition_queries.competition_detail(session, a, elsewhere) is None
        assert competition_queries.competition_participants(session, a, elsewhere).empty
        assert competition_queries.competition_matches(session, a, elsewhere).empty


def test_a_tournament_bracket_splits_matches_by_round(engine, two_universities):
    a = two_universities["a"]
    with transaction(engine) as session:
        field = agents(session, a, "S1", "S2", "S3", "S4")
        cup = competition(session, a, field, name="Cup", competition_type="tournament")
        competitions.start_competition(session, cup, started_at=NOW)

    with read_session(engine) as session:
        matches = competition_queries.competition_matches(session, a, cup)
        participants = competition_queries.competition_participants(session, a, cup)

    rounds = competition_queries.bracket_rounds(matches)
    assert list(rounds) == [1]
    pairs = {frozenset((m.agent1, m.agent2)) for m in rounds[1].itertuples()}
    assert pairs == {frozenset({"S1", "S4"}), frozenset({"S2", "S3"})}
    assert participants["seed_ranking"].tolist() == [1, 2, 3, 4]


# -- proposals ------------------------------------------------------------------------


def test_the_queue_puts_pending_first_oldest_first_and_history_newest_first(
    engine, two_universities
):
    a, b = two_universities["a"], two_universities["b"]
    with transaction(engine) as session:
        first, second, third = (
            proposals.create_proposal(session, a, title=title, description="d").id
            for title in ("First", "Second", "Third")
        )
        proposals.create_proposal(session, b, title="Elsewhere", description="d")
    with transaction(engine) as session:
        proposals.approve_proposal(session, second, decided_by="ann")
    with transaction(engine) as session:
        proposals.reject_proposal(session, third, decided_by="bo", reason="vague")

    with read_session(engine) as session:
        queue = proposal_queries.list_proposals(session, a)
        pending = proposal_queries.pending_proposal_ids(session, a)
        history = proposal_queries.decision_history(session, a)
        rejected = proposal_queries.count_proposals(
            session, a, validation_status="rejected"
        )

    assert queue["title"].tolist() == ["First", "Second", "Third"]
    assert pending == [first]
    decisions = history[["decided_by", "decision", "reason", "title"]].fillna("-")
    assert decisions.values.tolist() == [
        ["bo", "rejected", "vague", "Third"],
        ["ann", "approved", "-", "Second"],
    ]
    assert str(history["decided_at"].dt.tz) == "UTC"
    assert rejected == 1


# -- properties -----------------------------------------------------------------------

NAMES = [
    "Ada",
    "adam_x",
    "100% Bot",
    "Bob",
    "b_o_b",
    "Carla",
    "CARL%",
    "Émile",
    "émilie",
    "Ärzte Bot",
]


def test_the_name_search_is_a_literal_substring_ignoring_case_of_every_letter(
    engine, two_universities
):
    a = two_universities["a"]
    with transaction(engine) as session:
        agents(session, a, *NAMES)

    # Accented letters too: SQLite's own lower() folds ASCII letters only,
    # and the engine replaces it with one that folds every letter.
    @settings(max_examples=60, deadline=None)
    @given(term=text(alphabet="abdeilmrABDEILMR%_ 1xéÉäÄ", max_size=4))
    def search_matches_python(term: str) -> None:
        with read_session(engine) as session:
            found = agent_queries.list_agents(session, a, name_contains=term)
            counted = agent_queries.count_agents(session, a, name_contains=term)
        wanted = term.strip().lower()
        expected = sorted(
            (name for name in NAMES if wanted in name.lower()),
            key=lambda name: (name.lower(), name),
        )
        assert found["name"].tolist() == expected
        assert counted == len(expected)

    search_matches_python()


def test_competitions_are_found_by_a_literal_part_of_their_name(
    engine, two_universities
):
    a = two_universities["a"]
    with transaction(engine) as session:
        (ada,) = agents(session, a, "Ada")
        for name in ("Spring Cup", "spring_sprint", "Autumn 100%"):
            competition(session, a, [ada], name=name, competition_type="solo")

    with read_session(engine) as session:
        spring = competition_queries.list_competitions(
            session, a, name_contains="SPRING"
        )
        literal = competition_queries.list_competitions(session, a, name_contains="%")
        counted = competition_queries.count_competitions(
            session, a, name_contains="g_s"
        )

    assert sorted(spring["name"]) == ["Spring Cup", "spring_sprint"]
    assert literal["name"].tolist() == ["Autumn 100%"]
    assert counted == 1
