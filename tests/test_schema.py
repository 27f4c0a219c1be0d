"""What the database itself enforces, on SQLite and PostgreSQL: checks,
uniques, cascades, foreign keys, defaults, JSON mutation and UTC times."""

from __future__ import annotations

import gc
import time
import weakref
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    UniqueConstraint,
    bindparam,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.rows import GRAPH, insert_graph, insert_row, valid_values
from university_models.db import Base, UTCDateTime, new_id, transaction
from university_models.models import (
    ClientApplication,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    CurriculumLevel,
    CurriculumPath,
    Organization,
    TrainingDataCollection,
    University,
    UniversityAgent,
    User,
)

#: One violating value for every CHECK constraint of the spec.
CHECK_VIOLATIONS = {
    "ck_universities_isolation_level_valid": ("universities", "isolation_level", "x"),
    "ck_universities_max_agents_positive": ("universities", "max_agents", 0),
    "ck_universities_max_concurrent_competitions_positive": (
        "universities",
        "max_concurrent_competitions",
        0,
    ),
    "ck_universities_storage_quota_mb_positive": (
        "universities",
        "storage_quota_mb",
        0,
    ),
    "ck_universities_status_valid": ("universities", "status", "deleted"),
    "ck_university_agents_agent_type_valid": ("university_agents", "agent_type", "bot"),
    "ck_university_agents_competency_score_range": (
        "university_agents",
        "competency_score",
        1.5,
    ),
    "ck_university_agents_status_valid": ("university_agents", "status", "x"),
    "ck_curriculum_paths_difficulty_level_valid": (
        "curriculum_paths",
        "difficulty_level",
        "x",
    ),
    "ck_curriculum_paths_estimated_duration_hours_positive": (
        "curriculum_paths",
        "estimated_duration_hours",
        0,
    ),
    "ck_curriculum_paths_status_valid": ("curriculum_paths", "status", "x"),
    "ck_curriculum_levels_level_number_positive": (
        "curriculum_levels",
        "level_number",
        0,
    ),
    "ck_curriculum_levels_passing_score_range": (
        "curriculum_levels",
        "passing_score",
        1.01,
    ),
    "ck_curriculum_levels_time_limit_minutes_positive": (
        "curriculum_levels",
        "time_limit_minutes",
        0,
    ),
    "ck_agent_progress_status_valid": ("agent_progress", "status", "x"),
    "ck_competitions_competition_type_valid": ("competitions", "competition_type", "x"),
    "ck_competitions_status_valid": ("competitions", "status", "x"),
    "ck_competitions_max_participants_positive": (
        "competitions",
        "max_participants",
        0,
    ),
    "ck_competition_participants_participant_type_valid": (
        "competition_participants",
        "participant_type",
        "x",
    ),
    "ck_competition_participants_status_valid": (
        "competition_participants",
        "status",
        "x",
    ),
    "ck_competition_matches_status_valid": ("competition_matches", "status", "x"),
    "ck_training_data_collections_source_type_valid": (
        "training_data_collections",
        "source_type",
        "x",
    ),
    "ck_training_data_collections_data_type_valid": (
        "training_data_collections",
        "data_type",
        "x",
    ),
    "ck_training_data_collections_validation_status_valid": (
        "training_data_collections",
        "validation_status",
        "x",
    ),
    "ck_training_data_collections_privacy_level_valid": (
        "training_data_collections",
        "privacy_level",
        "x",
    ),
    "ck_improvement_proposals_generated_by_valid": (
        "improvement_proposals",
        "generated_by",
        "x",
    ),
    "ck_improvement_proposals_validation_status_valid": (
        "improvement_proposals",
        "validation_status",
        "x",
    ),
    "ck_improvement_proposals_implementation_status_valid": (
        "improvement_proposals",
        "implementation_status",
        "x",
    ),
}

