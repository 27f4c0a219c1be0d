"""The demo universities: built through the services on SQLite and
PostgreSQL, every value of every status column present, deterministic for a seed,
refused twice without replace, skipped by --if-empty on a non-empty
database, and still built when the real data files are missing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import aliased

from tests.conftest import ENGINES
from tests.factories import make_university
from university_models import migrate
from university_models.cli import main
from university_models.config import published_data_dir
from university_models.db import Base, make_engine, read_session, transaction
from university_models.demo import (
    DEMO_MARKER,
    DEMO_UNIVERSITIES,
    REAL_RESULTS,
    DemoSummary,
    _import_real_results,
    build_demo,
    demo_university_ids,
    laliga_pairwise_records,
    load_demo_if_empty,
)
from university_models.errors import Conflict
from university_models.models import (
    AGENT_STATUSES,
    AGENT_TYPES,
    COMPETITION_STATUSES,
    COMPETITION_TYPES,
    DATA_TYPES,
    IMPLEMENTATION_STATUSES,
    MATCH_STATUSES,
    PARTICIPANT_STATUSES,
    PARTICIPANT_TYPES,
    PATH_STATUSES,
    PROGRESS_STATUSES,
    PROPOSAL_STATUSES,
    SOURCE_TYPES,
    UNIVERSITY_STATUSES,
    VALIDATION_STATUSES,
    AgentProgress,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    CurriculumLevel,
    CurriculumPath,
    ImprovementProposal,
    TrainingDataCollection,
    University,
    UniversityAgent,
)
from university_models.queries.overview import overview_metrics
from university_models.services.agents import refresh_agent_counters

LYCEUM, ATHENAEUM, COLLEGIUM, OLD_ACADEMY = (spec.name for spec in DEMO_UNIVERSITIES)
SEED = 7

#: Every status column of the schema with every value it may hold (and the
#: participant types and privacy levels, which the issue also names).
STATUS_COLUMNS = {
    "universities.status": (University.status, UNIVERSITY_STATUSES),
    "university_agents.status": (UniversityAgent.status, AGENT_STATUSES),
    "curriculum_paths.status": (CurriculumPath.status, PATH_STATUSES),
    "agent_progress.status": (AgentProgress.status, PROGRESS_STATUSES),
    "competitions.status": (Competition.status, COMPETITION_STATUSES),
    "competition_participants.status": (
        CompetitionParticipant.status,
        PARTICIPANT_STATUSES,
    ),
    "competition_participants.participant_type": (
        CompetitionParticipant.participant_type,
        PARTICIPANT_TYPES,
    ),
    "competition_matches.status": (CompetitionMatch.status, MATCH_STATUSES),
    "training_data_collections.validation_status": (
        TrainingDataCollection.validation_status,
        VALIDATION_STATUSES,
    ),
    "training_data_collections.privacy_level": (
        TrainingDataCollection.privacy_level,
        ("private", "shared", "public"),
    ),
    "improvement_proposals.validation_status": (
        ImprovementProposal.validation_status,
        PROPOSAL_STATUSES,
    ),
    "improvement_proposals.implementation_status": (
        ImprovementProposal.implementation_status,
        IMPLEMENTATION_STATUSES,
    ),
}


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(
                select(func.count()).select_from(table)
            ).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def university_ids(session) -> dict[str, str]:
    return dict(session.execute(select(University.name, University.id)).all())


@pytest.fixture(scope="module", params=ENGINES)
def demo(request, tmp_path_factory) -> Iterator[tuple[Engine, object]]:
    """One demo, real data included, built once per engine for the tests
    that only read it."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("demo") / "university.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        engine = make_engine(f"sqlite:///{path}")
    else:
        url = request.getfixturevalue("postgres_server").create_database()
        engine = make_engine(url)
        migrate.upgrade(engine)
    lines: list[str] = []
    summary = build_demo(engine, seed=SEED, progress=lines.append)
    summary.lines = lines
    yield engine, summary
    engine.dispose()


