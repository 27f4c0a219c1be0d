"""Retention: archiving universities past their retention period, one per
transaction, and restoring one; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text, update

from tests.rows import insert_graph, insert_row, valid_values
from university_models.cli import main
from university_models.db import Base, read_session, transaction
from university_models.errors import Conflict, InvalidInput, NotFound
from university_models.models import (
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    University,
    UniversityAgent,
    User,
    universities_archive,
    university_agents_archive,
)
from university_models.services import retention
from university_models.services.retention import (
    archive_due_universities,
    find_due_universities,
    restore_university,
    retention_days,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=400)


def row_counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(
                select(func.count()).select_from(table)
            ).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def university_rows(engine, university_id: str) -> dict[str, int]:
    """How many rows of each table belong to one university, live and
    archived."""
    queries = {
        "universities": "SELECT count(*) FROM universities WHERE id = :id",
        "university_agents": (
            "SELECT count(*) FROM university_agents WHERE university_id = :id"
        ),
        "curriculum_paths": (
            "SELECT count(*) FROM curriculum_paths WHERE university_id = :id"
        ),
        "competitions": "SELECT count(*) FROM competitions WHERE university_id = :id",
        "training_data_collections": (
            "SELECT count(*) FROM training_data_collections WHERE university_id = :id"
        ),
        "improvement_proposals": (
            "SELECT count(*) FROM improvement_proposals WHERE university_id = :id"
        ),
        "universities_archive": (
            "SELECT count(*) FROM universities_archive WHERE id = :id"
        ),
        "university_agents_archive": (
            "SELECT count(*) FROM university_agents_archive WHERE university_id = :id"
        ),
    }
    with engine.connect() as connection:
        return {
            name: connection.execute(text(sql), {"id": university_id}).scalar_one()
            for name, sql in queries.items()
        }


def fully_live(counts: dict[str, int]) -> bool:
    return (
        counts["universities"] == 1
        and counts["university_agents"] >= 1
        and counts["curriculum_paths"] >= 1
        and counts["universities_archive"] == 0
        and counts["university_agents_archive"] == 0
    )


def fully_archived(counts: dict[str, int], agents: int) -> bool:
    gone = (
        "universities",
        "university_agents",
        "curriculum_paths",
        "competitions",
        "training_data_collections",
        "improvement_proposals",
    )
    return (
        all(counts[name] == 0 for name in gone)
        and counts["universities_archive"] == 1
        and counts["university_agents_archive"] == agents
    )


def make_full_university(
    engine,
    *,
    status: str = "archived",
    last_activity_at: datetime = LONG_AGO,
    settings: dict | None = None,
    name: str | None = None,
) -> dict[str, str]:
    """A university with a row in every table, including every foreign key
    that has no ON DELETE action: progress to a level, a pairwise match
    between two participants, a competition's winner, an agent's current
    path and level, a proposal's source record."""
    with engine.begin() as connection:
        ids = insert_graph(connection)
        university = ids["universities"]
        values = {"status": status, "last_activity_at": last_activity_at}
        if settings is not None:
            values["settings"] = settings
        if name is not None:
            values["name"] = name
        connection.execute(
            update(University.__table__)
            .where(University.__table__.c.id == university)
            .values(**values)
        )

        rival = insert_row(
            connection,
            UniversityAgent,
            **valid_values("university_agents", ids) | {"name": "Rival"},
        )
        rival_seat = insert_row(
            connection,
            CompetitionParticipant,
            competition_id=ids["competitions"],
            agent_id=rival,
        )
        insert_row(
            connection,
            CompetitionMatch,
            **valid_values("competition_matches", ids)
            | {"match_number": 2, "participant2_id": rival_seat},
        )
        connection.execute(
            update(Competition.__table__)
            .where(Competition.__table__.c.id == ids["competitions"])
            .values(winner_agent_id=rival)
        )
        connection.execute(
            update(UniversityAgent.__table__)
            .where(UniversityAgent.__table__.c.id == ids["university_agents"])
            .values(
                current_curriculum_path_id=ids["curriculum_paths"],
                current_curriculum_level_id=ids["curriculum_levels"],
                current_challenge_index=1,
                competition_wins=3,
            )
        )
    ids["rival"] = rival
    return ids


# --- which universities are due --------------------------------------------


def test_retention_days_default_and_invalid_values():
    assert retention_days({}) == 365
    assert retention_days(None) == 365
    assert retention_days({"data_retention_days": 30}) == 30
    assert retention_days({"data_retention_days": 30.0}) == 30
    for bad in (0, -5, 1.5, "30", None, True):
        assert retention_days({"data_retention_days": bad}) is None, bad