#: Every unique constraint: the table and the columns a duplicate repeats.
UNIQUE_DUPLICATES = {
    "curriculum_levels": ("curriculum_path_id", "level_number"),
    "agent_progress": ("agent_id", "curriculum_level_id"),
    "competition_participants": ("competition_id", "agent_id"),
}

MODELS = dict(GRAPH)


def _row_count(connection, table: str) -> int:
    return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def _insert_cross_referenced_graph(connection) -> dict[str, str]:
    """One row in every table of a university (``insert_graph``) plus the
    references across its tree: the university names an organization and a
    client application, both agents stand on the path and level, a second
    agent plays the match's second side and wins the match and the
    competition."""
    ids = insert_graph(connection)
    ids["organizations"] = insert_row(connection, Organization, name=new_id())
    ids["client_applications"] = insert_row(connection, ClientApplication, name="App")
    connection.execute(
        update(University.__table__)
        .where(University.__table__.c.id == ids["universities"])
        .values(
            organization_id=ids["organizations"],
            client_app_id=ids["client_applications"],
        )
    )
    second = valid_values("university_agents", ids) | {
        "name": "B",
        "current_curriculum_path_id": ids["curriculum_paths"],
        "current_curriculum_level_id": ids["curriculum_levels"],
    }
    ids["second_agent"] = insert_row(connection, UniversityAgent, **second)
    ids["second_participant"] = insert_row(
        connection,
        CompetitionParticipant,
        competition_id=ids["competitions"],
        agent_id=ids["second_agent"],
    )
    connection.execute(
        update(UniversityAgent.__table__)
        .where(UniversityAgent.__table__.c.id == ids["university_agents"])
        .values(
            current_curriculum_path_id=ids["curriculum_paths"],
            current_curriculum_level_id=ids["curriculum_levels"],
        )
    )
    connection.execute(
        update(Competition.__table__)
        .where(Competition.__table__.c.id == ids["competitions"])
        .values(winner_agent_id=ids["second_agent"])
    )
    connection.execute(
        update(CompetitionMatch.__table__)
        .where(CompetitionMatch.__table__.c.id == ids["competition_matches"])
        .values(
            participant2_id=ids["second_participant"],
            winner_participant_id=ids["second_participant"],
        )
    )
    return ids


def _agents(university):
    return list(university.agents)


def _paths(university):
    return list(university.curriculum_paths)


def _levels(university):
    return [level for path in _paths(university) for level in path.levels]


def _competitions(university):
    return list(university.competitions)


def _matches(university):
    return [m for competition in _competitions(university) for m in competition.matches]


#: Each collection and reference below a university, loaded on its own: a
#: partly loaded graph is where the ORM's own cascade tripped over the
#: database's foreign keys.
PARTIAL_LOADERS = {
    "agents": _agents,
    "agents.progress_records": lambda u: [
        p for a in _agents(u) for p in a.progress_records
    ],
    "agents.participations": lambda u: [
        p for a in _agents(u) for p in a.participations
    ],
    "agents.training_records": lambda u: [
        r for a in _agents(u) for r in a.training_records
    ],
    "agents.current_path_and_level": lambda u: [
        x
        for a in _agents(u)
        for x in (a.current_curriculum_path, a.current_curriculum_level)
    ],
    "curriculum_paths": _paths,
    "curriculum_paths.levels": _levels,
    "levels.progress_records": lambda u: [
        p for level in _levels(u) for p in level.progress_records
    ],
    "competitions": _competitions,
    "competitions.winner": lambda u: [c.winner for c in _competitions(u)],
    "competitions.participants": lambda u: [
        p for c in _competitions(u) for p in c.participants
    ],
    "competitions.matches": _matches,
    "matches.sides_and_winner": lambda u: [
        x for m in _matches(u) for x in (m.participant1, m.participant2, m.winner)
    ],
    "training_records": lambda u: list(u.training_records),
    "training_records.proposals": lambda u: [
        p for r in u.training_records for p in r.proposals
    ],
    "proposals": lambda u: list(u.proposals),
    "proposals.source_record": lambda u: [p.source_record for p in u.proposals],
}