# --- what the demo holds ----------------------------------------------------


def test_demo_builds_marked_universities_with_every_agent_type(demo):
    engine, summary = demo

    assert summary.universities == [LYCEUM, ATHENAEUM, COLLEGIUM, OLD_ACADEMY]
    assert summary.skipped == []
    with read_session(engine) as session:
        ids = university_ids(session)
        assert set(ids) == {LYCEUM, ATHENAEUM, COLLEGIUM, OLD_ACADEMY}
        assert sorted(demo_university_ids(session)) == sorted(ids.values())
        statuses = dict(
            session.execute(select(University.name, University.status)).all()
        )
        for university_id in ids.values():
            types = set(
                session.scalars(
                    select(UniversityAgent.agent_type)
                    .where(UniversityAgent.university_id == university_id)
                    .distinct()
                )
            )
            assert types == set(AGENT_TYPES)
    # Two active universities hold the living data; the small ones show the
    # other statuses.
    assert statuses == {
        LYCEUM: "active",
        ATHENAEUM: "active",
        COLLEGIUM: "suspended",
        OLD_ACADEMY: "archived",
    }


@pytest.mark.parametrize("column", sorted(STATUS_COLUMNS))
def test_demo_holds_every_value_of_every_status_column(demo, column):
    engine, _ = demo
    attribute, values = STATUS_COLUMNS[column]
    with read_session(engine) as session:
        present = set(session.scalars(select(attribute).distinct()))

    assert present == set(values), column


def test_demo_status_columns_are_all_checked():
    """A status column added to the schema must be added to the demo and to
    STATUS_COLUMNS."""
    status_columns = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("status") and not table.name.endswith("_archive")
    }
    assert status_columns <= set(STATUS_COLUMNS)


def test_demo_disqualification_forfeits_and_a_match_is_in_play(demo):
    engine, _ = demo
    with read_session(engine) as session:
        ids = university_ids(session)
        for university_id in (ids[LYCEUM], ids[ATHENAEUM]):
            in_university = Competition.university_id == university_id
            disqualified = session.scalars(
                select(CompetitionParticipant)
                .join(Competition)
                .where(in_university, CompetitionParticipant.status == "disqualified")
            ).all()
            matches = session.scalars(
                select(CompetitionMatch).join(Competition).where(in_university)
            ).all()
            forfeits = [m for m in matches if (m.match_config or {}).get("forfeit")]
            in_play = [m for m in matches if m.status == "active"]

            assert len(disqualified) == 1
            cheat = disqualified[0].id
            assert forfeits
            for m in forfeits:
                assert m.status == "completed"
                assert cheat in (m.participant1_id, m.participant2_id)
                assert m.winner_participant_id not in (cheat, None)
            assert len(in_play) == 1 and in_play[0].started_at is not None


def test_demo_progress_is_in_every_status_on_three_paths(demo):
    engine, _ = demo
    with read_session(engine) as session:
        lyceum = university_ids(session)[LYCEUM]
        level_counts = session.execute(
            select(CurriculumPath.name, func.count(CurriculumLevel.id))
            .join(CurriculumLevel)
            .where(CurriculumPath.university_id == lyceum)
            .group_by(CurriculumPath.name)
        ).all()
        statuses = dict(
            session.execute(
                select(AgentProgress.status, func.count())
                .join(UniversityAgent)
                .where(UniversityAgent.university_id == lyceum)
                .group_by(AgentProgress.status)
            ).all()
        )
        retried = session.scalars(
            select(AgentProgress.challenge_results)
            .join(UniversityAgent)
            .where(UniversityAgent.university_id == lyceum)
        ).all()

    assert len(level_counts) == 3
    assert all(4 <= levels <= 6 for _, levels in level_counts)
    assert set(statuses) == set(PROGRESS_STATUSES)
    assert any(
        any(result["attempt"] == 2 for result in results) for results in retried
    ), "a level retried after a failure keeps its first attempt"