def test_only_archived_universities_past_their_retention_period_are_due(engine):
    due = make_full_university(engine)
    active = make_full_university(engine, status="active")
    suspended = make_full_university(engine, status="suspended")
    exactly_at_limit = make_full_university(
        engine, last_activity_at=NOW - timedelta(days=365)
    )
    just_past_limit = make_full_university(
        engine, last_activity_at=NOW - timedelta(days=365, seconds=1)
    )
    short_retention = make_full_university(
        engine,
        last_activity_at=NOW - timedelta(days=31),
        settings={"data_retention_days": 30},
    )
    long_retention = make_full_university(
        engine, settings={"data_retention_days": 1000}
    )
    invalid_retention = make_full_university(
        engine, settings={"data_retention_days": "forever"}
    )

    with read_session(engine) as session:
        found = {r.university_id for r in find_due_universities(session, now=NOW)}

    assert found == {
        due["universities"],
        just_past_limit["universities"],
        short_retention["universities"],
    }
    for kept in (active, suspended, exactly_at_limit, long_retention):
        assert kept["universities"] not in found
    assert invalid_retention["universities"] not in found


def test_due_list_counts_agents_and_orders_by_oldest_activity(engine):
    older = make_full_university(engine, last_activity_at=NOW - timedelta(days=900))
    newer = make_full_university(engine, last_activity_at=NOW - timedelta(days=500))

    with read_session(engine) as session:
        due = find_due_universities(session, now=NOW)

    assert [r.university_id for r in due] == [
        older["universities"],
        newer["universities"],
    ]
    assert [r.agents for r in due] == [2, 2]
    assert all(r.retention_days == 365 and not r.archived for r in due)


def test_naive_now_is_refused(engine):
    with read_session(engine) as session, pytest.raises(InvalidInput, match="zone"):
        find_due_universities(session, now=datetime(2026, 1, 1))


# --- archiving --------------------------------------------------------------


def test_archive_moves_university_and_agents_and_deletes_everything_else(engine):
    ids = make_full_university(engine)
    university = ids["universities"]

    results = archive_due_universities(engine, now=NOW)

    assert [(r.university_id, r.archived, r.agents, r.error) for r in results] == [
        (university, True, 2, None)
    ]
    assert fully_archived(university_rows(engine, university), agents=2)
    counts = row_counts(engine)
    for table in (
        "curriculum_levels",
        "agent_progress",
        "competition_participants",
        "competition_matches",
    ):
        assert counts[table] == 0, table
    # The owner user is not the university's: it stays.
    assert counts["users"] == 1

    with engine.connect() as connection:
        archived = connection.execute(
            select(universities_archive).where(universities_archive.c.id == university)
        ).one()
        agents = connection.execute(
            select(university_agents_archive).order_by(university_agents_archive.c.name)
        ).all()
    assert archived.status == "archived"
    assert archived.archived_at == NOW
    assert archived.last_activity_at == LONG_AGO
    assert {agent.id for agent in agents} == {ids["university_agents"], ids["rival"]}
    kept = next(a for a in agents if a.id == ids["university_agents"])
    assert kept.configuration == {}
    assert kept.competition_wins == 3
    assert kept.current_curriculum_level_id == ids["curriculum_levels"]
    assert kept.archived_at == NOW


def test_archive_leaves_other_universities_untouched(engine):
    due = make_full_university(engine)
    live = make_full_university(engine, status="active")
    before = university_rows(engine, live["universities"])

    archive_due_universities(engine, now=NOW)

    assert university_rows(engine, live["universities"]) == before
    assert fully_live(before)
    assert fully_archived(university_rows(engine, due["universities"]), agents=2)


def test_dry_run_lists_what_would_move_and_changes_nothing(engine):
    ids = make_full_university(engine)
    make_full_university(engine, status="active")
    before = row_counts(engine)
    lines: list[str] = []

    results = archive_due_universities(
        engine, now=NOW, dry_run=True, progress=lines.append
    )

    assert [(r.university_id, r.archived) for r in results] == [
        (ids["universities"], False)
    ]
    assert len(lines) == 1 and lines[0].startswith("would archive 'Test U'")
    assert "2 agents" in lines[0]
    assert row_counts(engine) == before


def test_confirmed_run_archives_only_what_the_dry_run_listed(engine):
    listed = make_full_university(engine)
    listed_ids = [
        r.university_id for r in archive_due_universities(engine, now=NOW, dry_run=True)
    ]
    # Becomes due after the person read the list.
    late = make_full_university(engine)

    results = archive_due_universities(engine, now=NOW, only=listed_ids)

    assert [r.university_id for r in results] == [listed["universities"]]
    assert fully_archived(university_rows(engine, listed["universities"]), agents=2)
    assert fully_live(university_rows(engine, late["universities"]))