def _load_every_relationship(university: University) -> list[object]:
    """Load every collection and reference below ``university`` into its
    session; returns the objects reached."""
    reached: list[object] = [university, university.owner]
    for load in PARTIAL_LOADERS.values():
        reached += load(university)
    return [item for item in reached if item is not None]


#: What a test loads into the session before deleting a university through
#: the ORM: nothing below it, each part on its own, then everything.
LOADERS = (
    {"nothing": lambda university: [university]}
    | PARTIAL_LOADERS
    | {"everything": _load_every_relationship}
)


#: PostgreSQL's longest identifier (NAMEDATALEN - 1). A longer name is cut
#: and hashed there but kept whole on SQLite, so the engines would differ.
POSTGRES_MAX_IDENTIFIER = 63

_KINDS = {
    PrimaryKeyConstraint: "pk",
    ForeignKeyConstraint: "fk",
    UniqueConstraint: "uq",
    CheckConstraint: "ck",
}


def _model_names(table) -> set[tuple[str, str]]:
    names = {(_KINDS[type(c)], str(c.name)) for c in table.constraints}
    return names | {("ix", str(index.name)) for index in table.indexes}


def _database_names(inspector, table: str) -> set[tuple[str, str]]:
    names = {("pk", inspector.get_pk_constraint(table)["name"])}
    names |= {("fk", fk["name"]) for fk in inspector.get_foreign_keys(table)}
    names |= {("uq", uq["name"]) for uq in inspector.get_unique_constraints(table)}
    names |= {("ck", ck["name"]) for ck in inspector.get_check_constraints(table)}
    return names | {
        ("ix", index["name"])
        for index in inspector.get_indexes(table)
        # PostgreSQL lists the index behind each unique constraint too.
        if not index.get("duplicates_constraint")
    }


def test_every_constraint_name_fits_a_postgresql_identifier():
    too_long = {
        name
        for table in Base.metadata.tables.values()
        for _, name in _model_names(table)
        if len(name) > POSTGRES_MAX_IDENTIFIER
    }
    assert not too_long


def test_constraint_names_in_the_migrated_database_equal_the_models(engine):
    with engine.connect() as connection:
        inspector = inspect(connection)
        tables = set(inspector.get_table_names()) - {"alembic_version"}
        assert tables == set(Base.metadata.tables)
        for name, table in Base.metadata.tables.items():
            assert _database_names(inspector, name) == _model_names(table), name


def _without_outer_parentheses(sql: str) -> str:
    while sql.startswith("(") and sql.endswith(")"):
        depth = 0
        for position, character in enumerate(sql):
            depth += {"(": 1, ")": -1}.get(character, 0)
            if depth == 0 and position < len(sql) - 1:
                return sql  # "(a) AND (b)": the outer pair is not one
        sql = sql[1:-1].strip()
    return sql


def _sqlite_check_sql(sql: str) -> str:
    """SQLite keeps a CHECK's text as written: compare it with whitespace
    collapsed, identifier quotes and enclosing parentheses dropped."""
    return _without_outer_parentheses(" ".join(sql.replace('"', "").split()))


def _postgresql_check_sql(connection, table: str, sql: str) -> str:
    """PostgreSQL keeps a CHECK as a parsed expression and prints it in its
    own canonical form (casts added, IN lists as = ANY (ARRAY[...])): let
    it print ``sql`` as a check on a scratch copy of ``table``."""
    connection.execute(text(f"CREATE TEMPORARY TABLE check_probe (LIKE {table})"))
    connection.execute(
        text(f"ALTER TABLE check_probe ADD CONSTRAINT probe CHECK ({sql})")
    )
    printed = connection.execute(
        text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'check_probe'::regclass AND conname = 'probe'"
        )
    ).scalar_one()
    connection.execute(text("DROP TABLE check_probe"))
    return printed


