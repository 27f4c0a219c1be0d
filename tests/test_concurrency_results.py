"""Results recorded at the same moment by real threads, on SQLite and
PostgreSQL: every result lands, counters are exact, a bracket round is
created once, and no "database is locked" reaches a caller."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from tests.test_competitions import make_scene, matches_of, started, window
from university_models.db import read_session, transaction
from university_models.errors import QuotaExceeded
from university_models.models import (
    Competition,
    CompetitionParticipant,
    UniversityAgent,
)
from university_models.services.competitions import (
    record_match_result,
    schedule_competition,
)

THREADS = 6


def run_together(engine, jobs) -> list[BaseException]:
    """Run each ``(match_id, score1, score2)`` job in its own thread, all
    released at once by a barrier; the errors the callers saw."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def work(match_id: str, first: float, second: float) -> None:
        barrier.wait()
        try:
            with transaction(engine) as session:
                record_match_result(
                    session,
                    match_id,
                    participant1_score=first,
                    participant2_score=second,
                )
        except BaseException as error:  # noqa: BLE001  reported by the test
            errors.append(error)

    threads = [threading.Thread(target=work, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def expected_counters(engine, competition_id: str) -> Counter:
    """Wins, losses and draws per agent, counted from the stored matches."""
    with read_session(engine) as session:
        agent_of = dict(
            session.execute(
                select(CompetitionParticipant.id, CompetitionParticipant.agent_id)
            ).all()
        )
    counts: Counter = Counter()
    for match in matches_of(engine, competition_id):
        if match.status != "completed" or match.participant2_id is None:
            continue
        sides = (match.participant1_id, match.participant2_id)
        for side in sides:
            agent = agent_of[side]
            if match.winner_participant_id is None:
                counts[(agent, "draws")] += 1
            elif match.winner_participant_id == side:
                counts[(agent, "wins")] += 1
            else:
                counts[(agent, "losses")] += 1
    return counts


def stored_counters(engine, agent_ids: list[str]) -> Counter:
    counts: Counter = Counter()
    with read_session(engine) as session:
        for agent in session.scalars(
            select(UniversityAgent).where(UniversityAgent.id.in_(agent_ids))
        ):
            counts[(agent.id, "wins")] += agent.competition_wins
            counts[(agent.id, "losses")] += agent.competition_losses
            counts[(agent.id, "draws")] += agent.competition_draws
    return +counts


def test_simultaneous_results_and_corrections_keep_counters_exact(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, _ = started(engine, university_id, agents)
    matches = matches_of(engine, competition_id)
    assert len(matches) == THREADS

    first_errors = run_together(
        engine, [(m.id, index % 3, 1) for index, m in enumerate(matches)]
    )
    # Every match corrected at once, against the side that won before.
    second_errors = run_together(
        engine, [(m.id, 1, index % 3) for index, m in enumerate(matches)]
    )

    assert first_errors == [] and second_errors == []
    final = matches_of(engine, competition_id)
    assert all(m.status == "completed" for m in final)
    assert [m.participant2_score for m in final] == [i % 3 for i in range(THREADS)]
    assert stored_counters(engine, agents) == expected_counters(engine, competition_id)


def test_simultaneous_quarter_finals_create_each_semi_final_once(engine):
    university_id, agents = make_scene(engine, agents=8)
    competition_id, _ = started(
        engine,
        university_id,
        agents,
        seeds=list(range(1, 9)),
        competition_type="tournament",
    )
    quarter_finals = matches_of(engine, competition_id)
    assert len(quarter_finals) == 4

    errors = run_together(engine, [(m.id, 2, 1) for m in quarter_finals])

    assert errors == []
    matches = matches_of(engine, competition_id)
    rounds = Counter(m.match_config["round"] for m in matches)
    assert rounds == {1: 4, 2: 2}
    assert sorted(m.match_number for m in matches) == list(range(1, 7))
    semi_final_sides = [
        side for m in matches[4:] for side in (m.participant1_id, m.participant2_id)
    ]
    assert sorted(semi_final_sides) == sorted(m.participant1_id for m in quarter_finals)
    assert stored_counters(engine, agents) == expected_counters(engine, competition_id)


def test_simultaneous_scheduling_never_passes_max_concurrent(engine):
    """Results need competitions: scheduling them at the same moment keeps
    the overlap quota too (the university lock serialises the check)."""
    university_id, _ = make_scene(engine, agents=0, max_concurrent_competitions=2)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def work(index: int) -> None:
        barrier.wait()
        try:
            with transaction(engine) as session:
                schedule_competition(
                    session,
                    university_id,
                    name=f"Cup {index}",
                    competition_type="solo",
                    **window(),
                )
            outcomes.append("scheduled")
        except QuotaExceeded:
            outcomes.append("refused")
        except BaseException as error:  # noqa: BLE001  reported by the test
            outcomes.append(repr(error))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(outcomes) == ["refused", "refused", "scheduled", "scheduled"]
    with read_session(engine) as session:
        assert (
            session.scalar(
                select(func.count()).where(Competition.university_id == university_id)
            )
            == 2
        )
