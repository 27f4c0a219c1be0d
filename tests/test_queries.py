"""The read side of the Watch pages, on SQLite and PostgreSQL: numbers,
day buckets, ranks and pair aggregates, each scoped to one university."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests.factories import make_agent, make_university
from university_models.db import read_session, transaction
from university_models.errors import NotFound
from university_models.models import (
    AgentProgress,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    CurriculumLevel,
    CurriculumPath,
    ImprovementProposal,
    TrainingDataCollection,
)
from university_models.queries import curriculum, leaderboard, overview, training_data
from university_models.queries.time_buckets import day_bucket, day_range

#: A fixed "now" so that day buckets and seven-day deltas are predictable.
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@dataclass
class Scene:
    """Ids of what ``build_scene`` wrote for one university."""

    university_id: str
    name: str
    agents: dict[str, str] = field(default_factory=dict)
    competitions: dict[str, str] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    levels: dict[int, str] = field(default_factory=dict)
    records: list[str] = field(default_factory=list)


def _ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def add_match(session, competition, number, one, two, scores, winner, *, days_ago):
    match = CompetitionMatch(
        competition=competition,
        match_number=number,
        participant1_id=one.id,
        participant2_id=two.id if two is not None else None,
        match_config={},
        status="completed" if scores else "scheduled",
        participant1_score=scores[0] if scores else None,
        participant2_score=scores[1] if scores and two is not None else None,
        winner_participant_id=winner.id if winner is not None else None,
        started_at=_ago(days_ago) if scores else None,
        completed_at=_ago(days_ago) if scores else None,
    )
    session.add(match)
    return match


def build_scene(session: Session, name: str, *, scale: int = 1) -> Scene:
    """One university with agents, two competitions, a curriculum path,
    training records and proposals, at known times before ``NOW``.

    ``scale`` multiplies the training records (for export streaming tests).
    Written through the ORM, like tests/factories.py, to set the scene."""
    university = make_university(session, name=name, max_agents=10)
    scene = Scene(university.id, name)
    ada = make_agent(
        session,
        university,
        name=f"{name} Ada",
        specialization="math",
        created_at=_ago(30),
        competency_score=0.9,
    )
    bob = make_agent(
        session,
        university,
        name=f"{name} Bob",
        specialization="code",
        created_at=_ago(3),
        competency_score=0.3,
    )
    cyd = make_agent(
        session,
        university,
        name=f"{name} Cyd",
        agent_type="researcher",
        created_at=_ago(20),
    )
    make_agent(session, university, name=f"{name} Old", status="archived")
    scene.agents = {"ada": ada.id, "bob": bob.id, "cyd": cyd.id}

    arena = Competition(
        university=university,
        name="Arena",
        competition_type="head_to_head",
        rules={},
        evaluation_config={},
        status="active",
        actual_start=_ago(12),
        scheduled_start=_ago(12),
    )
    solo = Competition(
        university=university,
        name="Solo",
        competition_type="challenge",
        rules={},
        evaluation_config={},
        status="completed",
        actual_start=_ago(6),
        actual_end=_ago(5),
        scheduled_start=_ago(6),
    )
    session.add_all([arena, solo])
    session.flush()
    pa, pb, pc = (
        CompetitionParticipant(competition=arena, agent_id=agent.id)
        for agent in (ada, bob, cyd)
    )
    ps = CompetitionParticipant(competition=solo, agent_id=ada.id)
    session.add_all([pa, pb, pc, ps])
    session.flush()
    add_match(session, arena, 1, pa, pb, (1.0, 0.0), pa, days_ago=1)
    add_match(session, arena, 2, pa, pc, (0.5, 0.5), None, days_ago=10)
    add_match(session, arena, 3, pb, pc, (0.7, 0.2), pb, days_ago=1)
    add_match(session, arena, 4, pb, pa, None, None, days_ago=0)
    add_match(session, solo, 1, ps, None, (0.8,), None, days_ago=5)
    scene.competitions = {"arena": arena.id, "solo": solo.id}

    path = CurriculumPath(university=university, name="Basics")
    session.add(path)
    session.flush()
    levels = [
        CurriculumLevel(
            path=path,
            level_number=number,
            name=f"Level {number}",
            learning_objectives=[],
            challenges=[{"id": "a"}, {"id": "b"}],
            challenge_count=2,
        )
        for number in (1, 2)
    ]
    session.add_all(levels)
    session.flush()
    scene.paths = {"basics": path.id}
    scene.levels = {level.level_number: level.id for level in levels}
    session.add_all(
        [
            AgentProgress(
                agent_id=ada.id,
                curriculum_level_id=levels[0].id,
                total_challenges=2,
                challenges_completed=2,
                best_score=0.9,
                average_score=0.85,
                time_spent_minutes=50,
                status="completed",
                started_at=_ago(12),
                completed_at=_ago(10),
                challenge_results=[
                    {
                        "challenge_index": 0,
                        "score": 0.8,
                        "minutes": 20,
                        "recorded_at": _ago(11).isoformat(),
                        "attempt": 1,
                    },
                    {
                        "challenge_index": 1,
                        "score": 0.9,
                        "minutes": 30,
                        "recorded_at": _ago(10).isoformat(),
                        "attempt": 1,
                    },
                ],
            ),
            AgentProgress(
                agent_id=ada.id,
                curriculum_level_id=levels[1].id,
                total_challenges=2,
                best_score=0.4,
                time_spent_minutes=10,
                status="in_progress",
                started_at=_ago(2),
            ),
            AgentProgress(
                agent_id=bob.id,
                curriculum_level_id=levels[0].id,
                total_challenges=2,
                best_score=0.5,
                time_spent_minutes=30,
                status="in_progress",
                started_at=_ago(2),
            ),
        ]
    )

    statuses = [
        ("validated", _ago(9), _ago(8), 0.9, "conversation", "competition"),
        ("pending", _ago(0.1), None, 0.2, "reasoning", "training"),
        ("anonymized", _ago(1), _ago(1), 0.6, "conversation", "training"),
    ]
    for copy in range(scale):
        for status, collected, validated, quality, data_type, source in statuses:
            record = TrainingDataCollection(
                university=university,
                agent_id=ada.id if copy % 2 == 0 else bob.id,
                source_type=source,
                data_type=data_type,
                raw_data={"text": f"record {copy}"},
                quality_score=quality,
                validation_status=status,
                anonymized=status == "anonymized",
                collected_at=collected - timedelta(seconds=copy),
                validated_at=validated,
            )
            session.add(record)
            session.flush()
            scene.records.append(record.id)

    session.add_all(
        [
            ImprovementProposal(
                university=university,
                title=f"{name}: slower temperature",
                description="Lower the temperature.",
                created_at=_ago(10),
                source_data_collection_id=scene.records[0],
            ),
            ImprovementProposal(
                university=university,
                title=f"{name}: more tools",
                description="Give the agent a calculator.",
                validation_status="approved",
                validated_by="dean@example.org",
                validated_at=_ago(2),
                created_at=_ago(9),
            ),
        ]
    )
    session.flush()
    return scene


@pytest.fixture
def two_universities(engine):
    with transaction(engine) as session:
        first = build_scene(session, "Lyceum")
        second = build_scene(session, "Academy")
    return first, second


# ---------------------------------------------------------------------------
# Day buckets


def test_day_bucket_groups_by_utc_calendar_day_on_both_engines(engine):
    with transaction(engine) as session:
        university = make_university(session)
        agent = make_agent(session, university)
        # 23:30 UTC is already the next day east of Greenwich: it must stay
        # on the UTC day whatever the server's or session's time zone.
        for moment in (
            datetime(2026, 12, 1, 23, 30, tzinfo=UTC),
            datetime(2026, 12, 2, 0, 30, tzinfo=UTC),
            datetime(2026, 12, 2, 23, 59, tzinfo=UTC),
        ):
            session.add(
                TrainingDataCollection(
                    university=university,
                    agent=agent,
                    source_type="training",
                    data_type="reasoning",
                    raw_data={},
                    collected_at=moment,
                )
            )
    with read_session(engine) as session:
        if engine.dialect.name == "postgresql":
            session.execute(text("SET TIME ZONE 'Asia/Tokyo'"))
        bucket = day_bucket(session, TrainingDataCollection.collected_at)
        rows = dict(
            session.execute(
                select(bucket, func.count()).group_by(bucket).order_by(bucket)
            ).all()
        )
    assert rows == {"2026-12-01": 1, "2026-12-02": 2}


def test_day_range_includes_the_whole_last_day():
    start, end = day_range(date(2026, 12, 1), date(2026, 12, 2))
    assert start == datetime(2026, 12, 1, tzinfo=UTC)
    assert end == datetime(2026, 12, 3, tzinfo=UTC)
    assert day_range(None, None) == (None, None)


# ---------------------------------------------------------------------------
# Overview


def test_overview_metrics_count_now_and_seven_days_ago(engine, two_universities):
    first, _ = two_universities
    with read_session(engine) as session:
        metrics = overview.overview_metrics(session, first.university_id, now=NOW)

    # Ada and Cyd existed a week ago, Bob joined three days ago; the
    # archived agent counts in neither.
    assert (metrics["agents"].value, metrics["agents"].previous) == (3, 2)
    # Arena started 12 days ago and is active; Solo ran 6 to 5 days ago.
    assert metrics["active_competitions"].value == 1
    assert metrics["active_competitions"].previous == 1
    # One proposal pending now; a week ago both were (the other was decided
    # two days ago).
    assert metrics["pending_proposals"].value == 1
    assert metrics["pending_proposals"].previous == 2
    # Two of three records validated or anonymized now; a week ago one
    # record existed and it was validated.
    assert metrics["validated_share"].value == pytest.approx(2 / 3)
    assert metrics["validated_share"].previous == pytest.approx(1.0)
    # Mean of the stored competency scores now (0.9, 0.3, 0.0); a week ago
    # Ada had completed level 1 with the result (average score) 0.85 and Cyd
    # nothing.
    assert metrics["mean_competency"].value == pytest.approx(0.4)
    assert metrics["mean_competency"].previous == pytest.approx(0.425)
    assert metrics["agents"].delta == 1


def test_overview_metrics_of_an_empty_university_are_zero_or_nan(engine):
    with transaction(engine) as session:
        university_id = make_university(session).id
    with read_session(engine) as session:
        metrics = overview.overview_metrics(session, university_id, now=NOW)
        by_status = overview.agents_by_status(session, university_id)
    assert metrics["agents"].value == 0
    assert math.isnan(metrics["validated_share"].value)
    assert metrics["validated_share"].previous is None
    assert by_status["agents"].sum() == 0
    assert set(by_status["status"]) == {
        "active",
        "training",
        "competing",
        "idle",
        "archived",
    }


def test_overview_of_an_unknown_university_is_not_found(engine):
    with read_session(engine) as session, pytest.raises(NotFound, match="nope"):
        overview.overview_metrics(session, "nope")


def test_activity_timeline_counts_per_day_with_quiet_days_as_zero(
    engine, two_universities
):
    first, _ = two_universities
    with read_session(engine) as session:
        timeline = overview.activity_timeline(
            session, first.university_id, days=14, now=NOW
        )
    assert len(timeline) == 14
    assert timeline["day"].iloc[-1] == NOW.date()
    by_day = timeline.set_index("day")
    yesterday = (NOW - timedelta(days=1)).date()
    assert by_day.loc[yesterday, "matches_completed"] == 2
    assert by_day.loc[yesterday, "training_records"] == 1
    assert by_day.loc[NOW.date(), "training_records"] == 1
    # Arena's draw ten days ago, the solo match five days ago: the scheduled
    # match does not count.
    assert timeline["matches_completed"].sum() == 4
    assert timeline["training_records"].sum() == 3


def test_quota_usage_counts_agents_competitions_and_storage(engine, two_universities):
    first, _ = two_universities
    with read_session(engine) as session:
        usage = overview.quota_usage(session, first.university_id).set_index("quota")
    assert usage.loc["agents", "used"] == 3
    assert usage.loc["agents", "limit"] == 10
    assert usage.loc["concurrent competitions", "used"] == 1
    assert usage.loc["storage (MB)", "used"] > 0
    assert usage.loc["agents", "share"] == pytest.approx(0.3)


def test_overview_numbers_of_one_university_ignore_the_other(engine):
    with transaction(engine) as session:
        busy = build_scene(session, "Busy")
        quiet_id = make_university(session, name="Quiet").id
    with read_session(engine) as session:
        metrics = overview.overview_metrics(session, quiet_id, now=NOW)
        timeline = overview.activity_timeline(session, quiet_id, now=NOW)
        usage = overview.quota_usage(session, quiet_id)
        busy_usage = overview.quota_usage(session, busy.university_id)
    assert metrics["agents"].value == 0
    assert metrics["pending_proposals"].value == 0
    assert timeline[["training_records", "matches_completed"]].sum().sum() == 0
    assert usage["used"].sum() == 0
    assert busy_usage["used"].sum() > 0


# ---------------------------------------------------------------------------
# Leaderboard


def test_match_records_count_wins_draws_losses_and_rank(engine, two_universities):
    first, _ = two_universities
    with read_session(engine) as session:
        records = leaderboard.match_records(session, first.university_id)
    by_agent = records.set_index("agent")
    ada = by_agent.loc["Lyceum Ada"]
    assert (ada.matches, ada.wins, ada.draws, ada.losses) == (3, 1, 1, 0)
    # A draw is half a win.
    assert ada.win_rate == pytest.approx(0.75)
    assert ada.highest_score == pytest.approx(1.0)
    assert ada.average_score == pytest.approx((1.0 + 0.5 + 0.8) / 3)
    bob = by_agent.loc["Lyceum Bob"]
    assert (bob.wins, bob.draws, bob.losses) == (1, 0, 1)
    cyd = by_agent.loc["Lyceum Cyd"]
    assert (cyd.wins, cyd.draws, cyd.losses) == (0, 1, 1)
    # Ada (a win and a draw) is ahead of Bob (a win and a loss), who is
    # ahead of Cyd (a draw and a loss).
    assert records["agent"].tolist() == ["Lyceum Ada", "Lyceum Bob", "Lyceum Cyd"]
    assert records["rank"].tolist() == [1, 2, 3]


def test_match_records_share_a_rank_when_level(engine):
    with transaction(engine) as session:
        university = make_university(session)
        one, two = make_agent(session, university), make_agent(session, university)
        competition = Competition(
            university=university,
            name="Even",
            competition_type="head_to_head",
            rules={},
            evaluation_config={},
        )
        session.add(competition)
        session.flush()
        p1 = CompetitionParticipant(competition=competition, agent_id=one.id)
        p2 = CompetitionParticipant(competition=competition, agent_id=two.id)
        session.add_all([p1, p2])
        session.flush()
        add_match(session, competition, 1, p1, p2, (0.5, 0.5), None, days_ago=1)
        university_id = university.id
    with read_session(engine) as session:
        records = leaderboard.match_records(session, university_id)
    assert records["rank"].tolist() == [1, 1]


def test_match_records_filters_by_competition_type_specialization_and_days(
    engine, two_universities
):
    first, _ = two_universities
    uid = first.university_id
    with read_session(engine) as session:
        solo = leaderboard.match_records(
            session, uid, competition_id=first.competitions["solo"]
        )
        researchers = leaderboard.match_records(session, uid, agent_type="researcher")
        math_only = leaderboard.match_records(session, uid, specialization="math")
        recent = leaderboard.match_records(
            session,
            uid,
            played_from=(NOW - timedelta(days=2)).date(),
            played_to=NOW.date(),
        )
    assert solo["agent"].tolist() == ["Lyceum Ada"]
    assert solo["matches"].tolist() == [1]
    assert math.isnan(solo["win_rate"].iloc[0])
    assert researchers["agent"].tolist() == ["Lyceum Cyd"]
    assert math_only["agent"].tolist() == ["Lyceum Ada"]
    # Only the two matches of yesterday: Ada beat Bob, Bob beat Cyd.
    assert recent.set_index("agent")["matches"].to_dict() == {
        "Lyceum Ada": 1,
        "Lyceum Bob": 2,
        "Lyceum Cyd": 1,
    }


def test_match_records_of_one_university_never_show_the_other(engine, two_universities):
    first, second = two_universities
    with read_session(engine) as session:
        records = leaderboard.match_records(session, second.university_id)
        crossed = leaderboard.match_records(
            session, second.university_id, competition_id=first.competitions["arena"]
        )
    assert all(name.startswith("Academy") for name in records["agent"])
    assert crossed.empty


def test_pairwise_win_rates_aggregate_both_orientations(engine, two_universities):
    first, _ = two_universities
    with read_session(engine) as session:
        pairs = leaderboard.pairwise_win_rates(
            session, first.university_id, first.competitions["arena"]
        )
    table = pairs.set_index(["agent", "opponent"])
    assert len(pairs) == 6
    assert table.loc[("Lyceum Ada", "Lyceum Bob"), "win_rate"] == 1.0
    assert table.loc[("Lyceum Bob", "Lyceum Ada"), "win_rate"] == 0.0
    assert table.loc[("Lyceum Ada", "Lyceum Cyd"), "draws"] == 1
    assert table.loc[("Lyceum Cyd", "Lyceum Ada"), "win_rate"] == 0.5


def test_pairwise_win_rates_refuse_a_competition_of_another_university(
    engine, two_universities
):
    first, second = two_universities
    with read_session(engine) as session, pytest.raises(NotFound, match="no compet"):
        leaderboard.pairwise_win_rates(
            session, second.university_id, first.competitions["arena"]
        )


def test_filter_choices_list_this_universitys_competitions_and_specializations(
    engine, two_universities
):
    first, second = two_universities
    with read_session(engine) as session:
        competitions = leaderboard.competition_choices(session, first.university_id)
        specializations = leaderboard.specialization_choices(
            session, first.university_id
        )
    assert set(competitions["id"]) == set(first.competitions.values())
    assert specializations == ["code", "math"]
    assert not set(competitions["id"]) & set(second.competitions.values())


def test_rated_leaderboard_adds_win_rate_and_highest_score_to_the_ratings(
    engine, two_universities
):
    first, second = two_universities
    with read_session(engine) as session:
        board = leaderboard.rated_leaderboard(
            session, first.university_id, bootstrap_rounds=0
        )
        version = leaderboard.results_version(session, first.university_id)
        other = leaderboard.results_version(session, second.university_id)
    by_agent = board.set_index("agent")
    assert list(board.columns) == leaderboard.RATED_COLUMNS
    assert set(by_agent.index) == {"Lyceum Ada", "Lyceum Bob", "Lyceum Cyd"}
    # A win and a draw (half a win) in two two-sided matches.
    assert by_agent.loc["Lyceum Ada", "win_rate"] == pytest.approx(0.75)
    assert by_agent.loc["Lyceum Ada", "highest_score"] == pytest.approx(1.0)
    assert by_agent.loc["Lyceum Cyd", "agent_type"] == "researcher"
    assert board["rating"].notna().all()
    # Both universities hold the same results; each has its own freshness
    # (its last activity), and the cache key names the university anyway.
    assert version[0] == other[0] == 4


def test_rated_leaderboard_date_filter_includes_the_whole_last_day(
    engine, two_universities
):
    first, _ = two_universities
    yesterday = (NOW - timedelta(days=1)).date()
    with read_session(engine) as session:
        board = leaderboard.rated_leaderboard(
            session,
            first.university_id,
            played_from=yesterday,
            played_to=yesterday,
            bootstrap_rounds=0,
        )
    assert board.set_index("agent")["matches"].to_dict() == {
        "Lyceum Ada": 1,
        "Lyceum Bob": 2,
        "Lyceum Cyd": 1,
    }


def test_competition_standings_are_scoped_to_the_university(engine, two_universities):
    first, second = two_universities
    with read_session(engine) as session:
        standings = leaderboard.competition_standings(
            session, first.university_id, competition_id=first.competitions["arena"]
        )
        with pytest.raises(NotFound):
            leaderboard.competition_standings(
                session,
                second.university_id,
                competition_id=first.competitions["arena"],
            )
    assert set(standings["agent"]) == {"Lyceum Ada", "Lyceum Bob", "Lyceum Cyd"}


def test_rated_leaderboard_of_a_university_without_matches_is_empty(engine):
    with transaction(engine) as session:
        university_id = make_university(session).id
    with read_session(engine) as session:
        board = leaderboard.rated_leaderboard(session, university_id)
    assert board.empty
    assert list(board.columns) == leaderboard.RATED_COLUMNS


# ---------------------------------------------------------------------------
# Curriculum


def test_path_choices_count_levels_of_this_university_only(engine, two_universities):
    first, second = two_universities
    with read_session(engine) as session:
        paths = curriculum.path_choices(session, first.university_id)
    assert paths["id"].tolist() == [first.paths["basics"]]
    assert paths["levels"].tolist() == [2]
    assert second.paths["basics"] not in paths["id"].tolist()


def test_progress_matrix_pages_agents_by_name(engine, two_universities):
    first, _ = two_universities
    uid, path = first.university_id, first.paths["basics"]
    with read_session(engine) as session:
        matrix = curriculum.progress_matrix(session, uid, path)
        first_page = curriculum.progress_matrix(session, uid, path, limit=1)
        second_page = curriculum.progress_matrix(session, uid, path, limit=1, offset=1)
        enrolled = curriculum.path_agent_count(session, uid, path)
    assert enrolled == 2
    assert len(matrix) == 3
    ada = matrix[matrix["agent"] == "Lyceum Ada"].set_index("level_number")
    assert ada.loc[1, "status"] == "completed"
    assert ada.loc[1, "best_score"] == pytest.approx(0.9)
    assert set(first_page["agent"]) == {"Lyceum Ada"}
    assert set(second_page["agent"]) == {"Lyceum Bob"}


def test_level_funnel_counts_reached_started_and_completed(engine, two_universities):
    first, _ = two_universities
    with read_session(engine) as session:
        funnel = curriculum.level_funnel(
            session, first.university_id, first.paths["basics"]
        )
    assert funnel.to_dict("list") == {
        "level_number": [1, 2],
        "level": ["Level 1", "Level 2"],
        "reached": [2, 1],
        "started": [2, 1],
        "completed": [1, 0],
    }


def test_time_per_level_averages_the_agents_that_worked_on_it(engine, two_universities):
    first, _ = two_universities
    with read_session(engine) as session:
        spent = curriculum.time_per_level(
            session, first.university_id, first.paths["basics"]
        ).set_index("level_number")
    assert spent.loc[1, "agents"] == 2
    assert spent.loc[1, "mean_minutes"] == pytest.approx(40.0)
    assert spent.loc[1, "max_minutes"] == 50
    assert spent.loc[2, "total_minutes"] == 10


def test_agent_challenge_results_unfold_the_json_in_time_order(
    engine, two_universities
):
    first, second = two_universities
    with read_session(engine) as session:
        results = curriculum.agent_challenge_results(
            session, first.university_id, first.agents["ada"]
        )
        with pytest.raises(NotFound):
            curriculum.agent_challenge_results(
                session, second.university_id, first.agents["ada"]
            )
    assert results["score"].tolist() == [0.8, 0.9]
    assert results["challenge_index"].tolist() == [0, 1]
    assert str(results["recorded_at"].dt.tz) == "UTC"
    assert results["passing_score"].tolist() == [0.7, 0.7]


def test_curriculum_queries_refuse_a_path_of_another_university(
    engine, two_universities
):
    first, second = two_universities
    with read_session(engine) as session:
        for query in (
            curriculum.level_funnel,
            curriculum.time_per_level,
            curriculum.progress_matrix,
            curriculum.path_agents,
        ):
            with pytest.raises(NotFound, match="no curriculum path"):
                query(session, second.university_id, first.paths["basics"])


# ---------------------------------------------------------------------------
# Training data


def test_quality_histogram_buckets_scores_in_sql_and_keeps_empty_buckets(engine):
    with transaction(engine) as session:
        university = make_university(session)
        agent = make_agent(session, university)
        # Edges: 0.0 and 0.1 start their buckets, 0.19999 stays in the second
        # (PostgreSQL's CAST would round it up), 1.0 joins the last.
        for score in (0.0, 0.1, 0.19999, 0.95, 1.0):
            session.add(
                TrainingDataCollection(
                    university=university,
                    agent=agent,
                    source_type="training",
                    data_type="reasoning",
                    raw_data={},
                    quality_score=score,
                )
            )
        university_id = university.id
    with read_session(engine) as session:
        histogram = training_data.quality_histogram(session, university_id)
    # Every bucket is a row, the empty ones with 0: a chart's axis is even.
    assert histogram.set_index("bucket")["records"].to_dict() == {
        0: 1,
        1: 2,
        **dict.fromkeys(range(2, 9), 0),
        9: 2,
    }
    assert histogram["low"].tolist() == pytest.approx([b / 10 for b in range(10)])
    assert histogram["high"].tolist() == pytest.approx([b / 10 for b in range(1, 11)])


def test_validation_over_time_counts_per_day_and_status(engine, two_universities):
    first, _ = two_universities
    with read_session(engine) as session:
        over_time = training_data.validation_over_time(
            session, first.university_id, days=14, now=NOW
        )
    cells = {
        (row.day, row.validation_status): row.records for row in over_time.itertuples()
    }
    assert cells == {
        ((NOW - timedelta(days=9)).date(), "validated"): 1,
        ((NOW - timedelta(days=1)).date(), "anonymized"): 1,
        (NOW.date(), "pending"): 1,
    }
    assert len(training_data.validation_days(14, now=NOW)) == 14


def test_source_matrix_and_anonymization_coverage(engine, two_universities):
    first, _ = two_universities
    with read_session(engine) as session:
        matrix = training_data.source_type_matrix(session, first.university_id)
        coverage = training_data.anonymization_coverage(session, first.university_id)
    cells = matrix.set_index(["source_type", "data_type"])
    assert len(matrix) == 16
    assert cells.loc[("training", "conversation"), "records"] == 1
    assert cells.loc[("competition", "conversation"), "mean_quality"] == 0.9
    assert cells.loc[("evaluation", "tool_use"), "records"] == 0
    by_type = coverage.set_index("data_type")
    assert by_type.loc["conversation", "records"] == 2
    assert by_type.loc["conversation", "anonymized"] == 1
    assert by_type.loc["conversation", "share"] == 0.5
    assert coverage["exposed_raw"].sum() == 0


def test_review_queue_filters_pages_and_counts_in_sql(engine):
    with transaction(engine) as session:
        scene = build_scene(session, "Queue", scale=4)
    uid = scene.university_id
    with read_session(engine) as session:
        pending = training_data.review_count(session, uid, validation_status="pending")
        first_page = training_data.review_queue(
            session, uid, validation_status="pending", limit=3
        )
        second_page = training_data.review_queue(
            session, uid, validation_status="pending", limit=3, offset=3
        )
        by_status = training_data.review_status_counts(session, uid)
        good = training_data.review_count(session, uid, min_quality=0.5)
        recent = training_data.review_count(
            session,
            uid,
            collected_from=(NOW - timedelta(days=1)).date(),
            collected_to=(NOW - timedelta(days=1)).date(),
        )
        chosen = training_data.review_count(
            session, uid, record_ids=tuple(scene.records[:2])
        )
        agents = training_data.agent_choices(session, uid)
    assert pending == 4
    assert len(first_page) == 3 and len(second_page) == 1
    assert not set(first_page["id"]) & set(second_page["id"])
    assert by_status == {"pending": 4, "validated": 4, "rejected": 0, "anonymized": 4}
    assert good == 8
    assert recent == 4
    assert chosen == 2
    assert set(agents["name"]) == {"Queue Ada", "Queue Bob"}


def test_training_data_queries_ignore_other_universities(engine, two_universities):
    _, second = two_universities
    with transaction(engine) as session:
        empty_id = make_university(session).id
    with read_session(engine) as session:
        assert training_data.quality_histogram(session, empty_id).empty
        assert training_data.review_count(session, empty_id) == 0
        assert training_data.anonymization_coverage(session, empty_id).empty
        assert training_data.source_type_matrix(session, empty_id)["records"].sum() == 0
        assert training_data.review_count(session, second.university_id) == 3


# -- The ratings chart's title ------------------------------------------------------

INF = math.inf


def chart_of(*bounds: tuple[float, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rating_lower": [low for low, _ in bounds],
            "rating_upper": [high for _, high in bounds],
        }
    )


def test_the_chart_title_promises_intervals_only_when_every_one_is_finite():
    nan = math.nan
    heading = leaderboard.chart_heading

    assert heading(chart_of((1, 2), (3, 4)), intervals=True) == (
        "Top 2 ratings with their 95% intervals",
        None,
    )
    assert heading(chart_of((nan, nan)), intervals=False) == ("Top 1 rating", None)
    assert heading(chart_of((1, 2)), intervals=True, group="group 1 (2 agents)")[0] == (
        "Top 1 rating with its 95% interval in group 1 (2 agents)"
    )

    # Too few matches: nothing but the ratings is drawn, and the title says so.
    title, note = heading(chart_of((nan, nan), (nan, nan)), intervals=True)
    assert title == "Top 2 ratings"
    assert note == (
        "No 95% interval for 2 agents (see the interval column): only the "
        "rating is drawn."
    )

    # An unbeaten agent's interval is open above, a winless one's below.
    title, note = heading(
        chart_of((1, INF), (2, 3), (-INF, 0), (nan, nan)),
        intervals=True,
        group="group 2 (4 agents)",
    )
    assert title == "Top 4 ratings in group 2 (4 agents), 1 with a 95% interval"
    assert note.startswith("2 agents with a side the results do not bound")
    assert "▶ unbounded above, ◀ unbounded below" in note
    assert note.endswith(
        "No 95% interval for 1 agent (see the interval column): "
        "only the rating is drawn."
    )


def test_a_rating_open_on_both_sides_is_drawn_as_a_diamond_and_said_so():
    chart = chart_of((1, INF), (-INF, 0), (-INF, INF), (1, 2))

    assert leaderboard.interval_markers(chart) == [
        "triangle-right",
        "triangle-left",
        "diamond",
        "circle",
    ]
    _, note = leaderboard.chart_heading(chart, intervals=True)
    assert "▶ unbounded above, ◀ unbounded below and ◆ both" in note
