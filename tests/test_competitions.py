"""Competitions: scheduling, participants, generated matches, results and
their corrections, completion and cancellation, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.factories import make_agent, make_university
from university_models.db import new_id, read_session, transaction
from university_models.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
)
from university_models.models import (
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    University,
    UniversityAgent,
)
from university_models.queries.competitions import bracket_byes
from university_models.services.agents import refresh_agent_counters
from university_models.services.competitions import (
    add_participant,
    bracket_positions,
    cancel_competition,
    complete_competition,
    correction_reopens,
    disqualify_participant,
    find_competition,
    match_score,
    record_match_result,
    round_robin_rounds,
    schedule_competition,
    start_competition,
    start_match,
)
from university_models.standings import compute_standings

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def window(day: int = 0, days: int = 7) -> dict[str, datetime]:
    return {
        "scheduled_start": START + timedelta(days=day),
        "scheduled_end": START + timedelta(days=day + days),
    }


def make_scene(engine, agents: int = 4, **university_values) -> tuple[str, list[str]]:
    """A university with ``agents`` agents named a0, a1, ...; their ids."""
    with transaction(engine) as session:
        university = make_university(session, **university_values)
        ids = [make_agent(session, university, name=f"a{i}").id for i in range(agents)]
        return university.id, ids


def schedule(engine, university_id: str, **values) -> str:
    values.setdefault("name", f"Cup {new_id()[:8]}")
    values.setdefault("competition_type", "head_to_head")
    for key, value in window().items():
        values.setdefault(key, value)
    with transaction(engine) as session:
        return schedule_competition(session, university_id, **values).id


def entered(
    engine, university_id: str, agent_ids: list[str], seeds=None, **values
) -> tuple[str, list[str]]:
    """A scheduled competition with every agent entered; participant ids."""
    competition_id = schedule(engine, university_id, **values)
    participant_ids = []
    with transaction(engine) as session:
        for index, agent_id in enumerate(agent_ids):
            seed = seeds[index] if seeds else None
            participant = add_participant(
                session, competition_id, agent_id, seed_ranking=seed
            )
            participant_ids.append(participant.id)
    return competition_id, participant_ids


def started(engine, university_id, agent_ids, **values) -> tuple[str, list[str]]:
    competition_id, participant_ids = entered(
        engine, university_id, agent_ids, **values
    )
    with transaction(engine) as session:
        start_competition(session, competition_id)
    return competition_id, participant_ids


MATCH_FIELDS = (
    "id",
    "match_number",
    "participant1_id",
    "participant2_id",
    "participant1_score",
    "participant2_score",
    "winner_participant_id",
    "match_config",
    "status",
    "completed_at",
)


def matches_of(engine, competition_id: str) -> list[SimpleNamespace]:
    """A snapshot of the competition's matches, by match number."""
    with read_session(engine) as session:
        matches = session.scalars(
            select(CompetitionMatch)
            .where(CompetitionMatch.competition_id == competition_id)
            .order_by(CompetitionMatch.match_number)
        )
        return [
            SimpleNamespace(**{name: getattr(m, name) for name in MATCH_FIELDS})
            for m in matches
        ]


def record(engine, match_id: str, first, second=None, **values) -> CompetitionMatch:
    with transaction(engine) as session:
        return record_match_result(
            session,
            match_id,
            participant1_score=first,
            participant2_score=second,
            **values,
        )


def agent_counters(engine, agent_id: str) -> tuple[int, int, int]:
    with read_session(engine) as session:
        agent = session.get(UniversityAgent, agent_id)
        return (
            agent.competition_wins,
            agent.competition_losses,
            agent.competition_draws,
        )


def row_counts(engine) -> dict[str, int]:
    with read_session(engine) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Competition, CompetitionParticipant, CompetitionMatch)
        }


def assert_refused(engine, error, call, match: str | None = None) -> None:
    """``call(session)`` raises ``error`` and leaves every row count as it was."""
    before = row_counts(engine)
    with pytest.raises(error, match=match), transaction(engine) as session:
        call(session)
    assert row_counts(engine) == before


def competition_status(engine, competition_id: str) -> str:
    with read_session(engine) as session:
        return session.get(Competition, competition_id).status


# --- scheduling ----------------------------------------------------------


def test_schedule_stores_a_scheduled_competition_and_accepts_json_text(engine):
    university_id, _ = make_scene(engine, agents=0)

    competition_id = schedule(
        engine,
        university_id,
        name="  Spring Cup ",
        rules='{"legs": 2, "time_limit": 30}',
        evaluation_config='{"metric": "accuracy"}',
        max_participants=6,
    )

    with read_session(engine) as session:
        competition = session.get(Competition, competition_id)
        assert competition.name == "Spring Cup"
        assert competition.status == "scheduled"
        assert competition.rules == {"legs": 2, "time_limit": 30}
        assert competition.evaluation_config == {"metric": "accuracy"}
        assert competition.scheduled_start == START
        assert competition.max_participants == 6
        assert find_competition(session, university_id, "spring cup").id == (
            competition_id
        )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "   "}, "name is empty"),
        ({"competition_type": "league"}, "'league' is unknown"),
        ({"rules": [1, 2]}, "rules must be a JSON object"),
        ({"rules": "{nope"}, "rules is not valid JSON"),
        ({"rules": {"legs": 3}}, "legs 3"),
        ({"rules": {"tie_breaks": ["luck"]}}, "'luck'"),
        ({"rules": {"points": {"win": "three"}}}, "points win 'three'"),
        ({"evaluation_config": "[]"}, "evaluation_config must be a JSON object"),
        ({"scheduled_start": datetime(2026, 3, 1)}, "has no time zone"),
        (
            {"scheduled_end": START},
            "^The start 2026-03-01 09:00 UTC is not before the end 2026-03-01 "
            "09:00 UTC: move the end after the start.$",
        ),
        ({"max_participants": 0}, r"max_participants\) 0 is below 1"),
        ({"max_participants": True}, r"max_participants\) True is not a whole"),
        ({"max_participants": 2**31}, r"max_participants\) 2147483648 is above"),
        ({"rules": {"score_range": [10, 0]}}, r"score_range \[10, 0\]"),
    ],
)
def test_schedule_refuses_bad_values(engine, values, message):
    university_id, _ = make_scene(engine, agents=0)
    arguments = {"name": "Cup", "competition_type": "solo", **window(), **values}

    assert_refused(
        engine,
        InvalidInput,
        lambda session: schedule_competition(session, university_id, **arguments),
        message,
    )


@pytest.mark.parametrize(
    ("taken", "typed"),
    [("Spring Cup", "SPRING cup"), ("Coupe Élite", "COUPE éLITE")],
    ids=["ascii", "accented"],
)
def test_a_taken_competition_name_is_a_conflict_per_university_ignoring_case(
    engine, taken, typed
):
    university_id, _ = make_scene(engine, agents=0)
    other_id, _ = make_scene(engine, agents=0)
    schedule(engine, university_id, name=taken)

    assert_refused(
        engine,
        Conflict,
        lambda session: schedule_competition(
            session,
            university_id,
            name=typed,
            competition_type="solo",
            **window(),
        ),
        f"already has a competition called {taken!r}",
    )
    schedule(engine, other_id, name=taken)


def test_schedule_refuses_past_max_concurrent_and_names_the_overlapping(engine):
    university_id, _ = make_scene(engine, agents=0, max_concurrent_competitions=2)
    cancelled = schedule(engine, university_id, name="Gone", **window(0, 30))
    with transaction(engine) as session:
        cancel_competition(session, cancelled)
    schedule(engine, university_id, name="First", **window(0, 10))
    schedule(engine, university_id, name="Second", **window(5, 10))

    assert_refused(
        engine,
        QuotaExceeded,
        lambda session: schedule_competition(
            session,
            university_id,
            name="Third",
            competition_type="solo",
            **window(8, 2),
        ),
        r"allows 2 concurrent competitions and 2 already run at 2026-03-09 09:00 "
        r"UTC \('First', 'Second'\), within the window 2026-03-09 09:00 UTC to "
        r"2026-03-11 09:00 UTC: move the window or raise its concurrent "
        r"competitions quota \(max_concurrent_competitions\)\.$",
    )
    # Windows that only touch do not overlap; a later window is free.
    schedule(engine, university_id, name="Later", **window(15, 3))
    schedule(engine, university_id, name="Touching", **window(18, 3))


def test_schedule_counts_only_competitions_running_at_the_same_moment(engine):
    university_id, _ = make_scene(engine, agents=0, max_concurrent_competitions=2)
    schedule(engine, university_id, name="Early", **window(0, 5))
    schedule(engine, university_id, name="Late", **window(10, 5))

    # Both overlap the new window, but never each other: at most two run at once.
    schedule(engine, university_id, name="Long", **window(2, 10))

    assert_refused(
        engine,
        QuotaExceeded,
        lambda session: schedule_competition(
            session,
            university_id,
            name="Another",
            competition_type="solo",
            **window(1, 20),
        ),
        r"2 already run at 2026-03-03 09:00 UTC \('Early', 'Long'\)",
    )


def test_a_suspended_university_refuses_scheduling(engine):
    university_id, _ = make_scene(engine, agents=0, status="suspended")

    assert_refused(
        engine,
        InvalidTransition,
        lambda session: schedule_competition(
            session, university_id, name="Cup", competition_type="solo", **window()
        ),
        "is suspended",
    )


def test_scheduling_marks_university_activity(engine):
    university_id, _ = make_scene(engine, agents=0)
    with read_session(engine) as session:
        before = session.get(University, university_id).last_activity_at

    schedule(engine, university_id)

    with read_session(engine) as session:
        assert session.get(University, university_id).last_activity_at > before


# --- participants --------------------------------------------------------