def test_nothing_due_changes_nothing(engine):
    make_full_university(engine, status="active")
    before = row_counts(engine)

    assert archive_due_universities(engine, now=NOW) == []
    assert row_counts(engine) == before


def test_failed_move_leaves_that_university_fully_live_and_others_archived(engine):
    """A real failure halfway through a run: the first university's archive
    row already exists (same id), so its insert violates the archive's
    primary key. That university must stay fully live, with nothing of it
    half-copied, while the university after it is fully archived."""
    failing = make_full_university(engine, last_activity_at=NOW - timedelta(days=900))
    other = make_full_university(engine, last_activity_at=NOW - timedelta(days=500))
    with engine.begin() as connection:
        connection.execute(
            insert(universities_archive).values(
                id=failing["universities"],
                name="An older copy",
                owner_user_id=failing["users"],
                archived_at=NOW - timedelta(days=30),
            )
        )
    lines: list[str] = []

    results = archive_due_universities(engine, now=NOW, progress=lines.append)

    assert [(r.university_id, r.archived) for r in results] == [
        (failing["universities"], False),
        (other["universities"], True),
    ]
    assert results[0].error
    assert lines[0].startswith("FAILED 'Test U'")
    failed_rows = university_rows(engine, failing["universities"])
    assert fully_live(failed_rows | {"universities_archive": 0})
    assert failed_rows["universities_archive"] == 1  # only the older copy
    assert failed_rows["university_agents_archive"] == 0
    assert failed_rows["university_agents"] == 2
    assert failed_rows["competitions"] == 1
    assert fully_archived(university_rows(engine, other["universities"]), agents=2)


def test_run_stopped_after_the_first_university_leaves_the_rest_fully_live(engine):
    """The run is stopped (Ctrl-C) as soon as the first university is done:
    that one is fully archived, the second was never touched."""
    first = make_full_university(engine, last_activity_at=NOW - timedelta(days=900))
    second = make_full_university(engine, last_activity_at=NOW - timedelta(days=500))

    def stop(line: str) -> None:
        raise KeyboardInterrupt(line)

    with pytest.raises(KeyboardInterrupt):
        archive_due_universities(engine, now=NOW, progress=stop)

    assert fully_archived(university_rows(engine, first["universities"]), agents=2)
    assert fully_live(university_rows(engine, second["universities"]))


def test_university_reactivated_after_listing_is_not_archived(engine, monkeypatch):
    """The due list is checked again under the row lock: a university that
    became active in between stays live."""
    ids = make_full_university(engine)
    real_find = retention.find_due_universities

    def find_then_reactivate(session, *, now):
        due = real_find(session, now=now)
        with engine.begin() as connection:
            connection.execute(
                update(University.__table__)
                .where(University.__table__.c.id == ids["universities"])
                .values(status="active")
            )
        return due

    monkeypatch.setattr(retention, "find_due_universities", find_then_reactivate)
    results = archive_due_universities(engine, now=NOW)

    assert results[0].archived is False
    assert "no longer due" in results[0].error
    assert fully_live(university_rows(engine, ids["universities"]))


# --- restoring --------------------------------------------------------------


def test_restore_brings_back_university_and_agents_only(engine):
    ids = make_full_university(engine)
    university = ids["universities"]
    archive_due_universities(engine, now=NOW)

    with transaction(engine) as session:
        restored = restore_university(session, "Test U")
        assert restored.id == university

    counts = university_rows(engine, university)
    assert counts["universities"] == 1
    assert counts["university_agents"] == 2
    assert counts["universities_archive"] == 0
    assert counts["university_agents_archive"] == 0
    # Everything else was deleted when it was archived.
    assert counts["curriculum_paths"] == 0
    assert counts["competitions"] == 0
    assert counts["training_data_collections"] == 0
    assert counts["improvement_proposals"] == 0

    with read_session(engine) as session:
        restored = session.get(University, university)
        assert restored.status == "archived"
        assert restored.last_activity_at > NOW
        agent = session.get(UniversityAgent, ids["university_agents"])
        assert agent.name == "A"
        assert agent.agent_type == "student"
        assert agent.current_curriculum_path_id is None
        assert agent.current_curriculum_level_id is None
        assert agent.current_challenge_index == 0
        # Counters follow the records, which are gone.
        assert agent.competition_wins == 0


def test_restore_by_id_and_not_due_again_straight_away(engine):
    ids = make_full_university(engine)
    archive_due_universities(engine, now=NOW)

    with transaction(engine) as session:
        restore_university(session, ids["universities"])

    assert archive_due_universities(engine) == []
    assert university_rows(engine, ids["universities"])["universities"] == 1