def test_check_constraint_sql_in_the_migrated_database_equals_the_models(engine):
    model_checks = {
        (table.name, str(check.name)): str(check.sqltext)
        for table in Base.metadata.tables.values()
        for check in table.constraints
        if isinstance(check, CheckConstraint)
    }
    postgresql = engine.dialect.name == "postgresql"

    with engine.connect() as connection:
        inspector = inspect(connection)
        database_checks = {
            (table, check["name"]): check["sqltext"]
            for table in Base.metadata.tables
            for check in inspector.get_check_constraints(table)
        }
        assert set(database_checks) == set(model_checks)

        for (table, name), model_sql in sorted(model_checks.items()):
            if postgresql:
                expected = _postgresql_check_sql(connection, table, model_sql)
                found = connection.execute(
                    text(
                        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid = CAST(:table AS regclass) "
                        "AND conname = :name"
                    ),
                    {"table": table, "name": name},
                ).scalar_one()
            else:
                expected = _sqlite_check_sql(model_sql)
                found = _sqlite_check_sql(database_checks[table, name])
            assert found == expected, name
        connection.rollback()


def test_every_check_constraint_has_a_violation_case():
    named = {
        constraint.name
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    assert named == set(CHECK_VIOLATIONS)


@pytest.mark.parametrize("constraint", sorted(CHECK_VIOLATIONS))
def test_check_constraint_refuses_violating_insert(engine, constraint):
    table, column, bad_value = CHECK_VIOLATIONS[constraint]
    with engine.begin() as connection:
        ids = insert_graph(connection)
        before = {name: _row_count(connection, name) for name, _ in GRAPH}

    with pytest.raises(IntegrityError) as refused, engine.begin() as connection:
        values = valid_values(table, ids) | {column: bad_value}
        insert_row(connection, MODELS[table], **values)

    # Both engines name the violated constraint: the refusal must be this
    # one, not any other check the row happens to break.
    assert constraint in str(refused.value.orig)
    with engine.connect() as connection:
        assert {name: _row_count(connection, name) for name, _ in GRAPH} == before


def test_competency_score_below_zero_is_refused(engine):
    with engine.begin() as connection:
        ids = insert_graph(connection)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        values = valid_values("university_agents", ids) | {"competency_score": -0.01}
        insert_row(connection, UniversityAgent, **values)


@pytest.mark.parametrize("table", sorted(UNIQUE_DUPLICATES))
def test_unique_constraint_refuses_duplicate(engine, table):
    with engine.begin() as connection:
        ids = insert_graph(connection)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        insert_row(connection, MODELS[table], **valid_values(table, ids))


def test_unique_user_email_is_refused_twice(engine):
    with pytest.raises(IntegrityError), engine.begin() as connection:
        insert_row(connection, User, email="same@example.org")
        insert_row(connection, User, email="same@example.org")


def _assert_only_the_other_university_is_left(engine, other: dict[str, str]):
    """Every table holds the other university's row alone (users: both
    owners, as deleting a university leaves its owner)."""
    with engine.connect() as connection:
        for table, _ in GRAPH:
            if table == "users":
                assert _row_count(connection, table) == 2
                continue
            left = connection.execute(text(f"SELECT id FROM {table}")).scalars()
            assert list(left) == [other[table]], table


def test_deleting_a_university_removes_everything_it_owns(engine):
    with engine.begin() as connection:
        ids = _insert_cross_referenced_graph(connection)
        other = insert_graph(connection)

    with engine.begin() as connection:
        connection.execute(
            text("DELETE FROM universities WHERE id = :id"),
            {"id": ids["universities"]},
        )

    _assert_only_the_other_university_is_left(engine, other)


def test_loading_everything_reaches_every_table_and_cross_reference(engine):
    with engine.begin() as connection:
        ids = _insert_cross_referenced_graph(connection)

    with transaction(engine) as session:
        reached = _load_every_relationship(session.get(University, ids["universities"]))
        assert {type(item) for item in reached} == {model for _, model in GRAPH}
        # Both agents and both participants, each reached once or more.
        assert len({id(item) for item in reached}) == len(GRAPH) + 2


@pytest.mark.parametrize("loaded", sorted(LOADERS))
def test_orm_delete_of_a_university_with_loaded_relationships(engine, loaded):
    with engine.begin() as connection:
        ids = _insert_cross_referenced_graph(connection)
        other = insert_graph(connection)

    with transaction(engine) as session:
        university = session.get(University, ids["universities"])
        held = LOADERS[loaded](university)
        assert [item for item in held if item is not None], loaded
        session.delete(university)

    _assert_only_the_other_university_is_left(engine, other)


def test_relationships_navigate_both_ways(engine):
    with engine.begin() as connection:
        ids = _insert_cross_referenced_graph(connection)

    with transaction(engine) as session:
        university = session.get(University, ids["universities"])
        assert session.get(Organization, ids["organizations"]).universities == [
            university
        ]
        assert session.get(
            ClientApplication, ids["client_applications"]
        ).universities == [university]

        agents = {ids["university_agents"], ids["second_agent"]}
        path = session.get(CurriculumPath, ids["curriculum_paths"])
        level = session.get(CurriculumLevel, ids["curriculum_levels"])
        assert {agent.id for agent in path.current_agents} == agents
        assert {agent.id for agent in level.current_agents} == agents

        competition = session.get(Competition, ids["competitions"])
        winner = session.get(UniversityAgent, ids["second_agent"])
        assert winner.competitions_won == [competition]
        assert competition.winner is winner

        match = session.get(CompetitionMatch, ids["competition_matches"])
        first = session.get(CompetitionParticipant, ids["competition_participants"])
        second = session.get(CompetitionParticipant, ids["second_participant"])
        assert first.matches == [match] and second.matches == [match]
        assert (match.participant1, match.participant2) == (first, second)
        assert second.matches_won == [match] and first.matches_won == []


#: Rows that other rows refer to through a foreign key without an action:
#: the model, the id key in the cross-referenced graph, and the reverse
#: relationship the ORM must not empty by setting the references NULL.
REFERENCED_ROWS = {
    "organization": (Organization, "organizations", "universities"),
    "client_application": (ClientApplication, "client_applications", "universities"),
    "curriculum_level": (CurriculumLevel, "curriculum_levels", "current_agents"),
    "competition_winner": (UniversityAgent, "second_agent", "competitions_won"),
    "match_winner": (CompetitionParticipant, "second_participant", "matches_won"),
    "cited_training_record": (
        TrainingDataCollection,
        "training_data_collections",
        "proposals",
    ),
}


@pytest.mark.parametrize("target", sorted(REFERENCED_ROWS))
def test_orm_delete_of_a_referenced_row_is_refused_like_sql(engine, target):
    model, key, reverse = REFERENCED_ROWS[target]
    with engine.begin() as connection:
        ids = _insert_cross_referenced_graph(connection)
        table = model.__table__.name
        before = {name: _row_count(connection, name) for name, _ in GRAPH}
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(f"DELETE FROM {table} WHERE id = :id"), {"id": ids[key]}
        )

    with pytest.raises(IntegrityError), transaction(engine) as session:
        row = session.get(model, ids[key])
        assert getattr(row, reverse), reverse
        session.delete(row)

    with transaction(engine) as session:
        assert getattr(session.get(model, ids[key]), reverse), reverse
    with engine.connect() as connection:
        assert {name: _row_count(connection, name) for name, _ in GRAPH} == before


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("university_agents", "university_id"),
        ("agent_progress", "curriculum_level_id"),
        ("competition_matches", "participant1_id"),
        ("improvement_proposals", "source_data_collection_id"),
        ("universities", "owner_user_id"),
    ],
)
def test_orphan_foreign_key_is_refused(engine, table, column):
    with engine.begin() as connection:
        ids = insert_graph(connection)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        values = valid_values(table, ids) | {column: "no-such-row"}
        insert_row(connection, MODELS[table], **values)