def test_demo_competitions_cover_every_type_and_status_with_matches(demo):
    engine, _ = demo
    with read_session(engine) as session:
        lyceum = university_ids(session)[LYCEUM]
        combinations = session.execute(
            select(
                Competition.competition_type,
                Competition.status,
                func.count(CompetitionMatch.id),
            )
            .outerjoin(CompetitionMatch)
            .where(Competition.university_id == lyceum)
            .group_by(Competition.competition_type, Competition.status)
        ).all()
        match_statuses = set(
            session.scalars(
                select(CompetitionMatch.status)
                .join(Competition)
                .where(Competition.university_id == lyceum)
                .distinct()
            )
        )
        draws = session.scalar(
            select(func.count())
            .select_from(CompetitionMatch)
            .join(Competition)
            .where(
                Competition.university_id == lyceum,
                CompetitionMatch.status == "completed",
                CompetitionMatch.participant2_id.is_not(None),
                CompetitionMatch.winner_participant_id.is_(None),
            )
        )
        completed_without_winner = session.scalar(
            select(func.count())
            .select_from(Competition)
            .where(
                Competition.university_id == lyceum,
                Competition.status == "completed",
                Competition.competition_type == "tournament",
                Competition.winner_agent_id.is_(None),
            )
        )

    matches = {(kind, status): n for kind, status, n in combinations}
    assert set(matches) == {
        (kind, status) for kind in COMPETITION_TYPES for status in COMPETITION_STATUSES
    }
    for kind in COMPETITION_TYPES:
        assert matches[(kind, "scheduled")] == 0
        assert matches[(kind, "active")] > 0
        assert matches[(kind, "completed")] > 0
    assert match_statuses == set(MATCH_STATUSES)
    assert draws > 0
    assert completed_without_winner == 0


def test_demo_training_data_covers_types_sources_statuses_and_quality(demo):
    engine, _ = demo
    with read_session(engine) as session:
        ids = university_ids(session)
        # The two living universities; the small ones hold a few records.
        for university_id in (ids[LYCEUM], ids[ATHENAEUM]):
            scoped = TrainingDataCollection.university_id == university_id
            by = {
                column.key: set(
                    session.scalars(select(column).where(scoped).distinct())
                )
                for column in (
                    TrainingDataCollection.data_type,
                    TrainingDataCollection.source_type,
                    TrainingDataCollection.validation_status,
                    TrainingDataCollection.privacy_level,
                )
            }
            low, high, distinct = session.execute(
                select(
                    func.min(TrainingDataCollection.quality_score),
                    func.max(TrainingDataCollection.quality_score),
                    func.count(TrainingDataCollection.quality_score.distinct()),
                ).where(scoped)
            ).one()
            anonymized_with_copy = session.scalar(
                select(func.count()).where(
                    scoped,
                    TrainingDataCollection.validation_status == "anonymized",
                    TrainingDataCollection.anonymized.is_(True),
                    TrainingDataCollection.processed_data.is_not(None),
                )
            )
            anonymized = session.scalar(
                select(func.count()).where(
                    scoped, TrainingDataCollection.validation_status == "anonymized"
                )
            )
            pair_counts = (
                session.execute(
                    select(func.count())
                    .where(scoped)
                    .group_by(
                        TrainingDataCollection.source_type,
                        TrainingDataCollection.data_type,
                    )
                )
                .scalars()
                .all()
            )

            assert by["data_type"] == set(DATA_TYPES)
            assert by["source_type"] == set(SOURCE_TYPES)
            # Every pair of source and type, some far more often than others
            # (a sources-by-types heatmap of one colour shows nothing).
            counts = sorted(pair_counts)
            assert len(counts) == len(SOURCE_TYPES) * len(DATA_TYPES)
            assert counts[-1] >= 3 * counts[0]
            assert by["validation_status"] == set(VALIDATION_STATUSES)
            assert by["privacy_level"] == {"private", "shared", "public"}
            assert low <= 0.5 and high == 1.0 and distinct >= 4
            assert anonymized_with_copy == anonymized > 0