def test_add_participant_enters_competitors_observers_and_judges(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id = schedule(engine, university_id, max_participants=2)

    with transaction(engine) as session:
        add_participant(session, competition_id, agents[0], seed_ranking=1)
        add_participant(session, competition_id, agents[1])
        add_participant(session, competition_id, agents[2], participant_type="judge")
        add_participant(session, competition_id, agents[3], participant_type="observer")

    with read_session(engine) as session:
        types = sorted(
            session.scalars(
                select(CompetitionParticipant.participant_type).where(
                    CompetitionParticipant.competition_id == competition_id
                )
            )
        )
    assert types == ["competitor", "competitor", "judge", "observer"]


def test_add_participant_refusals_leave_rows_unchanged(engine):
    university_id, agents = make_scene(engine, agents=5)
    other_university, strangers = make_scene(engine, agents=1)
    competition_id = schedule(engine, university_id, max_participants=2)
    with transaction(engine) as session:
        add_participant(session, competition_id, agents[0], seed_ranking=1)
        session.get(UniversityAgent, agents[4]).status = "archived"

    def entering(agent_id, **values):
        return lambda session: add_participant(
            session, competition_id, agent_id, **values
        )

    assert_refused(engine, NotFound, entering("no-such-agent"), "no-such-agent")
    assert_refused(engine, NotFound, entering(strangers[0]), strangers[0])
    assert_refused(engine, InvalidInput, entering(agents[4]), "'a4' is archived")
    assert_refused(engine, InvalidInput, entering(agents[0]), "already takes part")
    assert_refused(
        engine, InvalidInput, entering(agents[1], participant_type="coach"), "coach"
    )
    assert_refused(
        engine,
        InvalidInput,
        entering(agents[1], seed_ranking=0),
        r"The seed \(seed_ranking\) 0 is below 1",
    )
    assert_refused(
        engine,
        InvalidInput,
        entering(agents[1], seed_ranking=2**31),
        r"The seed \(seed_ranking\) 2147483648 is above 2,147,483,647",
    )
    assert_refused(
        engine, InvalidInput, entering(agents[1], seed_ranking=1), "Seed 1 is already"
    )
    assert_refused(
        engine,
        InvalidInput,
        entering(agents[1], participant_type="judge", seed_ranking=2),
        "has no seed",
    )

    with transaction(engine) as session:
        add_participant(session, competition_id, agents[1])
    assert_refused(engine, QuotaExceeded, entering(agents[2]), "2 of 2 competitors")
    # Observers do not count against max_participants.
    with transaction(engine) as session:
        add_participant(session, competition_id, agents[2], participant_type="observer")

    with transaction(engine) as session:
        start_competition(session, competition_id)
    assert_refused(engine, InvalidTransition, entering(agents[3]), "is active")


def test_an_agent_of_another_university_is_not_found_and_not_named(engine):
    university_id, _ = make_scene(engine, agents=1)
    with transaction(engine) as session:
        other = make_university(session)
        stranger = make_agent(session, other, name="Secret Agent").id
    competition_id = schedule(engine, university_id)

    before = row_counts(engine)
    with pytest.raises(NotFound) as refused, transaction(engine) as session:
        add_participant(session, competition_id, stranger)
    assert row_counts(engine) == before
    message = str(refused.value)
    assert stranger in message
    assert "Secret Agent" not in message and "another university" not in message
    # The same words as for an id that exists nowhere.
    with pytest.raises(NotFound) as missing, transaction(engine) as session:
        add_participant(session, competition_id, "no-such-agent")
    assert str(missing.value) == message.replace(stranger, "no-such-agent")


def test_competition_services_refuse_another_universitys_rows_when_scoped(engine):
    university_id, agents = make_scene(engine, agents=3)
    other_id, _ = make_scene(engine, agents=0)
    scheduled_id, _ = entered(engine, university_id, agents[:2], name="Waiting")
    active_id, _ = started(engine, university_id, agents[:2], name="Running")
    match_id = matches_of(engine, active_id)[0].id

    for call in (
        lambda s: add_participant(s, scheduled_id, agents[2], university_id=other_id),
        lambda s: start_competition(s, scheduled_id, university_id=other_id),
        lambda s: record_match_result(
            s,
            match_id,
            participant1_score=1,
            participant2_score=0,
            university_id=other_id,
        ),
        lambda s: complete_competition(s, active_id, university_id=other_id),
        lambda s: cancel_competition(s, active_id, university_id=other_id),
    ):
        assert_refused(engine, NotFound, call, f"in university '{other_id}'")

    # Scoped to their own university the same calls go through.
    with transaction(engine) as session:
        add_participant(session, scheduled_id, agents[2], university_id=university_id)
        record_match_result(
            session,
            match_id,
            participant1_score=1,
            participant2_score=0,
            university_id=university_id,
        )
        complete_competition(session, active_id, university_id=university_id)
        cancel_competition(session, scheduled_id, university_id=university_id)
    assert competition_status(engine, active_id) == "completed"
    assert competition_status(engine, scheduled_id) == "cancelled"


def test_status_refusals_use_the_right_article(engine):
    university_id, _ = make_scene(engine, agents=0)
    competition_id = schedule(engine, university_id)

    assert_refused(
        engine,
        InvalidTransition,
        lambda session: complete_competition(session, competition_id),
        r"\(only an active competition can\)",
    )
    with transaction(engine) as session:
        cancel_competition(session, competition_id)
    assert_refused(
        engine,
        InvalidTransition,
        lambda session: start_competition(session, competition_id),
        r"\(only a scheduled competition can\)",
    )
    assert_refused(
        engine,
        InvalidTransition,
        lambda session: cancel_competition(session, competition_id),
        r"\(only a scheduled or active competition can\)",
    )


# --- starting ------------------------------------------------------------


def test_start_solo_gives_each_competitor_one_match_without_opponent(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, participants = entered(
        engine, university_id, agents[:2], competition_type="solo"
    )
    with transaction(engine) as session:
        add_participant(session, competition_id, agents[2], participant_type="observer")
        start_competition(session, competition_id)

    matches = matches_of(engine, competition_id)
    assert [
        (m.match_number, m.participant1_id, m.participant2_id) for m in matches
    ] == [
        (1, participants[0], None),
        (2, participants[1], None),
    ]
    with read_session(engine) as session:
        competition = session.get(Competition, competition_id)
        assert competition.status == "active"
        assert competition.actual_start is not None
        assert {p.status for p in competition.participants} == {"active"}


@pytest.mark.parametrize(("count", "legs"), [(2, 1), (5, 1), (4, 2)])
def test_round_robin_plays_every_pair_once_per_leg(engine, count, legs):
    university_id, agents = make_scene(engine, agents=count)
    competition_id, participants = started(
        engine, university_id, agents, rules={"legs": legs}
    )

    matches = matches_of(engine, competition_id)
    assert len(matches) == legs * count * (count - 1) // 2
    ordered = [(m.participant1_id, m.participant2_id) for m in matches]
    assert len(set(ordered)) == len(ordered)
    unordered = {frozenset(pair) for pair in ordered}
    assert len(unordered) == count * (count - 1) // 2
    if legs == 2:
        # The second leg swaps the sides of the first.
        assert set(ordered) == {(b, a) for a, b in ordered}
    for round_number in {m.match_config["round"] for m in matches}:
        playing = [
            side
            for m in matches
            if m.match_config["round"] == round_number
            for side in (m.participant1_id, m.participant2_id)
        ]
        assert len(playing) == len(set(playing)), "nobody plays twice in a round"


@pytest.mark.parametrize("count", range(2, 13))
def test_round_robin_balances_home_and_away(count):
    rounds = round_robin_rounds(count)
    pairs = [pair for pairs in rounds for pair in pairs]

    assert len(pairs) == count * (count - 1) // 2
    assert {frozenset(pair) for pair in pairs} == {
        frozenset((a, b)) for a in range(count) for b in range(a + 1, count)
    }
    for pairs_of_round in rounds:
        playing = [entrant for pair in pairs_of_round for entrant in pair]
        assert len(playing) == len(set(playing))
    for entrant in range(count):
        home = sum(home == entrant for home, _ in pairs)
        away = sum(away == entrant for _, away in pairs)
        assert abs(home - away) <= 1, (entrant, home, away)
        if count % 2:
            assert home == away, "an odd field is exactly balanced"


def test_round_robin_of_three_has_nobody_always_away(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, participants = started(engine, university_id, agents)

    matches = matches_of(engine, competition_id)
    for participant in participants:
        home = sum(m.participant1_id == participant for m in matches)
        away = sum(m.participant2_id == participant for m in matches)
        assert (home, away) == (1, 1)


@pytest.mark.parametrize(
    ("competition_type", "competitors", "needed"),
    [("solo", 0, 1), ("challenge", 0, 1), ("head_to_head", 1, 2), ("tournament", 1, 2)],
)
def test_start_refuses_too_few_competitors(
    engine, competition_type, competitors, needed
):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = entered(
        engine, university_id, agents[:competitors], competition_type=competition_type
    )
    with transaction(engine) as session:
        add_participant(session, competition_id, agents[1], participant_type="judge")

    assert_refused(
        engine,
        InvalidInput,
        lambda session: start_competition(session, competition_id),
        f"has {competitors} competitors .* at least {needed}",
    )
    assert competition_status(engine, competition_id) == "scheduled"


def test_start_refuses_when_university_has_max_active(engine):
    university_id, agents = make_scene(engine, agents=2, max_concurrent_competitions=1)
    started(engine, university_id, agents, name="Running", **window(0, 3))
    # Scheduled outside the running one's window, then started early.
    waiting, _ = entered(engine, university_id, agents, name="Next", **window(10, 3))

    assert_refused(
        engine,
        QuotaExceeded,
        lambda session: start_competition(session, waiting),
        "already has 1 active competitions \\('Running'\\), its concurrent "
        "competitions quota \\(max_concurrent_competitions\\): complete or cancel "
        "one first, or raise the quota.$",
    )
    assert competition_status(engine, waiting) == "scheduled"


def test_start_refuses_unless_scheduled(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(engine, university_id, agents)

    assert_refused(
        engine,
        InvalidTransition,
        lambda session: start_competition(session, competition_id),
        "is active: it cannot start",
    )


# --- tournament brackets -------------------------------------------------


def test_bracket_positions_keep_top_seeds_apart():
    assert bracket_positions(2) == [1, 2]
    assert bracket_positions(4) == [1, 4, 2, 3]
    assert bracket_positions(8) == [1, 8, 4, 5, 2, 7, 3, 6]


def _seed_of(engine, participant_id: str) -> int:
    with read_session(engine) as session:
        return session.get(CompetitionParticipant, participant_id).seed_ranking


@pytest.mark.parametrize("count", range(2, 10))
def test_bracket_gives_byes_to_top_seeds_and_creates_rounds_as_decided(engine, count):
    university_id, agents = make_scene(engine, agents=count)
    # Seeds given in reverse join order, so seeding (not join order) decides.
    seeds = list(range(count, 0, -1))
    competition_id, participants = started(
        engine, university_id, agents, seeds=seeds, competition_type="tournament"
    )
    size = 1 << (count - 1).bit_length()
    byes = size - count

    first_round = matches_of(engine, competition_id)
    round_one = [m for m in first_round if m.match_config["round"] == 1]
    assert len(round_one) == (count - byes) // 2
    # The byes, which no match shows yet, best seed first (seed s is a{count-s}).
    with read_session(engine) as session:
        assert bracket_byes(session, university_id, competition_id) == [
            f"a{count - seed}" for seed in range(1, byes + 1)
        ]
    playing_seeds = {
        _seed_of(engine, side)
        for m in round_one
        for side in (m.participant1_id, m.participant2_id)
    }
    assert playing_seeds == set(range(byes + 1, count + 1)), "top seeds have byes"
    for m in round_one:
        # The better seed is participant1 and the pair adds up as in a bracket.
        first, second = (
            _seed_of(engine, m.participant1_id),
            _seed_of(engine, m.participant2_id),
        )
        assert first < second and first + second == size + 1

    # Play it out: the better seed always wins. Each new match appears only
    # when both of its feeders are decided.
    played: set[str] = set()
    while True:
        open_matches = [
            m
            for m in matches_of(engine, competition_id)
            if m.status == "scheduled" and m.id not in played
        ]
        if not open_matches:
            break
        for m in open_matches:
            first = _seed_of(engine, m.participant1_id)
            second = _seed_of(engine, m.participant2_id)
            record(engine, m.id, 1 if first < second else 0, 0 if first < second else 1)
            played.add(m.id)

    matches = matches_of(engine, competition_id)
    rounds = (size).bit_length() - 1
    assert len(matches) == count - 1, "a knockout of n needs n - 1 matches"
    assert [m.match_number for m in matches] == list(range(1, count))
    final = [m for m in matches if m.match_config["round"] == rounds]
    assert len(final) == 1
    assert _seed_of(engine, final[0].winner_participant_id) == 1
    for m in matches:
        assert m.match_config["slot"] < size // 2 ** m.match_config["round"]


def test_a_bracket_ended_before_its_final_ranks_byes_as_round_two_and_has_no_winner(
    engine,
):
    university_id, agents = make_scene(engine, agents=5)
    # Five in a bracket of eight: seeds 1 to 3 have byes, 4 meets 5.
    competition_id, participants = started(
        engine,
        university_id,
        agents,
        seeds=[1, 2, 3, 4, 5],
        competition_type="tournament",
    )
    (first_round,) = [
        m for m in matches_of(engine, competition_id) if m.match_config["round"] == 1
    ]
    record(engine, first_round.id, 5, 2)

    with read_session(engine) as session:
        table = compute_standings(session, competition_id).set_index("agent")
    # The byes stand in round 2 with the winner of round 1, above its loser.
    assert table["stage"].to_dict() == {"a0": 2, "a1": 2, "a2": 2, "a3": 2, "a4": 1}
    assert table["rank"].to_dict() == {"a3": 1, "a0": 2, "a1": 2, "a2": 2, "a4": 5}

    with transaction(engine) as session:
        complete_competition(session, competition_id, force=True)
    with read_session(engine) as session:
        winner = session.get(Competition, competition_id).winner_agent_id
        ranking = {
            p.id: p.ranking
            for p in session.scalars(
                select(CompetitionParticipant).where(
                    CompetitionParticipant.competition_id == competition_id
                )
            )
        }
    # Nobody won the final, so nobody won the tournament.
    assert winner is None
    assert [ranking[p] for p in participants] == [2, 2, 2, 1, 5]


def test_bracket_byes_are_only_those_of_a_drawn_bracket_of_the_university(engine):
    university_id, agents = make_scene(engine, agents=3)
    other_id, _ = make_scene(engine, agents=0)
    drawn, _ = started(engine, university_id, agents, competition_type="tournament")
    waiting, _ = entered(engine, university_id, agents, competition_type="tournament")
    pairs, _ = started(engine, university_id, agents, competition_type="head_to_head")

    with read_session(engine) as session:
        assert bracket_byes(session, university_id, drawn) == ["a0"]
        assert bracket_byes(session, other_id, drawn) == []
        assert bracket_byes(session, university_id, waiting) == []
        assert bracket_byes(session, university_id, pairs) == []


def test_bracket_seeds_unseeded_competitors_after_the_seeded_in_join_order(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, participants = entered(
        engine,
        university_id,
        agents,
        seeds=[None, 3, None, 1],
        competition_type="tournament",
    )
    with transaction(engine) as session:
        start_competition(session, competition_id)

    assert [_seed_of(engine, p) for p in participants] == [4, 3, 5, 1]
    matches = matches_of(engine, competition_id)
    pairs = {
        (_seed_of(engine, m.participant1_id), _seed_of(engine, m.participant2_id))
        for m in matches
    }
    # Ranks 1..4 by seed are 1, 3, 4, 5: rank 1 meets rank 4, rank 2 rank 3.
    assert pairs == {(1, 5), (3, 4)}


# --- results -------------------------------------------------------------


def test_higher_score_wins_and_both_agents_counters_follow(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, participants = started(engine, university_id, agents)
    match = matches_of(engine, competition_id)[0]
    winner = match.participant1_id

    recorded = record(engine, match.id, 0.9, 0.4)

    assert recorded.status == "completed"
    assert recorded.winner_participant_id == winner
    assert recorded.completed_at is not None
    winner_agent = agents[participants.index(winner)]
    loser_agent = agents[1 - participants.index(winner)]
    assert agent_counters(engine, winner_agent) == (1, 0, 0)
    assert agent_counters(engine, loser_agent) == (0, 1, 0)
    with read_session(engine) as session:
        assert session.get(UniversityAgent, winner_agent).highest_score == 0.9
        assert session.get(UniversityAgent, loser_agent).average_score == 0.4


def test_lower_is_better_rule_makes_the_lower_score_win(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(
        engine, university_id, agents, rules={"score_order": "lower_is_better"}
    )
    match = matches_of(engine, competition_id)[0]

    recorded = record(engine, match.id, 12.5, 9.0)

    assert recorded.winner_participant_id == match.participant2_id


def test_equal_scores_are_a_draw_in_round_robin(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(engine, university_id, agents)
    match = matches_of(engine, competition_id)[0]

    recorded = record(engine, match.id, 2, 2)

    assert recorded.winner_participant_id is None
    assert agent_counters(engine, agents[0]) == (0, 0, 1)
    assert agent_counters(engine, agents[1]) == (0, 0, 1)


def test_explicit_winner_decides_equal_scores_but_cannot_contradict_them(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(engine, university_id, agents)
    match = matches_of(engine, competition_id)[0]

    decided = record(
        engine, match.id, 1, 1, winner_participant_id=match.participant2_id
    )
    assert decided.winner_participant_id == match.participant2_id

    assert_refused(
        engine,
        InvalidInput,
        lambda session: record_match_result(
            session,
            match.id,
            participant1_score=3,
            participant2_score=1,
            winner_participant_id=match.participant2_id,
        ),
        "Winner 'a1' has the worse score \\(3 to 1\\) in match 1 of 'Cup.*' "
        "\\('a0' and 'a1'\\)",
    )
    assert_refused(
        engine,
        InvalidInput,
        lambda session: record_match_result(
            session,
            match.id,
            participant1_score=3,
            participant2_score=1,
            winner_participant_id="someone-else",
        ),
        "'someone-else' does not play match 1 .*\\('a0' and 'a1'\\)",
    )


def test_a_winner_with_the_worse_score_is_named_by_its_agent_not_its_id(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, participants = started(engine, university_id, agents, name="Cup")
    match = next(
        m
        for m in matches_of(engine, competition_id)
        if participants[2] not in (m.participant1_id, m.participant2_id)
    )
    loser = match.participant2_id

    with pytest.raises(InvalidInput) as refused, transaction(engine) as session:
        record_match_result(
            session,
            match.id,
            participant1_score=3,
            participant2_score=1,
            winner_participant_id=loser,
        )
    message = str(refused.value)
    assert f"Winner 'a{participants.index(loser)}' has the worse" in message
    assert loser not in message

    # A participant of the competition that does not play this match is
    # named too.
    with pytest.raises(InvalidInput) as refused, transaction(engine) as session:
        record_match_result(
            session,
            match.id,
            participant1_score=3,
            participant2_score=1,
            winner_participant_id=participants[2],
        )
    assert "Winner 'a2' does not play match" in str(refused.value)


def test_elimination_match_cannot_end_drawn_without_a_tie_break(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(
        engine, university_id, agents, competition_type="tournament"
    )
    match = matches_of(engine, competition_id)[0]

    assert_refused(
        engine,
        InvalidInput,
        lambda session: record_match_result(
            session, match.id, participant1_score=1, participant2_score=1
        ),
        "cannot end drawn",
    )
    with read_session(engine) as session:
        assert session.get(CompetitionMatch, match.id).status == "scheduled"


@pytest.mark.parametrize("tie_break", ["participant1", "higher_seed"])
def test_elimination_tie_break_rule_decides_a_draw(engine, tie_break):
    university_id, agents = make_scene(engine, agents=2)
    # Seed 1 joins second, so it plays as participant1 (the better seed).
    competition_id, participants = started(
        engine,
        university_id,
        agents,
        seeds=[2, 1],
        competition_type="tournament",
        rules={"tie_break": tie_break},
    )
    match = matches_of(engine, competition_id)[0]
    assert match.participant1_id == participants[1]

    recorded = record(engine, match.id, 1, 1)

    assert recorded.winner_participant_id == participants[1]


def test_result_refusals_leave_rows_unchanged(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(engine, university_id, agents)
    solo_id, _ = started(
        engine, university_id, agents[:1], name="Solo", competition_type="solo"
    )
    pair = matches_of(engine, competition_id)[0]
    solo = matches_of(engine, solo_id)[0]

    def recording(match_id, first, second=None, **values):
        return lambda session: record_match_result(
            session,
            match_id,
            participant1_score=first,
            participant2_score=second,
            **values,
        )

    assert_refused(engine, InvalidInput, recording(pair.id, math.nan, 1), "nan")
    assert_refused(engine, InvalidInput, recording(pair.id, 1, math.inf), "inf")
    assert_refused(engine, InvalidInput, recording(pair.id, True, 1), "True")
    assert_refused(engine, InvalidInput, recording(pair.id, "3", 1), "'3'")
    assert_refused(engine, InvalidInput, recording(pair.id, 1), "participant2_score")
    assert_refused(engine, InvalidInput, recording(solo.id, 1, 2), "no opponent")
    assert_refused(
        engine,
        InvalidInput,
        recording(pair.id, 1, 0, completed_at=datetime(2026, 1, 1)),
        "no time zone",
    )
    assert_refused(engine, NotFound, recording("no-such-match", 1, 0), "no-such")
    for match in matches_of(engine, competition_id) + matches_of(engine, solo_id):
        assert match.status == "scheduled"


def test_results_are_refused_unless_the_competition_is_active(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(engine, university_id, agents)
    match = matches_of(engine, competition_id)[0]
    with transaction(engine) as session:
        cancel_competition(session, competition_id)

    assert_refused(
        engine,
        InvalidTransition,
        lambda session: record_match_result(
            session, match.id, participant1_score=1, participant2_score=0
        ),
        "is cancelled: it cannot take results",
    )


def test_a_scheduled_competition_takes_no_result(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, participants = entered(engine, university_id, agents)
    with transaction(engine) as session:
        # Only an import writes matches before the start.
        match = CompetitionMatch(
            competition_id=competition_id,
            match_number=1,
            participant1_id=participants[0],
            participant2_id=participants[1],
            match_config={},
        )
        session.add(match)
        session.flush()
        match_id = match.id

    assert_refused(
        engine,
        InvalidTransition,
        lambda session: record_match_result(
            session, match_id, participant1_score=1, participant2_score=0
        ),
        "is scheduled: it cannot take results",
    )
    assert matches_of(engine, competition_id)[0].status == "scheduled"


def test_a_cancelled_match_takes_no_result(engine):
    university_id, agents = make_scene(engine, agents=1)
    competition_id, _ = started(
        engine, university_id, agents, competition_type="challenge"
    )
    match = matches_of(engine, competition_id)[0]
    with transaction(engine) as session:
        session.get(CompetitionMatch, match.id).status = "cancelled"

    assert_refused(
        engine,
        InvalidTransition,
        lambda session: record_match_result(session, match.id, participant1_score=1),
        "Match 1 .* is cancelled",
    )


def test_solo_result_keeps_the_score_and_completed_at(engine):
    university_id, agents = make_scene(engine, agents=1)
    competition_id, _ = started(engine, university_id, agents, competition_type="solo")
    match = matches_of(engine, competition_id)[0]
    when = datetime(2025, 5, 4, 3, 2, 1, tzinfo=UTC)

    recorded = record(engine, match.id, 0.75, completed_at=when)

    assert recorded.completed_at == when
    assert recorded.winner_participant_id is None
    assert agent_counters(engine, agents[0]) == (0, 0, 0)
    with read_session(engine) as session:
        agent = session.get(UniversityAgent, agents[0])
        assert agent.average_score == 0.75
        assert agent.last_competed_at == when


def test_match_and_competition_times_in_the_future_are_refused(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = entered(engine, university_id, agents)
    next_year = datetime.now(UTC) + timedelta(days=365)

    assert_refused(
        engine,
        InvalidInput,
        lambda session: start_competition(
            session, competition_id, started_at=next_year
        ),
        "started_at .* is in the future",
    )
    with transaction(engine) as session:
        start_competition(session, competition_id)
    match = matches_of(engine, competition_id)[0]
    assert_refused(
        engine,
        InvalidInput,
        lambda session: record_match_result(
            session,
            match.id,
            participant1_score=1,
            participant2_score=0,
            completed_at=next_year,
        ),
        "completed_at .* is in the future \\(more than 5 minutes after now",
    )
    assert matches_of(engine, competition_id)[0].status == "scheduled"
    assert_refused(
        engine,
        InvalidInput,
        lambda session: complete_competition(
            session, competition_id, force=True, completed_at=next_year
        ),
        "completed_at .* is in the future",
    )

    # Within the five minutes of clock skew a time is accepted.
    soon = datetime.now(UTC) + timedelta(minutes=4)
    recorded = record(engine, match.id, 1, 0, completed_at=soon)
    assert recorded.completed_at == soon


def test_a_correction_corrects_both_agents_counters(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, participants = started(engine, university_id, agents)
    match = matches_of(engine, competition_id)[0]
    first_agent = agents[participants.index(match.participant1_id)]
    second_agent = agents[participants.index(match.participant2_id)]
    record(engine, match.id, 3, 0)

    corrected = record(engine, match.id, 0, 2)

    assert corrected.winner_participant_id == match.participant2_id
    assert agent_counters(engine, first_agent) == (0, 1, 0)
    assert agent_counters(engine, second_agent) == (1, 0, 0)
    with read_session(engine) as session:
        assert session.get(UniversityAgent, first_agent).highest_score == 0.0


def test_tournament_correction_moves_the_next_round_entrant(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, participants = started(
        engine, university_id, agents, seeds=[1, 2, 3, 4], competition_type="tournament"
    )
    semi_a, semi_b = matches_of(engine, competition_id)
    record(engine, semi_a.id, 2, 1)  # seed 1 beats seed 4
    record(engine, semi_b.id, 2, 1)  # seed 2 beats seed 3
    final = matches_of(engine, competition_id)[2]
    assert (final.participant1_id, final.participant2_id) == (
        participants[0],
        participants[1],
    )

    record(engine, semi_a.id, 0, 1)

    final = matches_of(engine, competition_id)[2]
    assert (final.participant1_id, final.participant2_id) == (
        participants[3],
        participants[1],
    )
    assert len(matches_of(engine, competition_id)) == 3


def play_out(engine, competition_id: str) -> None:
    """Record every waiting match until none is left; the better seed
    (smaller number) wins 2 to 1."""
    while True:
        waiting = [
            m for m in matches_of(engine, competition_id) if m.status == "scheduled"
        ]
        if not waiting:
            return
        for m in waiting:
            better = _seed_of(engine, m.participant1_id) < _seed_of(
                engine, m.participant2_id
            )
            record(engine, m.id, 2 if better else 1, 1 if better else 2)


def counters_by_agent(engine, agent_ids: list[str]) -> dict[str, tuple]:
    """(wins, losses, draws, average score, highest score) as stored."""
    with read_session(engine) as session:
        return {
            agent.id: (
                agent.competition_wins,
                agent.competition_losses,
                agent.competition_draws,
                agent.average_score,
                agent.highest_score,
            )
            for agent in session.scalars(
                select(UniversityAgent).where(UniversityAgent.id.in_(agent_ids))
            )
        }


def counters_from_matches(engine, competition_id: str, agent_ids) -> dict:
    """The same counters tallied here from the completed matches alone."""
    with read_session(engine) as session:
        agent_of = dict(
            session.execute(
                select(CompetitionParticipant.id, CompetitionParticipant.agent_id)
            ).all()
        )
    tally = {agent_id: [0, 0, 0, []] for agent_id in agent_ids}
    for m in matches_of(engine, competition_id):
        if m.status != "completed":
            continue
        sides = ((m.participant1_id, m.participant1_score),)
        if m.participant2_id is not None:
            sides += ((m.participant2_id, m.participant2_score),)
        for side, score in sides:
            row = tally[agent_of[side]]
            if score is not None:  # a forfeit has no scores
                row[3].append(score)
            if m.participant2_id is None:
                continue
            if m.winner_participant_id is None:
                row[2] += 1
            else:
                row[0 if m.winner_participant_id == side else 1] += 1
    return {
        agent_id: (
            wins,
            losses,
            draws,
            sum(scores) / len(scores) if scores else 0.0,
            max(scores, default=0.0),
        )
        for agent_id, (wins, losses, draws, scores) in tally.items()
    }


def assert_counters_follow_the_matches(engine, competition_id, agents) -> None:
    stored = counters_by_agent(engine, agents)
    expected = counters_from_matches(engine, competition_id, agents)
    for agent_id in agents:
        assert stored[agent_id] == pytest.approx(expected[agent_id]), agent_id


@pytest.mark.parametrize("count", [4, 8])
def test_correcting_a_first_round_result_after_the_final_reopens_the_bracket(
    engine, count
):
    university_id, agents = make_scene(engine, agents=count)
    competition_id, participants = started(
        engine,
        university_id,
        agents,
        seeds=list(range(1, count + 1)),
        competition_type="tournament",
    )
    play_out(engine, competition_id)
    played = matches_of(engine, competition_id)
    assert len(played) == count - 1 and {m.status for m in played} == {"completed"}
    top, bottom = participants[0], participants[-1]  # seeds 1 and `count`
    opener = next(m for m in played if m.participant1_id == top)
    assert opener.participant2_id == bottom and opener.match_config["round"] == 1
    reached = [
        m
        for m in played
        if m.match_config["round"] > 1 and top in (m.participant1_id, m.participant2_id)
    ]
    assert len(reached) == count.bit_length() - 2, "seed 1 won every round"
    untouched = [
        m for m in played if m.id != opener.id and m.id not in {r.id for r in reached}
    ]

    # The last seed beat seed 1 after all.
    corrected = record(engine, opener.id, 1, 3)

    # The next match is voided and kept; those further down are removed.
    assert [(r.match_id, r.removed) for r in corrected.reopened] == [
        (later.id, later is not reached[0]) for later in reached
    ]
    after = {m.id: m for m in matches_of(engine, competition_id)}
    assert after[opener.id].winner_participant_id == bottom
    second_round = after[reached[0].id]
    assert bottom in (second_round.participant1_id, second_round.participant2_id)
    assert top not in (second_round.participant1_id, second_round.participant2_id)
    assert second_round.status == "scheduled"
    assert second_round.participant1_score is None
    assert second_round.participant2_score is None
    assert second_round.winner_participant_id is None
    assert second_round.completed_at is None
    for later in reached[1:]:
        assert later.id not in after, "matches further down are removed"
    for m in untouched:
        assert after[m.id] == m, "matches elsewhere in the bracket stay as they were"
    assert_counters_follow_the_matches(engine, competition_id, agents)
    with read_session(engine) as session:
        stored = counters_by_agent(engine, agents)
        for agent_id in agents:
            refresh_agent_counters(session, agent_id)
        assert stored == counters_by_agent(engine, agents)
    assert agent_counters(engine, agents[0]) == (0, 1, 0)

    # Replayed, the bracket is whole again with match numbers 1..n - 1.
    play_out(engine, competition_id)
    final = matches_of(engine, competition_id)
    assert [m.match_number for m in final] == list(range(1, count))
    assert {m.status for m in final} == {"completed"}
    assert_counters_follow_the_matches(engine, competition_id, agents)
    with transaction(engine) as session:
        complete_competition(session, competition_id)
    with read_session(engine) as session:
        assert session.get(Competition, competition_id).winner_agent_id == agents[1]


def test_a_correction_that_keeps_the_winner_changes_only_that_match(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, _ = started(
        engine, university_id, agents, seeds=[1, 2, 3, 4], competition_type="tournament"
    )
    play_out(engine, competition_id)
    before = matches_of(engine, competition_id)

    record(engine, before[0].id, 5, 1)

    after = matches_of(engine, competition_id)
    assert after[0].participant1_score == 5
    assert after[0].winner_participant_id == before[0].winner_participant_id
    assert after[0].completed_at == before[0].completed_at, "kept on a correction"
    assert after[1:] == before[1:]


def test_a_completed_competition_takes_corrections_and_reranks(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, participants = started(engine, university_id, agents)
    strength = {
        participant: 3 - index for index, participant in enumerate(participants)
    }
    for m in matches_of(engine, competition_id):
        # The earlier entrant wins: a0 twice, a1 once.
        record(engine, m.id, strength[m.participant1_id], strength[m.participant2_id])
    with transaction(engine) as session:
        complete_competition(session, competition_id)
    with read_session(engine) as session:
        assert session.get(Competition, competition_id).winner_agent_id == agents[0]
    beaten = [
        m
        for m in matches_of(engine, competition_id)
        if m.winner_participant_id == participants[0]
    ]

    # a0's two wins were draws after all.
    for m in beaten:
        record(engine, m.id, 1, 1)

    with read_session(engine) as session:
        competition = session.get(Competition, competition_id)
        assert competition.status == "completed"
        ranked = {
            p.agent_id: (p.ranking, p.final_score) for p in competition.participants
        }
        assert competition.winner_agent_id == agents[1]
    assert ranked == {
        agents[1]: (1, 4.0),
        agents[0]: (2, 2.0),
        agents[2]: (3, 1.0),
    }
    assert_counters_follow_the_matches(engine, competition_id, agents)


def test_a_completed_tournament_refuses_a_correction_that_would_reopen_it(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, participants = started(
        engine, university_id, agents, seeds=[1, 2, 3, 4], competition_type="tournament"
    )
    play_out(engine, competition_id)
    with transaction(engine) as session:
        complete_competition(session, competition_id)
    semi, _, final = matches_of(engine, competition_id)

    assert_refused(
        engine,
        InvalidTransition,
        lambda session: record_match_result(
            session, semi.id, participant1_score=0, participant2_score=1
        ),
        "is completed: correcting match 1 would change its winner and so who "
        "plays match 3",
    )
    assert matches_of(engine, competition_id)[0] == semi

    # The final has no match after it: its winner can change, and the
    # champion follows.
    record(engine, final.id, 0, 4)
    with read_session(engine) as session:
        competition = session.get(Competition, competition_id)
        assert competition.winner_agent_id == agents[1]
        ranks = {p.id: p.ranking for p in competition.participants}
    assert ranks[participants[1]] == 1 and ranks[participants[0]] == 2


# --- what a correction would reopen ---------------------------------------


def reopens(engine, match_id: str, first, second=None, **values) -> list:
    """``correction_reopens`` in a read-only session, as a page asks it."""
    with read_session(engine) as session:
        return correction_reopens(
            session,
            match_id,
            participant1_score=first,
            participant2_score=second,
            **values,
        )


@pytest.mark.parametrize("count", [4, 8])
def test_correction_reopens_names_the_played_later_matches_when_the_winner_changes(
    engine, count
):
    university_id, agents = make_scene(engine, agents=count)
    competition_id, participants = started(
        engine,
        university_id,
        agents,
        seeds=list(range(1, count + 1)),
        competition_type="tournament",
    )
    play_out(engine, competition_id)
    before = matches_of(engine, competition_id)
    opener = next(m for m in before if m.participant1_id == participants[0])
    # Seed 1 won every round: its later matches, in bracket order.
    reached = sorted(
        (
            m
            for m in before
            if m.id != opener.id
            and participants[0] in (m.participant1_id, m.participant2_id)
        ),
        key=lambda m: m.match_config["round"],
    )

    # The last seed beat seed 1 after all.
    shown = reopens(engine, opener.id, 1, 3)

    assert [later.match_id for later in shown] == [m.id for m in reached]
    final = shown[-1]
    assert final.status == "completed"
    assert final.match_number == reached[-1].match_number
    assert (final.participant1_score, final.participant2_score) == (2.0, 1.0)
    assert final.agent1 == "a0"
    assert matches_of(engine, competition_id) == before, "the preview writes nothing"

    # Recording it discards exactly those, and says so.
    corrected = record(engine, opener.id, 1, 3)
    assert list(corrected.reopened) == shown
    # A first result (the reopened match's, again) reopens nothing.
    assert record(engine, reached[0].id, 2, 1).reopened == ()


def test_correction_reopens_a_later_match_in_play(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, _ = started(
        engine, university_id, agents, seeds=[1, 2, 3, 4], competition_type="tournament"
    )
    semi_a, semi_b = matches_of(engine, competition_id)
    record(engine, semi_a.id, 2, 1)
    record(engine, semi_b.id, 2, 1)
    final = matches_of(engine, competition_id)[2]
    with transaction(engine) as session:
        start_match(session, final.id)

    (shown,) = reopens(engine, semi_a.id, 0, 1)

    assert (shown.match_id, shown.status) == (final.id, "active")
    assert (shown.participant1_score, shown.participant2_score) == (None, None)


def test_a_correction_confirmed_against_other_reopens_is_refused_and_writes_nothing(
    engine,
):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, _ = started(
        engine, university_id, agents, seeds=[1, 2, 3, 4], competition_type="tournament"
    )
    semi_a, semi_b = matches_of(engine, competition_id)
    record(engine, semi_a.id, 2, 1)
    record(engine, semi_b.id, 2, 1)
    final = matches_of(engine, competition_id)[2]
    record(engine, final.id, 2, 1)
    asked = reopens(engine, semi_a.id, 0, 1)
    # The final is corrected after the question was asked.
    record(engine, final.id, 0, 3)
    before = matches_of(engine, competition_id)

    assert_refused(
        engine,
        Conflict,
        lambda session: record_match_result(
            session,
            semi_a.id,
            participant1_score=0,
            participant2_score=1,
            expected_reopens=asked,
        ),
        r"would now reopen match 3 \(played 0 – 3\), not what you confirmed",
    )
    assert matches_of(engine, competition_id) == before

    # Confirmed against what stands now, it is recorded.
    current = reopens(engine, semi_a.id, 0, 1)
    with transaction(engine) as session:
        corrected = record_match_result(
            session,
            semi_a.id,
            participant1_score=0,
            participant2_score=1,
            expected_reopens=current,
        )
        assert list(corrected.reopened) == current


def test_correction_reopens_nothing_when_the_later_match_is_unplayed(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, _ = started(
        engine, university_id, agents, seeds=[1, 2, 3, 4], competition_type="tournament"
    )
    semi_a, semi_b = matches_of(engine, competition_id)
    record(engine, semi_a.id, 2, 1)
    record(engine, semi_b.id, 2, 1)

    assert reopens(engine, semi_a.id, 0, 1) == []
    assert reopens(engine, semi_b.id, 2, 1) == [], "a first result"


def test_correction_reopens_nothing_when_the_winner_stays(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, participants = started(
        engine, university_id, agents, seeds=[1, 2, 3, 4], competition_type="tournament"
    )
    play_out(engine, competition_id)
    semi = matches_of(engine, competition_id)[0]

    assert reopens(engine, semi.id, 5, 0) == []
    assert reopens(engine, semi.id, 1, 1, winner_participant_id=participants[0]) == []
    assert record(engine, semi.id, 5, 0).reopened == ()


def test_correction_reopens_nothing_in_a_round_robin(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, _ = started(engine, university_id, agents)
    for m in matches_of(engine, competition_id):
        record(engine, m.id, 2, 1)
    first = matches_of(engine, competition_id)[0]

    assert reopens(engine, first.id, 0, 3) == []
    assert reopens(engine, first.id, 1, 1) == []
    assert record(engine, first.id, 0, 3).reopened == ()


def test_correction_reopens_refuses_as_record_match_result_does(engine):
    university_id, agents = make_scene(engine, agents=4)
    other_university, _ = make_scene(engine, agents=0)
    competition_id, participants = started(
        engine, university_id, agents, seeds=[1, 2, 3, 4], competition_type="tournament"
    )
    done_id, _ = started(
        engine,
        university_id,
        agents,
        seeds=[1, 2, 3, 4],
        competition_type="tournament",
        name="Done",
    )
    play_out(engine, competition_id)
    play_out(engine, done_id)
    with transaction(engine) as session:
        complete_competition(session, done_id)
    semi = matches_of(engine, competition_id)[0]
    done_semi = matches_of(engine, done_id)[0]
    bad_results = [
        (semi.id, {"participant1_score": math.nan, "participant2_score": 1}),
        (semi.id, {"participant1_score": 1}),
        (semi.id, {"participant1_score": 1, "participant2_score": 1e12}),
        (
            semi.id,
            {
                "participant1_score": 3,
                "participant2_score": 1,
                "winner_participant_id": participants[3],
            },
        ),
        (semi.id, {"participant1_score": 1, "participant2_score": 0}, other_university),
        ("no-such-match", {"participant1_score": 1, "participant2_score": 0}),
        (done_semi.id, {"participant1_score": 0, "participant2_score": 1}),
    ]
    before = matches_of(engine, competition_id) + matches_of(engine, done_id)

    for match_id, result, *scope in bad_results:
        scoped = {"university_id": scope[0]} if scope else {}
        with pytest.raises(Exception) as recorded, transaction(engine) as session:
            record_match_result(session, match_id, **result, **scoped)
        with pytest.raises(recorded.type) as previewed, read_session(engine) as session:
            correction_reopens(session, match_id, **result, **scoped)
        assert str(previewed.value) == str(recorded.value)
        assert isinstance(recorded.value, InvalidInput | InvalidTransition | NotFound)
    assert "would change its winner and so who plays match 3" in str(previewed.value)
    assert matches_of(engine, competition_id) + matches_of(engine, done_id) == before


def test_a_tournament_match_outside_the_bracket_generates_no_bracket(engine):
    """Imported tournaments hold the matches of the file, without slots:
    recording one must not fill in a bracket of generated matches."""
    university_id, agents = make_scene(engine, agents=4)
    competition_id, participants = entered(
        engine, university_id, agents, competition_type="tournament"
    )
    with transaction(engine) as session:
        # What the importer does: the matches were played elsewhere.
        session.get(Competition, competition_id).status = "active"
        match = CompetitionMatch(
            competition_id=competition_id,
            match_number=1,
            participant1_id=participants[2],
            participant2_id=participants[3],
            match_config={"round": "Final"},
        )
        session.add(match)
        session.flush()
        match_id = match.id

    record(engine, match_id, 1, 1, winner_participant_id=participants[3])

    matches = matches_of(engine, competition_id)
    assert [(m.id, m.winner_participant_id) for m in matches] == [
        (match_id, participants[3])
    ]


# --- matches in play and disqualification --------------------------------


def participant_state(engine, participant_id: str) -> tuple:
    with read_session(engine) as session:
        p = session.get(CompetitionParticipant, participant_id)
        return p.status, p.ranking, p.final_score


def disqualify(engine, participant_id: str, **values) -> None:
    with transaction(engine) as session:
        disqualify_participant(session, participant_id, **values)


def test_start_match_puts_a_scheduled_match_in_play(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(engine, university_id, agents)
    match = matches_of(engine, competition_id)[0]
    kickoff = datetime.now(UTC) - timedelta(hours=1)

    with transaction(engine) as session:
        start_match(session, match.id, started_at=kickoff)

    with read_session(engine) as session:
        stored = session.get(CompetitionMatch, match.id)
        assert (stored.status, stored.started_at) == ("active", kickoff)
    assert agent_counters(engine, agents[0]) == (0, 0, 0), "in play counts nothing"
    assert_refused(
        engine,
        InvalidTransition,
        lambda session: start_match(session, match.id),
        "Match 1 .* is active: only a scheduled match can start",
    )
    assert_refused(
        engine,
        InvalidInput,
        lambda session: record_match_result(
            session,
            match.id,
            participant1_score=1,
            participant2_score=0,
            completed_at=kickoff - timedelta(minutes=1),
        ),
        "is before match 1 .* started",
    )

    recorded = record(engine, match.id, 1, 0)
    assert recorded.status == "completed" and recorded.started_at == kickoff
    assert_refused(
        engine,
        InvalidTransition,
        lambda session: start_match(session, match.id),
        "is completed: only a scheduled match can start",
    )


def test_start_match_refusals_leave_rows_unchanged(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, participants = entered(engine, university_id, agents)
    other_id, _ = make_scene(engine, agents=0)
    with transaction(engine) as session:
        # Only an import writes matches before the start.
        session.add(
            CompetitionMatch(
                competition_id=competition_id,
                match_number=1,
                participant1_id=participants[0],
                participant2_id=participants[1],
                match_config={},
            )
        )
    waiting = matches_of(engine, competition_id)[0]

    assert_refused(
        engine,
        InvalidTransition,
        lambda session: start_match(session, waiting.id),
        "is scheduled: it cannot put matches in play",
    )
    running_id, _ = started(engine, university_id, agents, name="Running")
    match = matches_of(engine, running_id)[0]
    assert_refused(
        engine,
        InvalidInput,
        lambda session: start_match(
            session, match.id, started_at=datetime.now(UTC) + timedelta(days=1)
        ),
        "is in the future",
    )
    assert_refused(
        engine,
        NotFound,
        lambda session: start_match(session, match.id, university_id=other_id),
        match.id,
    )
    assert matches_of(engine, running_id)[0].status == "scheduled"


def test_disqualifying_in_a_round_robin_forfeits_unplayed_matches_only(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, participants = started(engine, university_id, agents)
    cheat = participants[0]
    played, unplayed = [
        m
        for m in matches_of(engine, competition_id)
        if cheat in (m.participant1_id, m.participant2_id)
    ]
    beaten = ({played.participant1_id, played.participant2_id} - {cheat}).pop()
    awarded = ({unplayed.participant1_id, unplayed.participant2_id} - {cheat}).pop()
    # The cheat wins its first match, and its second is in play.
    record(
        engine,
        played.id,
        3 if played.participant1_id == cheat else 0,
        0 if played.participant1_id == cheat else 3,
    )
    with transaction(engine) as session:
        start_match(session, unplayed.id)

    disqualify(engine, cheat, university_id=university_id)

    after = {m.id: m for m in matches_of(engine, competition_id)}
    assert after[played.id].status == "completed", "played results stand"
    assert after[played.id].winner_participant_id == cheat
    forfeit = after[unplayed.id]
    assert (forfeit.status, forfeit.winner_participant_id) == ("completed", awarded)
    assert (forfeit.participant1_score, forfeit.participant2_score) == (None, None)
    assert forfeit.match_config["forfeit"] is True
    assert participant_state(engine, cheat)[0] == "disqualified"
    assert agent_counters(engine, agents[0]) == (1, 1, 0)
    assert agent_counters(engine, agents[participants.index(awarded)]) == (1, 0, 0)
    assert_counters_follow_the_matches(engine, competition_id, agents)
    assert_refused(
        engine,
        InvalidTransition,
        lambda session: record_match_result(
            session, unplayed.id, participant1_score=1, participant2_score=0
        ),
        "won by forfeit when 'a0' was disqualified",
    )

    last = next(
        m for m in matches_of(engine, competition_id) if m.status == "scheduled"
    )
    record(engine, last.id, 1, 1)
    with transaction(engine) as session:
        complete_competition(session, competition_id)

    # Points: the cheat 3 (not ranked), the forfeit's winner 3 + 1, the
    # beaten one 0 + 1.
    assert participant_state(engine, cheat) == ("disqualified", None, None)
    assert participant_state(engine, awarded) == ("completed", 1, 4.0)
    assert participant_state(engine, beaten) == ("completed", 2, 1.0)
    with read_session(engine) as session:
        winner = session.get(Competition, competition_id).winner_agent_id
    assert winner == agents[participants.index(awarded)]


def test_a_disqualified_leader_leaves_the_win_to_the_next(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, participants = started(
        engine, university_id, agents, competition_type="solo"
    )
    for m, score in zip(
        matches_of(engine, competition_id), (0.9, 0.5, 0.7), strict=True
    ):
        record(engine, m.id, score)
    disqualify(engine, participants[0])
    with transaction(engine) as session:
        complete_competition(session, competition_id)

    assert participant_state(engine, participants[0]) == ("disqualified", None, None)
    assert participant_state(engine, participants[2]) == ("completed", 1, 0.7)
    assert participant_state(engine, participants[1]) == ("completed", 2, 0.5)
    with read_session(engine) as session:
        assert session.get(Competition, competition_id).winner_agent_id == agents[2]


def test_disqualifying_in_a_tournament_sends_the_opponent_on_by_forfeit(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, participants = started(
        engine, university_id, agents, seeds=[1, 2, 3, 4], competition_type="tournament"
    )
    semi_a, semi_b = matches_of(engine, competition_id)
    assert {semi_a.participant1_id, semi_a.participant2_id} == {
        participants[0],
        participants[3],
    }

    # Seed 4 is disqualified before its semi-final: seed 1 wins by forfeit.
    disqualify(engine, participants[3])
    semi_a = matches_of(engine, competition_id)[0]
    assert (semi_a.status, semi_a.winner_participant_id) == (
        "completed",
        participants[0],
    )
    assert len(matches_of(engine, competition_id)) == 2, "the final waits"

    record(engine, semi_b.id, 2, 1)  # seed 2 beats seed 3
    final = matches_of(engine, competition_id)[2]
    assert (final.participant1_id, final.participant2_id) == (
        participants[0],
        participants[1],
    )
    assert final.status == "scheduled"

    # A finalist disqualified before the final: the other one wins it.
    disqualify(engine, participants[1])
    final = matches_of(engine, competition_id)[2]
    assert (final.status, final.winner_participant_id) == (
        "completed",
        participants[0],
    )
    with transaction(engine) as session:
        complete_competition(session, competition_id)
    with read_session(engine) as session:
        assert session.get(Competition, competition_id).winner_agent_id == agents[0]
    assert participant_state(engine, participants[1])[0] == "disqualified"
    assert participant_state(engine, participants[0])[1] == 1
    assert participant_state(engine, participants[2])[1] == 2
    assert_counters_follow_the_matches(engine, competition_id, agents)


def test_a_bracket_match_reached_after_a_disqualification_is_forfeited(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, participants = started(
        engine, university_id, agents, seeds=[1, 2, 3, 4], competition_type="tournament"
    )
    semi_a, semi_b = matches_of(engine, competition_id)
    record(engine, semi_a.id, 2, 1)  # seed 1 reaches the final...
    disqualify(engine, participants[0])  # ...and is disqualified before it

    record(engine, semi_b.id, 2, 1)

    final = matches_of(engine, competition_id)[2]
    assert (final.status, final.winner_participant_id) == (
        "completed",
        participants[1],
    ), "created and forfeited at once"
    with transaction(engine) as session:
        complete_competition(session, competition_id)
    with read_session(engine) as session:
        assert session.get(Competition, competition_id).winner_agent_id == agents[1]
    assert_counters_follow_the_matches(engine, competition_id, agents)


def test_a_competitor_through_by_forfeit_can_forfeit_the_next_round(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, participants = started(
        engine, university_id, agents, seeds=[1, 2, 3, 4], competition_type="tournament"
    )
    semi_a, semi_b = matches_of(engine, competition_id)
    record(engine, semi_b.id, 2, 1)  # seed 2 waits for the final

    disqualify(engine, participants[0])  # semi_a is forfeited to seed 4...
    disqualify(engine, participants[3])  # ...who forfeits the final in turn

    matches = matches_of(engine, competition_id)
    assert matches[0].winner_participant_id == participants[3]
    final = matches[2]
    assert (final.status, final.winner_participant_id) == (
        "completed",
        participants[1],
    )
    with transaction(engine) as session:
        complete_competition(session, competition_id)
    with read_session(engine) as session:
        assert session.get(Competition, competition_id).winner_agent_id == agents[1]


def test_a_competitor_disqualified_before_the_start_takes_no_part(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, participants = entered(
        engine,
        university_id,
        agents,
        seeds=[1, 2, 3],
        competition_type="tournament",
        max_participants=3,
    )
    disqualify(engine, participants[0])
    # Its place is free again.
    with transaction(engine) as session:
        fourth = make_agent(session, session.get(University, university_id)).id
    with transaction(engine) as session:
        add_participant(session, competition_id, fourth, seed_ranking=4)
        start_competition(session, competition_id)

    playing = {
        side
        for m in matches_of(engine, competition_id)
        for side in (m.participant1_id, m.participant2_id)
    }
    assert participants[0] not in playing
    assert participant_state(engine, participants[0])[0] == "disqualified"
    assert _seed_of(engine, participants[0]) is None
    assert len(matches_of(engine, competition_id)) == 1, "three play: one bye"


def test_disqualification_refusals_leave_rows_unchanged(engine):
    university_id, agents = make_scene(engine, agents=3)
    other_id, _ = make_scene(engine, agents=0)
    competition_id, participants = entered(engine, university_id, agents[:2])
    with transaction(engine) as session:
        observer = add_participant(
            session, competition_id, agents[2], participant_type="observer"
        ).id

    assert_refused(
        engine,
        InvalidInput,
        lambda s: disqualify_participant(s, observer),
        "'a2' is a observer|'a2' is an observer",
    )
    assert_refused(
        engine,
        NotFound,
        lambda s: disqualify_participant(s, participants[0], university_id=other_id),
        participants[0],
    )
    assert_refused(
        engine, NotFound, lambda s: disqualify_participant(s, "nobody"), "nobody"
    )
    disqualify(engine, participants[0])
    assert_refused(
        engine,
        InvalidTransition,
        lambda s: disqualify_participant(s, participants[0]),
        "'a0' is already disqualified",
    )
    with transaction(engine) as session:
        cancel_competition(session, competition_id)
    assert_refused(
        engine,
        InvalidTransition,
        lambda s: disqualify_participant(s, participants[1]),
        "is cancelled: it cannot disqualify participants",
    )


# --- completing and cancelling -------------------------------------------


def test_complete_refuses_unfinished_matches_and_names_how_many(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, _ = started(engine, university_id, agents)
    record(engine, matches_of(engine, competition_id)[0].id, 1, 0)

    assert_refused(
        engine,
        InvalidTransition,
        lambda session: complete_competition(session, competition_id),
        "has 2 unfinished matches",
    )
    assert competition_status(engine, competition_id) == "active"

    record(engine, matches_of(engine, competition_id)[1].id, 1, 0)
    assert_refused(
        engine,
        InvalidTransition,
        lambda session: complete_competition(session, competition_id),
        "has 1 unfinished match: record its result first, or complete with "
        "force to cancel it.",
    )


def test_complete_with_force_cancels_unfinished_matches(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, _ = started(engine, university_id, agents)
    first = matches_of(engine, competition_id)[0]
    record(engine, first.id, 1, 0)

    with transaction(engine) as session:
        complete_competition(session, competition_id, force=True)

    statuses = [m.status for m in matches_of(engine, competition_id)]
    assert statuses == ["completed", "cancelled", "cancelled"]
    with read_session(engine) as session:
        competition = session.get(Competition, competition_id)
        assert competition.status == "completed"
        assert competition.winner.id == session.scalar(
            select(CompetitionParticipant.agent_id).where(
                CompetitionParticipant.id == first.participant1_id
            )
        )


def test_complete_ranks_with_shared_ranks_and_no_winner_on_a_shared_top(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, participants = started(engine, university_id, agents)
    for match in matches_of(engine, competition_id):
        record(engine, match.id, 1, 1)
    ended = datetime(2026, 3, 5, tzinfo=UTC)

    with transaction(engine) as session:
        complete_competition(session, competition_id, completed_at=ended)

    with read_session(engine) as session:
        competition = session.get(Competition, competition_id)
        assert competition.winner_agent_id is None
        assert competition.actual_end == ended
        for participant in competition.participants:
            assert participant.ranking == 1
            assert participant.final_score == 2.0
            assert participant.status == "completed"
            assert participant.completed_at == ended


def test_complete_sets_rankings_final_scores_and_the_winner(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, participants = started(
        engine, university_id, agents, competition_type="solo"
    )
    scores = {participants[0]: 0.5, participants[1]: 0.9, participants[2]: 0.5}
    for match in matches_of(engine, competition_id):
        if match.participant1_id in scores:
            record(engine, match.id, scores[match.participant1_id])

    with transaction(engine) as session:
        complete_competition(session, competition_id, force=True)

    with read_session(engine) as session:
        competition = session.get(Competition, competition_id)
        assert competition.winner_agent_id == agents[1]
        ranked = {p.id: (p.ranking, p.final_score) for p in competition.participants}
    assert ranked == {
        participants[1]: (1, 0.9),
        participants[0]: (2, 0.5),
        participants[2]: (2, 0.5),
        participants[3]: (4, None),
    }


def test_a_completed_tournament_ranks_by_stage_and_names_the_champion(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, participants = started(
        engine, university_id, agents, seeds=[1, 2, 3, 4], competition_type="tournament"
    )
    semi_a, semi_b = matches_of(engine, competition_id)
    record(engine, semi_a.id, 3, 0)  # seed 1 beats seed 4, 3-0
    record(engine, semi_b.id, 1, 0)  # seed 2 beats seed 3, 1-0
    record(engine, matches_of(engine, competition_id)[2].id, 0, 2)  # seed 2 wins

    with transaction(engine) as session:
        complete_competition(session, competition_id)

    with read_session(engine) as session:
        competition = session.get(Competition, competition_id)
        assert competition.winner_agent_id == agents[1]
        ranked = {p.id: (p.ranking, p.final_score) for p in competition.participants}
    # The beaten semi-finalists reach the same stage with no points; the
    # score difference (-1 against -3) ranks them.
    assert ranked == {
        participants[1]: (1, 6.0),
        participants[0]: (2, 3.0),
        participants[2]: (3, 0.0),
        participants[3]: (4, 0.0),
    }


@pytest.mark.parametrize("end", ["completed", "cancelled"])
def test_finished_competitions_refuse_every_status_change(engine, end):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(engine, university_id, agents, competition_type="solo")
    with transaction(engine) as session:
        if end == "completed":
            complete_competition(session, competition_id, force=True)
        else:
            cancel_competition(session, competition_id)

    for action in (start_competition, complete_competition, cancel_competition):
        assert_refused(
            engine,
            InvalidTransition,
            lambda session, action=action: action(session, competition_id),
            f"is {end}",
        )
    assert competition_status(engine, competition_id) == end


def test_a_scheduled_competition_cannot_complete(engine):
    university_id, _ = make_scene(engine, agents=0)
    competition_id = schedule(engine, university_id)

    assert_refused(
        engine,
        InvalidTransition,
        lambda session: complete_competition(session, competition_id),
        "is scheduled: it cannot complete",
    )


def test_cancel_cancels_unfinished_matches_and_keeps_results(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(engine, university_id, agents, rules={"legs": 2})
    played = matches_of(engine, competition_id)[0]
    record(engine, played.id, 4, 1)

    with transaction(engine) as session:
        cancel_competition(session, competition_id)

    assert [m.status for m in matches_of(engine, competition_id)] == [
        "completed",
        "cancelled",
    ]
    with read_session(engine) as session:
        competition = session.get(Competition, competition_id)
        assert competition.status == "cancelled"
        assert competition.actual_end is not None

    scheduled = schedule(engine, university_id, name="Never run")
    with transaction(engine) as session:
        cancel_competition(session, scheduled)
    assert competition_status(engine, scheduled) == "cancelled"


# --- hostile input ---------------------------------------------------------


def test_competition_name_and_description_with_nul_are_refused_on_both_engines(
    engine,
):
    # PostgreSQL raised psycopg.DataError for a NUL in these text columns.
    university_id, _ = make_scene(engine, agents=0)
    refusals = {
        "competition name": {"name": "Cup\x00"},
        "competition description": {"description": "Rules:\n\x00"},
        "benchmark id": {"benchmark_id": "mmlu\x00"},
    }

    for field, values in refusals.items():
        arguments = {"name": "Cup", "competition_type": "solo", **window(), **values}
        assert_refused(
            engine,
            InvalidInput,
            lambda s, a=arguments: schedule_competition(s, university_id, **a),
            rf"^The {field} .* holds the control character U\+0000 \(NUL\) at "
            r"position \d+: remove it",
        )
    with pytest.raises(InvalidInput, match="one line of plain text"):
        schedule(engine, university_id, name="Spring\nCup")

    competition_id = schedule(
        engine, university_id, name="Cup", description="  Line one\n\tLine two  "
    )
    with read_session(engine) as session:
        assert session.get(Competition, competition_id).description == (
            "Line one\n\tLine two"
        )


def test_max_participants_at_the_database_integer_is_stored_on_both_engines(
    engine,
):
    university_id, agents = make_scene(engine, agents=1)

    competition_id, (participant_id,) = entered(
        engine, university_id, agents, seeds=[2**31 - 1], max_participants=2**31 - 1
    )

    with read_session(engine) as session:
        assert session.get(Competition, competition_id).max_participants == 2**31 - 1
    assert _seed_of(engine, participant_id) == 2**31 - 1


def test_seeds_after_a_seed_at_the_integer_limit_are_renumbered_not_overflowed(
    engine,
):
    # Unseeded competitors got max(seed) + 1 = 2,147,483,648 at the start:
    # OverflowError on SQLite, "integer out of range" on PostgreSQL.
    university_id, agents = make_scene(engine, agents=3)
    competition_id, participants = entered(
        engine,
        university_id,
        agents,
        seeds=[None, 2**31 - 1, 5],
        competition_type="tournament",
    )

    with transaction(engine) as session:
        start_competition(session, competition_id)

    # The order is kept: 5, then 2,147,483,647, then the unseeded one.
    assert [_seed_of(engine, p) for p in participants] == [3, 2, 1]
    matches = matches_of(engine, competition_id)
    assert [(m.participant1_id, m.participant2_id) for m in matches] == [
        (participants[1], participants[0])
    ]


@pytest.mark.parametrize(
    ("side", "first", "second", "shown"),
    [
        ("first", 1e308, 0, "1e+308"),
        ("second", 0, -1e308, "-1e+308"),
        ("first", 1_000_000_001, 0, "1000000001"),
        ("second", 0, -1e9 - 0.5, "-1000000000.5"),
    ],
)
def test_match_scores_past_a_billion_are_refused_naming_the_side(
    engine, side, first, second, shown
):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(engine, university_id, agents)
    match = matches_of(engine, competition_id)[0]
    number = "1" if side == "first" else "2"

    assert_refused(
        engine,
        InvalidInput,
        lambda session: record_match_result(
            session, match.id, participant1_score=first, participant2_score=second
        ),
        f"^The score of the {side} side \\(participant{number}_score\\) "
        f"{re.escape(shown)} is outside -1,000,000,000 to 1,000,000,000 \\(the range "
        "of a match score\\): give a score within it.$",
    )

    assert matches_of(engine, competition_id)[0].status == "scheduled"
    assert agent_counters(engine, agents[0]) == (0, 0, 0)


def test_a_solo_score_of_1e308_leaves_the_agents_average_untouched(engine):
    # The tester's case: 1e308 and -5 were accepted and the average became
    # 1.43e307. -5 stays allowed by default (rewards can be negative).
    university_id, agents = make_scene(engine, agents=1)
    competition_id, _ = started(
        engine, university_id, agents, competition_type="solo", name="Solo"
    )
    match = matches_of(engine, competition_id)[0]

    assert_refused(
        engine,
        InvalidInput,
        lambda session: record_match_result(
            session, match.id, participant1_score=1e308
        ),
        r"participant1_score\) 1e\+308 is outside",
    )
    record(engine, match.id, -5)

    with read_session(engine) as session:
        agent = session.get(UniversityAgent, agents[0])
        assert (agent.average_score, agent.highest_score) == (-5.0, -5.0)


@pytest.mark.parametrize(
    ("first", "second", "named"),
    [
        (math.nan, 1, r"first side \(participant1_score\) nan is not a finite number"),
        (1, math.inf, r"second side \(participant2_score\) inf is not a finite"),
        (1, -math.inf, r"second side \(participant2_score\) -inf is not a finite"),
    ],
)
def test_non_finite_match_scores_are_refused_naming_the_side(
    engine, first, second, named
):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(engine, university_id, agents)
    match = matches_of(engine, competition_id)[0]

    assert_refused(
        engine,
        InvalidInput,
        lambda session: record_match_result(
            session, match.id, participant1_score=first, participant2_score=second
        ),
        named,
    )
    assert matches_of(engine, competition_id)[0].status == "scheduled"


def test_a_score_range_in_the_rules_bounds_the_scores(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(
        engine, university_id, agents, rules={"score_range": [0, 100]}
    )
    match = matches_of(engine, competition_id)[0]

    for first, second, shown in [(-5, 3, "-5"), (50, 100.5, "100.5")]:
        assert_refused(
            engine,
            InvalidInput,
            lambda session, a=first, b=second: record_match_result(
                session, match.id, participant1_score=a, participant2_score=b
            ),
            f"{shown} is outside 0 to 100 \\(the competition's score_range\\)",
        )
    recorded = record(engine, match.id, 0, 100)
    assert (recorded.participant1_score, recorded.participant2_score) == (0.0, 100.0)


@pytest.mark.parametrize(
    "score_range",
    [[1], [0, 1, 2], [5, 5], [0, 2e9], ["0", 1], [False, 1], {"min": 0}, "0-100"],
)
def test_a_score_range_that_cannot_be_applied_is_refused_at_scheduling(
    engine, score_range
):
    university_id, _ = make_scene(engine, agents=0)

    assert_refused(
        engine,
        InvalidInput,
        lambda session: schedule_competition(
            session,
            university_id,
            name="Cup",
            competition_type="head_to_head",
            rules={"score_range": score_range},
            **window(),
        ),
        "rules score_range .* is not allowed: give \\[lowest, highest\\]",
    )


def test_times_in_competition_refusals_read_as_the_pages_show_them(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = entered(engine, university_id, agents)
    at_noon = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with transaction(engine) as session:
        start_competition(session, competition_id, started_at=at_noon)
    match = matches_of(engine, competition_id)[0]
    with transaction(engine) as session:
        start_match(session, match.id, started_at=at_noon + timedelta(seconds=30))

    assert_refused(
        engine,
        InvalidInput,
        lambda session: record_match_result(
            session,
            match.id,
            participant1_score=1,
            participant2_score=0,
            completed_at=at_noon,
        ),
        r"^completed_at 2026-03-01 12:00 UTC is before match 1 of 'Cup .*' started "
        r"\(2026-03-01 12:00:30 UTC\): give a later time\.$",
    )
    assert_refused(
        engine,
        InvalidInput,
        lambda session: record_match_result(
            session,
            match.id,
            participant1_score=1,
            participant2_score=0,
            completed_at=datetime(2026, 3, 1, 13, 0),
        ),
        r"^completed_at 2026-03-01 13:00 has no time zone",
    )


def test_a_refused_whole_float_score_reads_as_typed():
    # A form's number input gives floats: 1e12 is "1000000000000", not ".0".
    with pytest.raises(
        InvalidInput, match=r"^The score 1000000000000 is outside -1,000,000,000"
    ):
        match_score(1e12, what="score")
