"""Property tests: after any sequence of results and corrections, the agents'
counters equal what the matches say (tallied here, not by the services'
formula) and the standings add up, and a tournament bracket stays a bracket,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.test_competitions import (
    counters_from_matches,
    make_scene,
    matches_of,
    record,
    started,
)
from university_models.db import read_session, transaction
from university_models.models import CompetitionParticipant, UniversityAgent
from university_models.services.agents import refresh_agent_counters
from university_models.services.competitions import disqualify_participant
from university_models.standings import compute_standings, shared_ranks

COUNTER_FIELDS = (
    "competition_wins",
    "competition_losses",
    "competition_draws",
    "average_score",
    "highest_score",
    "last_competed_at",
)

#: (index of the match, score 1, score 2); small integers so draws are common
#: and the same match is often recorded again (a correction).
results = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=11),
        st.integers(min_value=0, max_value=3),
        st.integers(min_value=0, max_value=3),
    ),
    min_size=1,
    max_size=14,
)


def counters(agent: UniversityAgent) -> tuple:
    return tuple(getattr(agent, name) for name in COUNTER_FIELDS)


def from_matches(engine, competition_id: str) -> dict[str, tuple[int, int, int]]:
    """Wins, losses and draws per agent, counted from the stored matches."""
    with read_session(engine) as session:
        agent_of = dict(
            session.execute(
                select(
                    CompetitionParticipant.id, CompetitionParticipant.agent_id
                ).where(CompetitionParticipant.competition_id == competition_id)
            ).all()
        )
    tally = defaultdict(lambda: [0, 0, 0])
    for match in matches_of(engine, competition_id):
        if match.status != "completed" or match.participant2_id is None:
            continue
        for side in (match.participant1_id, match.participant2_id):
            if match.winner_participant_id is None:
                tally[agent_of[side]][2] += 1
            elif match.winner_participant_id == side:
                tally[agent_of[side]][0] += 1
            else:
                tally[agent_of[side]][1] += 1
    return {agent: tuple(counts) for agent, counts in tally.items()}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(competition_type=st.sampled_from(["head_to_head", "solo"]), actions=results)
def test_counters_and_standings_follow_any_results_and_corrections(
    engine, competition_type, actions
):
    university_id, agents = make_scene(engine, agents=4)
    rules = {"legs": 2} if competition_type == "head_to_head" else {}
    competition_id, _ = started(
        engine, university_id, agents, competition_type=competition_type, rules=rules
    )
    matches = matches_of(engine, competition_id)

    for index, first, second in actions:
        match = matches[index % len(matches)]
        if match.participant2_id is None:
            record(engine, match.id, first)
        else:
            record(engine, match.id, first, second)

    with read_session(engine) as session:
        stored = {
            agent.id: counters(agent)
            for agent in session.scalars(
                select(UniversityAgent).where(UniversityAgent.id.in_(agents))
            )
        }
        recomputed = {
            agent_id: counters(refresh_agent_counters(session, agent_id))
            for agent_id in agents
        }
        table = compute_standings(session, competition_id)
    assert stored == recomputed

    tally = from_matches(engine, competition_id)
    for agent_id in agents:
        wins, losses, draws = stored[agent_id][:3]
        assert (wins, losses, draws) == tally.get(agent_id, (0, 0, 0))

    assert (table["points"] == 3 * table["wins"] + table["draws"]).all()
    assert table["wins"].sum() == table["losses"].sum()
    assert table["matches"].sum() == sum(
        1 + (m.participant2_id is not None)
        for m in matches_of(engine, competition_id)
        if m.status == "completed"
    )
    independent = counters_from_matches(engine, competition_id, agents)
    for agent_id in agents:
        assert stored[agent_id][:5] == pytest.approx(independent[agent_id])

    by_agent = table.set_index("agent_id")
    for agent_id in agents:
        assert by_agent.loc[agent_id, "wins"] == stored[agent_id][0]
        assert by_agent.loc[agent_id, "draws"] == stored[agent_id][2]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    count=st.integers(min_value=2, max_value=8),
    actions=results,
    disqualify_at=st.lists(st.integers(0, 13), max_size=2),
)
def test_a_bracket_stays_whole_and_counters_exact_after_any_corrections(
    engine, count, actions, disqualify_at
):
    """Results, corrections and disqualifications in any order on a
    knockout: every later-round match is played by the winners of its two
    feeders, no match is left without them, and the counters equal the
    tally of the matches."""
    university_id, agents = make_scene(engine, agents=count)
    competition_id, participants = started(
        engine,
        university_id,
        agents,
        competition_type="tournament",
        rules={"tie_break": "participant1"},
    )

    for step, (index, first, second) in enumerate(actions):
        if step in disqualify_at:
            with transaction(engine) as session:
                competitor = session.get(
                    CompetitionParticipant, participants[index % count]
                )
                if competitor.status != "disqualified":
                    disqualify_participant(session, competitor.id)
        matches = [
            m
            for m in matches_of(engine, competition_id)
            if m.status != "cancelled" and not m.match_config.get("forfeit")
        ]
        if matches:
            match = matches[index % len(matches)]
            record(engine, match.id, first, second)

    matches = matches_of(engine, competition_id)
    by_slot = {(m.match_config["round"], m.match_config["slot"]): m for m in matches}
    assert sorted(m.match_number for m in matches) == list(range(1, len(matches) + 1))
    for (round_number, slot), match in by_slot.items():
        if round_number == 1:
            continue
        for side, feeder_slot in zip(
            (match.participant1_id, match.participant2_id),
            (2 * slot, 2 * slot + 1),
            strict=True,
        ):
            feeder = by_slot.get((round_number - 1, feeder_slot))
            if feeder is None:
                # A first-round bye, or a slot nobody came out of.
                assert round_number == 2 or disqualify_at
                continue
            assert feeder.status == "completed"
            assert feeder.winner_participant_id == side
        if match.status == "completed":
            assert match.winner_participant_id in (
                match.participant1_id,
                match.participant2_id,
            )
    with read_session(engine) as session:
        stored = {
            agent.id: counters(agent)
            for agent in session.scalars(
                select(UniversityAgent).where(UniversityAgent.id.in_(agents))
            )
        }
        recomputed = {
            agent_id: counters(refresh_agent_counters(session, agent_id))
            for agent_id in agents
        }
    assert stored == recomputed
    independent = counters_from_matches(engine, competition_id, agents)
    for agent_id in agents:
        assert stored[agent_id][:5] == pytest.approx(independent[agent_id])


@settings(max_examples=50, deadline=None)
@given(
    keys=st.lists(
        st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=0, max_size=30
    )
)
def test_shared_rank_is_one_plus_the_number_of_strictly_better_rows(keys):
    ranks = shared_ranks(keys)

    assert ranks == [1 + sum(other < key for other in keys) for key in keys]
    assert all(
        (a == b) == (ka == kb)
        for a, ka in zip(ranks, keys, strict=True)
        for b, kb in zip(ranks, keys, strict=True)
    )