def test_demo_anonymization_replaced_the_personal_data(demo):
    engine, _ = demo
    with read_session(engine) as session:
        copies = session.scalars(
            select(TrainingDataCollection.processed_data).where(
                TrainingDataCollection.anonymized.is_(True)
            )
        ).all()
        raw = session.scalars(select(TrainingDataCollection.raw_data)).all()

    assert any("jane.doe@example.org" in json.dumps(r) for r in raw)
    assert not any("jane.doe@example.org" in json.dumps(c) for c in copies)
    assert not any("203.0.113.42" in json.dumps(c) for c in copies)


def test_demo_proposals_are_in_every_state(demo):
    engine, _ = demo
    with read_session(engine) as session:
        lyceum = university_ids(session)[LYCEUM]
        pairs = set(
            session.execute(
                select(
                    ImprovementProposal.validation_status,
                    ImprovementProposal.implementation_status,
                )
                .where(ImprovementProposal.university_id == lyceum)
                .distinct()
            ).all()
        )
        histories = session.scalars(
            select(ImprovementProposal.validation_results).where(
                ImprovementProposal.university_id == lyceum
            )
        ).all()

    assert {status for status, _ in pairs} == set(PROPOSAL_STATUSES)
    assert {implementation for _, implementation in pairs} == set(
        IMPLEMENTATION_STATUSES
    )
    assert ("implemented", "completed") in pairs
    assert ("approved", "failed") in pairs
    assert any(len(history or []) >= 2 for history in histories), "a reopening"


def test_demo_history_runs_in_order_and_the_overview_has_a_week_ago(demo):
    engine, _ = demo
    with read_session(engine) as session:
        lyceum = university_ids(session)[LYCEUM]
        first_study = dict(
            session.execute(
                select(AgentProgress.agent_id, func.min(AgentProgress.started_at))
                .join(UniversityAgent)
                .where(UniversityAgent.university_id == lyceum)
                .group_by(AgentProgress.agent_id)
            ).all()
        )
        agents_created = dict(
            session.execute(
                select(UniversityAgent.id, UniversityAgent.created_at).where(
                    UniversityAgent.university_id == lyceum
                )
            ).all()
        )
        competitions = session.execute(
            select(Competition.created_at, Competition.scheduled_start).where(
                Competition.university_id == lyceum,
                # Imported history is created when it is imported.
                Competition.name.not_in([real.competition for real in REAL_RESULTS]),
            )
        ).all()
        records = session.execute(
            select(
                TrainingDataCollection.collected_at, TrainingDataCollection.validated_at
            ).where(
                TrainingDataCollection.university_id == lyceum,
                TrainingDataCollection.validated_at.is_not(None),
            )
        ).all()
        proposals = session.scalars(
            select(ImprovementProposal).where(
                ImprovementProposal.university_id == lyceum
            )
        ).all()
        metrics = overview_metrics(session, lyceum)
        proposal_times = [
            (
                proposal.created_at,
                [datetime.fromisoformat(e["at"]) for e in proposal.validation_results],
                proposal.validated_at,
                proposal.implemented_at,
            )
            for proposal in proposals
        ]

    assert first_study
    for agent_id, started in first_study.items():
        assert agents_created[agent_id] < started
    assert all(created < start for created, start in competitions)
    assert records and all(collected < validated for collected, validated in records)
    for created, decisions, validated, implemented in proposal_times:
        times = [created, *decisions, *([implemented] if implemented else [])]
        assert times == sorted(times)
        assert validated is None or validated in decisions
    # Seven days ago the demo already had the agents it built; those of the
    # imported results arrive with the import, today.
    assert 0 < metrics["agents"].previous < metrics["agents"].value
    assert metrics["mean_competency"].previous is not None