def _insert_with_sql(connection, table: str, values: dict) -> None:
    """Insert one row with plain SQL text naming only ``values``' columns,
    so the database fills every other column from its server default (a
    Core ``insert()`` would apply the ORM's Python defaults)."""
    columns = Base.metadata.tables[table].c
    statement = text(
        f"INSERT INTO {table} ({', '.join(values)}) "
        f"VALUES ({', '.join(f':{name}' for name in values)})"
    ).bindparams(*(bindparam(name, type_=columns[name].type) for name in values))
    connection.execute(statement, values)


def test_server_defaults_agree_with_orm_defaults(engine):
    sql_ids: dict[str, str] = {}
    with engine.begin() as connection:
        for table, _ in GRAPH:
            values = {"id": new_id()} | valid_values(table, sql_ids)
            _insert_with_sql(connection, table, values)
            sql_ids[table] = values["id"]

    orm_ids: dict[str, str] = {}
    with transaction(engine) as session:
        for table, model in GRAPH:
            row = model(**valid_values(table, orm_ids))
            session.add(row)
            session.flush()
            orm_ids[table] = row.id

    with Session(engine) as session:
        for table, model in GRAPH:
            from_sql = session.get(model, sql_ids[table])
            from_orm = session.get(model, orm_ids[table])
            defaulted = [c for c in model.__table__.columns if c.server_default]
            assert defaulted, table
            for column in defaulted:
                key = model.__mapper__.get_property_by_column(column).key
                in_sql, in_orm = getattr(from_sql, key), getattr(from_orm, key)
                if isinstance(column.type, UTCDateTime):
                    # Both "now", written moments apart.
                    assert in_sql.tzinfo is UTC and in_orm.tzinfo is UTC, key
                    assert abs(in_sql - in_orm) < timedelta(minutes=1), key
                else:
                    assert in_sql == in_orm, f"{table}.{key}"
        assert session.get(University, sql_ids["universities"]).settings == {
            "max_agents": 100,
            "max_concurrent_competitions": 10,
            "data_retention_days": 365,
            "privacy_level": "strict",
        }