def test_restoring_an_unknown_name_is_refused_with_the_archived_names(engine):
    make_full_university(engine, name="Old College")
    archive_due_universities(engine, now=NOW)
    before = row_counts(engine)

    with (
        pytest.raises(NotFound, match="'Nowhere'.*'Old College'"),
        transaction(engine) as session,
    ):
        restore_university(session, "Nowhere")

    assert row_counts(engine) == before


def test_restoring_over_a_live_university_of_the_same_name_is_refused(engine):
    make_full_university(engine, name="Twin")
    archive_due_universities(engine, now=NOW)
    make_full_university(engine, status="active", name="Twin")
    before = row_counts(engine)

    with (
        pytest.raises(Conflict, match="already named 'Twin'"),
        transaction(engine) as session,
    ):
        restore_university(session, "Twin")

    assert row_counts(engine) == before


def test_restoring_an_ambiguous_name_is_refused_with_the_ids(engine):
    first = make_full_university(engine, name="Same")
    second = make_full_university(engine, name="Same")
    archive_due_universities(engine, now=NOW)
    before = row_counts(engine)

    with (
        pytest.raises(InvalidInput, match="2 archived universities") as refusal,
        transaction(engine) as session,
    ):
        restore_university(session, "Same")

    assert first["universities"] in str(refusal.value)
    assert second["universities"] in str(refusal.value)
    assert row_counts(engine) == before


def test_restoring_when_the_owner_is_gone_is_refused(engine):
    ids = make_full_university(engine)
    archive_due_universities(engine, now=NOW)
    with engine.begin() as connection:
        connection.execute(
            User.__table__.delete().where(User.__table__.c.id == ids["users"])
        )
    before = row_counts(engine)

    with pytest.raises(NotFound, match="owner"), transaction(engine) as session:
        restore_university(session, "Test U")

    assert row_counts(engine) == before


# --- command line -----------------------------------------------------------


@pytest.fixture
def configured(engine, monkeypatch):
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    return engine


def test_cli_archive_dry_run_then_archive_then_restore(configured, capsys):
    engine = configured
    ids = make_full_university(
        engine,
        name="Dormant College",
        last_activity_at=datetime.now(UTC) - timedelta(days=400),
    )
    before = row_counts(engine)

    assert main(["archive", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would archive 'Dormant College'" in out
    assert "dry run: 1 universities would be archived; nothing changed" in out
    assert row_counts(engine) == before

    assert main(["archive"]) == 0
    out = capsys.readouterr().out
    assert "archived 'Dormant College'" in out
    assert "archived 1 universities, 0 failed" in out
    assert fully_archived(university_rows(engine, ids["universities"]), agents=2)

    assert main(["archive"]) == 0
    assert "no university is due for archiving" in capsys.readouterr().out

    assert main(["restore", "Dormant College"]) == 0
    out = capsys.readouterr().out
    assert "restored 'Dormant College'" in out
    assert "with 2 agents" in out
    assert university_rows(engine, ids["universities"])["universities"] == 1


def test_cli_restore_of_unknown_name_fails_with_a_message(configured, capsys):
    before = row_counts(configured)

    assert main(["restore", "Nowhere"]) == 1

    assert "No archived university is named" in capsys.readouterr().err
    assert row_counts(configured) == before


def test_restoring_a_university_archived_but_not_yet_moved_says_how_to_reactivate(
    configured, capsys
):
    # Archived (and due), but the retention run has not moved it yet.
    make_full_university(configured, name="Old Academy")
    before = row_counts(configured)

    assert main(["restore", "old academy"]) == 1

    message = capsys.readouterr().err
    assert "University 'Old Academy' is live (status archived)" in message
    assert "university set-status 'Old Academy' active" in message
    assert row_counts(configured) == before


def test_cli_archive_exits_nonzero_when_a_move_fails(configured, capsys):
    engine = configured
    ids = make_full_university(
        engine, last_activity_at=datetime.now(UTC) - timedelta(days=400)
    )
    with engine.begin() as connection:
        connection.execute(
            insert(universities_archive).values(
                id=ids["universities"], name="copy", owner_user_id=ids["users"]
            )
        )

    assert main(["archive"]) == 1

    assert "archived 0 universities, 1 failed" in capsys.readouterr().out
    rows = university_rows(engine, ids["universities"])
    assert fully_live(rows | {"universities_archive": 0})
    assert rows["university_agents_archive"] == 0


def test_restored_university_can_be_archived_again_later(engine):
    ids = make_full_university(engine)
    archive_due_universities(engine, now=NOW)
    with transaction(engine) as session:
        restore_university(session, ids["universities"])

    later = datetime.now(UTC) + timedelta(days=400)
    results = archive_due_universities(engine, now=later)

    assert [(r.university_id, r.archived, r.agents) for r in results] == [
        (ids["universities"], True, 2)
    ]
    assert fully_archived(university_rows(engine, ids["universities"]), agents=2)