def test_demo_imports_arena_hard_and_la_liga(demo):
    engine, summary = demo
    with read_session(engine) as session:
        ids = university_ids(session)
        imported = dict(
            session.execute(
                select(Competition.name, func.count(CompetitionMatch.id))
                .join(CompetitionMatch)
                .where(
                    Competition.name.in_(
                        ["Arena-Hard judgments (2024)", "La Liga 2019/20"]
                    )
                )
                .group_by(Competition.name)
            ).all()
        )
        homes = dict(
            session.execute(
                select(Competition.name, Competition.university_id).where(
                    Competition.name.in_(
                        ["Arena-Hard judgments (2024)", "La Liga 2019/20"]
                    )
                )
            ).all()
        )
        barcelona_draws = session.scalar(
            select(UniversityAgent.competition_draws).where(
                UniversityAgent.name == "FC Barcelona"
            )
        )

    assert imported == {"Arena-Hard judgments (2024)": 1348, "La Liga 2019/20": 380}
    assert homes["Arena-Hard judgments (2024)"] == ids[LYCEUM]
    assert homes["La Liga 2019/20"] == ids[ATHENAEUM]
    # Published: Barcelona drew 7 of their 38 league matches in 2019/20.
    assert barcelona_draws == 7
    assert summary.counts[LYCEUM]["imported matches"] == 1348
    assert any("La Liga 2019/20" in line for line in summary.lines)
    # The summary's agents are the university's, the imported ones included.
    for name in (LYCEUM, ATHENAEUM):
        with read_session(engine) as session:
            agents = session.scalar(
                select(func.count())
                .select_from(UniversityAgent)
                .join(University)
                .where(University.name == name)
            )
        assert summary.counts[name]["agents"] == agents


def test_demo_summary_counts_one_thing_in_the_singular(demo):
    _, summary = demo
    # The small universities have one path each.
    assert any("1 curriculum path," in line for line in summary.lines)
    assert not any("1 curriculum paths" in line for line in summary.lines)


def test_demo_keeps_universities_apart(demo):
    """Every participant, progress record and training record belongs to an
    agent of the same university as the row it hangs off."""
    engine, _ = demo
    agent = aliased(UniversityAgent)
    with read_session(engine) as session:
        crossed_participants = session.scalar(
            select(func.count())
            .select_from(CompetitionParticipant)
            .join(Competition)
            .join(agent, agent.id == CompetitionParticipant.agent_id)
            .where(agent.university_id != Competition.university_id)
        )
        crossed_records = session.scalar(
            select(func.count())
            .select_from(TrainingDataCollection)
            .join(agent, agent.id == TrainingDataCollection.agent_id)
            .where(agent.university_id != TrainingDataCollection.university_id)
        )
        crossed_progress = session.scalar(
            select(func.count())
            .select_from(AgentProgress)
            .join(agent, agent.id == AgentProgress.agent_id)
            .join(CurriculumLevel)
            .join(CurriculumPath)
            .where(agent.university_id != CurriculumPath.university_id)
        )
    assert (crossed_participants, crossed_records, crossed_progress) == (0, 0, 0)


def test_demo_agent_counters_equal_their_records(demo):
    engine, _ = demo
    fields = (
        "competition_wins",
        "competition_losses",
        "competition_draws",
        "average_score",
        "highest_score",
        "training_data_collected",
        "training_hours",
        "competency_score",
    )
    # read_session rolls back: the recomputation is compared, not kept.
    with read_session(engine) as session:
        agents = session.scalars(select(UniversityAgent)).all()
        stored = {a.id: tuple(getattr(a, f) for f in fields) for a in agents}
        for agent in agents:
            refresh_agent_counters(session, agent.id)
        recomputed = {a.id: tuple(getattr(a, f) for f in fields) for a in agents}

    assert recomputed.keys() == stored.keys()
    for agent_id, values in stored.items():
        assert recomputed[agent_id] == pytest.approx(values), agent_id
    assert sum(values[0] for values in stored.values()) > 0