def test_sql_inserted_json_list_defaults_are_empty_lists(engine):
    with engine.begin() as connection:
        ids = insert_graph(connection)
        connection.execute(
            text(
                "INSERT INTO curriculum_paths (id, university_id, name) "
                "VALUES ('p-sql', :university, 'SQL path')"
            ),
            {"university": ids["universities"]},
        )
        row = connection.execute(
            text(
                "SELECT prerequisites, tags, is_public, version, difficulty_level, "
                "estimated_duration_hours FROM curriculum_paths WHERE id = 'p-sql'"
            )
        ).one()
    prerequisites, tags, is_public, version, difficulty, hours = row
    assert prerequisites in ("[]", [])
    assert tags in ("[]", [])
    assert not is_public
    assert (version, difficulty, hours) == ("1.0.0", "beginner", 40)


def test_nested_json_change_is_persisted(engine):
    with transaction(engine) as session:
        owner = User(email="json@example.org")
        university = University(name="JSON U", owner=owner)
        agent = UniversityAgent(
            university=university,
            name="Nested",
            agent_type="researcher",
            configuration={"llm": {"model": "m", "temperature": 0.7}, "tools": []},
        )
        session.add_all([owner, university, agent])
        session.flush()
        agent_id, university_id = agent.id, university.id

    with transaction(engine) as session:
        agent = session.get(UniversityAgent, agent_id)
        agent.configuration["llm"]["temperature"] = 0.2
        agent.configuration["tools"].append("search")
        university = session.get(University, university_id)
        university.settings["privacy_level"] = "shared"

    with Session(engine) as session:
        agent = session.get(UniversityAgent, agent_id)
        assert agent.configuration == {
            "llm": {"model": "m", "temperature": 0.2},
            "tools": ["search"],
        }
        assert session.get(University, university_id).settings["privacy_level"] == (
            "shared"
        )


def test_nested_json_change_on_an_object_nobody_holds_is_persisted(engine):
    with transaction(engine) as session:
        owner = User(email="unheld@example.org")
        university = University(name="Unheld U", owner=owner)
        agent = UniversityAgent(
            university=university,
            name="Unheld",
            agent_type="student",
            configuration={"llm": {"temperature": 0.7}},
        )
        session.add_all([owner, university, agent])
        session.flush()
        agent_id, university_id = agent.id, university.id
    del owner, university, agent

    # The idiom itself: the object is not kept in a variable, so only the
    # session can keep it alive until the mutation flags it as changed.
    with transaction(engine) as session:
        session.get(University, university_id).settings["privacy_level"] = "shared"
        gc.collect()
        session.get(UniversityAgent, agent_id).configuration["llm"]["temperature"] = 0
        gc.collect()

    with Session(engine) as session:
        settings = session.get(University, university_id).settings
        assert settings["privacy_level"] == "shared"
        configuration = session.get(UniversityAgent, agent_id).configuration
        assert configuration == {"llm": {"temperature": 0}}


def test_session_holds_loaded_objects_until_they_are_expunged(engine):
    with transaction(engine) as session:
        owner = User(email="held@example.org")
        session.add(owner)
        session.flush()
        owner_id = owner.id
    del owner

    with transaction(engine) as session:
        held = weakref.ref(session.get(User, owner_id))
        gc.collect()
        assert held() is not None
        # Bulk walks expunge each batch to keep memory bounded; the strong
        # references must not defeat that.
        session.expunge(held())
        gc.collect()
        assert held() is None


def test_timestamp_written_with_offset_reads_back_as_utc(engine):
    written = datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with transaction(engine) as session:
        owner = User(email="tz@example.org")
        university = University(name="TZ U", owner=owner, last_activity_at=written)
        session.add_all([owner, university])
        session.flush()
        university_id = university.id

    with Session(engine) as session:
        stored = session.get(University, university_id).last_activity_at
        assert stored == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
        assert stored.utcoffset() == timedelta(0)
        assert stored.isoformat() == "2026-05-01T10:00:00+00:00"
        latest = session.scalar(select(func.max(University.last_activity_at)))
        assert latest == stored and latest.tzinfo is not None


def test_naive_timestamp_is_refused(engine):
    with pytest.raises(Exception, match="naive datetime"), transaction(engine) as s:
        owner = User(email="naive@example.org")
        s.add_all(
            [
                owner,
                University(
                    name="N", owner=owner, last_activity_at=datetime(2026, 1, 1)
                ),
            ]
        )


def test_updated_at_changes_on_every_update(engine):
    with transaction(engine) as session:
        owner = User(email="upd@example.org")
        university = University(name="Before", owner=owner)
        session.add_all([owner, university])
        session.flush()
        university_id = university.id
        first = university.updated_at

    stamps = [first]
    for name in ("After", "Again"):
        time.sleep(0.01)
        with transaction(engine) as session:
            university = session.get(University, university_id)
            university.name = name
        with Session(engine) as session:
            stamps.append(session.get(University, university_id).updated_at)
    assert stamps[0] < stamps[1] < stamps[2]


def test_ids_are_36_character_uuid_strings(engine):
    with transaction(engine) as session:
        owner = User(email="id@example.org")
        university = University(name="Id U", owner=owner)
        session.add_all([owner, university])
    assert len(university.id) == 36 and university.id.count("-") == 4