def test_second_build_without_replace_is_refused_and_changes_nothing(demo):
    engine, _ = demo
    before = row_counts(engine)

    with pytest.raises(Conflict, match="already holds 4 demo universities.*--replace"):
        build_demo(engine, seed=SEED)

    assert row_counts(engine) == before


def test_if_empty_skips_a_database_with_universities(demo):
    engine, _ = demo
    before = row_counts(engine)

    assert load_demo_if_empty(engine, seed=SEED) is None

    assert row_counts(engine) == before


# --- determinism, replacing, missing data -----------------------------------


def rounded(rows) -> list[tuple]:
    """Rows with floats rounded to 9 places: a SQL SUM adds in whatever
    order the rows come, so recomputed averages may differ in the last bit
    between two builds (PostgreSQL)."""
    return [
        tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows
    ]


def snapshot(engine: Engine) -> dict[str, list]:
    """The demo's content without ids and timestamps, in a fixed order."""
    p1 = aliased(CompetitionParticipant)
    p2 = aliased(CompetitionParticipant)
    a1 = aliased(UniversityAgent)
    a2 = aliased(UniversityAgent)
    with read_session(engine) as session:
        return {
            "agents": sorted(
                rounded(
                    session.execute(
                        select(
                            University.name,
                            UniversityAgent.name,
                            UniversityAgent.agent_type,
                            UniversityAgent.specialization,
                            UniversityAgent.competition_wins,
                            UniversityAgent.competition_draws,
                            UniversityAgent.competency_score,
                        )
                        .select_from(UniversityAgent)
                        .join(University)
                    ).all()
                )
            ),
            "configurations": sorted(
                json.dumps(c, sort_keys=True)
                for c in session.scalars(select(UniversityAgent.configuration))
            ),
            "progress": sorted(
                session.execute(
                    select(
                        UniversityAgent.name,
                        CurriculumLevel.name,
                        AgentProgress.status,
                        AgentProgress.challenges_completed,
                        AgentProgress.best_score,
                        AgentProgress.time_spent_minutes,
                    )
                    .select_from(AgentProgress)
                    .join(UniversityAgent)
                    .join(CurriculumLevel)
                ).all()
            ),
            "matches": sorted(
                session.execute(
                    select(
                        Competition.name,
                        Competition.status,
                        CompetitionMatch.match_number,
                        a1.name,
                        a2.name,
                        CompetitionMatch.participant1_score,
                        CompetitionMatch.participant2_score,
                        CompetitionMatch.status,
                    )
                    .select_from(CompetitionMatch)
                    .join(
                        Competition, Competition.id == CompetitionMatch.competition_id
                    )
                    .join(p1, p1.id == CompetitionMatch.participant1_id)
                    .join(a1, a1.id == p1.agent_id)
                    .outerjoin(p2, p2.id == CompetitionMatch.participant2_id)
                    .outerjoin(a2, a2.id == p2.agent_id)
                ).all(),
                key=repr,
            ),
            "training": sorted(
                session.execute(
                    select(
                        UniversityAgent.name,
                        TrainingDataCollection.data_type,
                        TrainingDataCollection.source_type,
                        TrainingDataCollection.validation_status,
                        TrainingDataCollection.privacy_level,
                        TrainingDataCollection.quality_score,
                    )
                    .select_from(TrainingDataCollection)
                    .join(UniversityAgent)
                ).all()
            ),
            "proposals": sorted(
                session.execute(
                    select(
                        ImprovementProposal.title,
                        ImprovementProposal.generated_by,
                        ImprovementProposal.validation_status,
                        ImprovementProposal.implementation_status,
                        ImprovementProposal.expected_improvement,
                    )
                ).all()
            ),
        }


# --- real data and the command line -----------------------------------------


def test_laliga_matches_flatten_into_pairwise_records():
    season = published_data_dir() / "laliga-2019-20-matches.json"
    with open(season, encoding="utf-8") as f:
        records = laliga_pairwise_records(json.load(f))

    assert len(records) == 380
    assert records[0] == {
        "agent_a": "Athletic Club Bilbao",
        "agent_b": "FC Barcelona",
        "score_a": 1,
        "score_b": 0,
        "round": 1,
        "played_at": "2019-08-16",
    }


def test_laliga_match_without_full_time_score_is_left_out():
    records = laliga_pairwise_records(
        {"matches": [{"team1": "A", "team2": "B", "score": {}}]}
    )
    assert records == []


@pytest.fixture
def configured(engine, monkeypatch):
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    return engine


def test_cli_demo_if_empty_skips_a_database_with_universities(configured, capsys):
    with transaction(configured) as session:
        make_university(session)
    before = row_counts(configured)

    assert main(["demo", "--if-empty"]) == 0

    assert "demo skipped" in capsys.readouterr().out
    assert row_counts(configured) == before


def test_cli_demo_refuses_when_demo_data_exists(configured, capsys):
    with transaction(configured) as session:
        make_university(session, settings={DEMO_MARKER: True})
    before = row_counts(configured)

    assert main(["demo", "--seed", "3"]) == 1

    assert "--replace" in capsys.readouterr().err
    assert row_counts(configured) == before


def test_cli_demo_replace_and_if_empty_cannot_be_combined(configured, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--replace", "--if-empty"])
    assert exit_.value.code == 2


def test_missing_data_folder_skips_the_real_results_with_a_warning(
    engine, tmp_path, caplog
):
    missing = tmp_path / "no-shared-data"
    summary = DemoSummary(seed=SEED)
    lines: list[str] = []
    before = row_counts(engine)

    with transaction(engine) as session:
        for real in REAL_RESULTS:
            _import_real_results(session, real, missing, summary, lines.append)

    assert [line.split(":")[0] for line in summary.skipped] == [
        real.competition for real in REAL_RESULTS
    ]
    assert all("skipped" in line for line in lines)
    assert "not found" in caplog.text
    assert row_counts(engine) == before


# --- last: rebuilds the shared demo -----------------------------------------


def test_same_seed_rebuilds_the_same_demo_and_replace_spares_other_universities(
    demo,
):
    """Replacing the demo with the same seed gives the same content, and a
    university a user made survives the replacement. (It runs last in this
    module: it rebuilds the demo the tests above read, identically.)"""
    engine, first = demo
    with transaction(engine) as session:
        kept_id = make_university(session, name="A user's own university").id
    content = snapshot(engine)

    second = build_demo(engine, seed=SEED, replace=True)

    assert snapshot(engine) == content
    assert second.counts == first.counts
    with read_session(engine) as session:
        assert session.get(University, kept_id) is not None
        assert len(demo_university_ids(session)) == 4
    assert content["matches"] and content["training"] and content["progress"]


def test_failed_build_leaves_the_database_as_it_was(engine):
    """A replacing build whose first university's name is taken by a user's
    university fails after it deleted the old demo: the deletion is rolled
    back with the rest, so the old demo is still there and nothing else
    changed."""
    with transaction(engine) as session:
        old_demo = make_university(
            session, name="Old demo", settings={DEMO_MARKER: True}
        ).id
        make_university(session, name=LYCEUM)
    before = row_counts(engine)

    with pytest.raises(Conflict, match=LYCEUM):
        build_demo(engine, seed=SEED, replace=True, data_dir=published_data_dir())

    assert row_counts(engine) == before
    with read_session(engine) as session:
        assert demo_university_ids(session) == [old_demo]
