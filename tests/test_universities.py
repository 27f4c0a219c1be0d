"""Universities and quotas: creation, editing, status, lookup by name, storage
quota and the ``university`` command, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from tests.factories import make_agent, make_university, make_user
from university_models import cli
from university_models.db import Base, read_session, transaction, utcnow
from university_models.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
    StaleVersion,
)
from university_models.models import (
    DEFAULT_SETTINGS,
    Competition,
    Organization,
    TrainingDataCollection,
    University,
    User,
)
from university_models.queries.universities import university_settings
from university_models.services.agents import create_agent, update_agent
from university_models.services.curriculum import create_path
from university_models.services.retention import find_due_universities
from university_models.services.universities import (
    BYTES_PER_MB,
    check_storage_quota,
    clean_name,
    clean_text,
    create_university,
    find_university,
    json_size_bytes,
    set_university_status,
    storage_used_bytes,
    update_university,
)
from university_models.services.validation import INTEGER_MAX


def row_counts(engine: Engine) -> dict[str, int]:
    """The number of rows of every table."""
    with read_session(engine) as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def new_university(engine: Engine, **values) -> str:
    values.setdefault("name", "Athena")
    values.setdefault("owner_email", "owner@example.org")
    with transaction(engine) as session:
        return create_university(session, **values).id


def load(engine: Engine, university_id: str) -> University:
    """The university's row as it is now, detached from any session."""
    with read_session(engine) as session:
        university = session.get(University, university_id)
        session.expunge(university)
        return university


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


def add_training_record(engine: Engine, university_id: str, raw, processed=None):
    with transaction(engine) as session:
        university = session.get(University, university_id)
        agent = make_agent(session, university)
        session.add(
            TrainingDataCollection(
                university_id=university_id,
                agent_id=agent.id,
                source_type="training",
                data_type="reasoning",
                raw_data=raw,
                processed_data=processed,
            )
        )


# --- create_university ------------------------------------------------------


def test_create_university_creates_owner_and_organization(engine):
    university_id = new_university(
        engine,
        name="  Athena  ",
        owner_email=" Ada@Example.ORG ",
        owner_display_name="Ada",
        organization="ACME Labs",
        description="A test",
        isolation_level="shared",
        max_agents=7,
        max_concurrent_competitions=3,
        storage_quota_mb=50,
        data_retention_days=30,
        tenant_id="tenant-1",
    )

    with read_session(engine) as session:
        university = session.get(University, university_id)
        assert university.name == "Athena"
        assert university.status == "active"
        assert university.owner.email == "ada@example.org"
        assert university.owner.display_name == "Ada"
        assert university.organization.name == "ACME Labs"
        assert university.owner.organization_id == university.organization_id
        assert (university.isolation_level, university.tenant_id) == (
            "shared",
            "tenant-1",
        )
        assert (university.max_agents, university.max_concurrent_competitions) == (7, 3)
        assert university.storage_quota_mb == 50
        assert university.data_retention_days == 30
        assert university.settings == {
            **DEFAULT_SETTINGS,
            "max_agents": 7,
            "max_concurrent_competitions": 3,
            "data_retention_days": 30,
        }
        assert university.last_activity_at.tzinfo is not None


def test_create_university_merges_given_settings_over_defaults(engine):
    university_id = new_university(
        engine,
        settings={"privacy_level": "relaxed", "theme": "dark", "max_agents": 100},
    )

    settings = load(engine, university_id).settings
    assert settings["privacy_level"] == "relaxed"
    assert settings["theme"] == "dark"
    assert settings["max_agents"] == 100
    assert settings["data_retention_days"] == 365


def test_create_university_reuses_existing_owner_and_organization(engine):
    with transaction(engine) as session:
        session.add(Organization(name="ACME"))
        make_user(session, email="ada@example.org")

    first = new_university(
        engine, name="One", owner_email="ADA@example.org", organization="acme"
    )
    second = new_university(
        engine, name="Two", owner_email="ada@example.org", organization="Acme"
    )

    assert row_counts(engine)["users"] == 1
    assert row_counts(engine)["organizations"] == 1
    assert load(engine, first).owner_user_id == load(engine, second).owner_user_id


def test_create_university_refuses_a_taken_name_in_any_case(engine):
    new_university(engine, name="Athena")

    for duplicate in ("Athena", "athena", "  ATHENA "):
        message = assert_refused(
            engine,
            Conflict,
            lambda s, d=duplicate: create_university(
                s, name=d, owner_email="x@example.org"
            ),
        )
        assert "'Athena'" in message


def test_a_taken_name_is_refused_in_any_case_of_accented_letters(engine):
    new_university(engine, name="Ärzte Élite")

    message = assert_refused(
        engine,
        Conflict,
        lambda s: create_university(s, name="ärzte élite", owner_email="x@example.org"),
    )

    assert "'Ärzte Élite'" in message


#: Invalid arguments of create_university, each with a word its refusal names.
INVALID_CREATIONS = [
    ({"name": "   "}, "empty"),
    ({"name": "x" * 256}, "256 characters"),
    ({"name": 7}, "7"),
    ({"owner_email": "not-an-address"}, "not-an-address"),
    ({"owner_email": "a b@example.org"}, "a b@example.org"),
    # Markup, doubled dots and reserved domains pass a one-@ pattern but no
    # mail server (the email-validator package's check).
    ({"owner_email": "<b>x</b>@example.org"}, "<b>x</b>@example.org"),
    ({"owner_email": "a..b@example.org"}, "two periods in a row"),
    ({"owner_email": "dean@localhost"}, "dean@localhost"),
    ({"owner_email": "x" * 250 + "@example.org"}, "262 characters"),
    ({"owner_email": ""}, "is missing: enter one"),
    ({"isolation_level": "open"}, "open"),
    ({"max_agents": 0}, "max_agents"),
    ({"max_agents": True}, "True"),
    ({"max_concurrent_competitions": -1}, "-1"),
    ({"storage_quota_mb": 0}, "storage_quota_mb"),
    ({"data_retention_days": 0}, "data_retention_days"),
    ({"settings": ["a"]}, "JSON object"),
    ({"settings": {"max_agents": 5}}, "settings\\['max_agents'\\] is 5"),
    ({"organization": " "}, "organization name"),
    ({"settings": {"opened": utcnow()}}, "JSON cannot store"),
    ({"tenant_id": "t" * 256}, "256 characters"),
    ({"owner_display_name": "n" * 256}, "256 characters"),
]


def test_create_university_refuses_invalid_input(engine):
    university_id = new_university(engine, name="Existing")

    for values, named in INVALID_CREATIONS:
        arguments = {"name": "Athena", "owner_email": "owner@example.org", **values}
        assert_refused(
            engine,
            InvalidInput,
            lambda s, a=arguments: create_university(s, **a),
            match=named,
        )
    assert row_counts(engine)["universities"] == 1
    assert load(engine, university_id).name == "Existing"


# --- update_university ------------------------------------------------------


def test_update_university_changes_fields_and_keeps_settings_mirrored(engine):
    university_id = new_university(engine, settings={"theme": "dark"})

    with transaction(engine) as session:
        update_university(
            session,
            university_id,
            name=" Athena II ",
            description="new",
            isolation_level="collaborative",
            max_agents=5,
            max_concurrent_competitions=2,
            storage_quota_mb=10,
            data_retention_days=90,
            settings={"privacy_level": "shared"},
        )

    university = load(engine, university_id)
    assert university.name == "Athena II"
    assert university.description == "new"
    assert university.isolation_level == "collaborative"
    assert (university.max_agents, university.max_concurrent_competitions) == (5, 2)
    assert university.storage_quota_mb == 10
    assert university.data_retention_days == 90
    assert university.settings == {
        **DEFAULT_SETTINGS,
        "privacy_level": "shared",
        "max_agents": 5,
        "max_concurrent_competitions": 2,
        "data_retention_days": 90,
    }


def test_update_university_without_settings_keeps_them(engine):
    university_id = new_university(engine, settings={"theme": "dark"})

    with transaction(engine) as session:
        update_university(session, university_id, max_agents=9)

    settings = load(engine, university_id).settings
    assert settings["theme"] == "dark"
    assert settings["max_agents"] == 9


def shown_version(engine: Engine, university_id: str) -> str:
    """The version the "Quotas and settings" form is drawn with, read as the
    Universities page reads it."""
    with read_session(engine) as session:
        return university_settings(session, university_id)["version"]


def edited_fields(engine: Engine, university_id: str) -> tuple:
    university = load(engine, university_id)
    return (
        university.name,
        university.description,
        university.max_agents,
        university.settings,
        university.updated_at,
        university.last_activity_at,
    )


def test_update_university_refuses_a_form_drawn_before_another_save(engine):
    university_id = new_university(engine)
    drawn = shown_version(engine, university_id)
    with transaction(engine) as session:
        update_university(session, university_id, max_agents=7, seen_version=drawn)
    after_quota = edited_fields(engine, university_id)

    message = assert_refused(
        engine,
        StaleVersion,
        lambda s: update_university(
            s, university_id, max_agents=100, description="x", seen_version=drawn
        ),
    )

    assert message == (
        "University 'Athena' was changed by someone else after this form was "
        "opened: its current values are now shown; make your change again."
    )
    assert edited_fields(engine, university_id) == after_quota
    assert load(engine, university_id).settings["max_agents"] == 7


def test_update_university_saves_over_the_version_it_was_drawn_from(engine):
    university_id = new_university(engine)
    with transaction(engine) as session:
        update_university(session, university_id, max_agents=7)

    with transaction(engine) as session:
        update_university(
            session,
            university_id,
            description="drawn after the quota",
            seen_version=shown_version(engine, university_id),
        )

    university = load(engine, university_id)
    assert (university.max_agents, university.description) == (
        7,
        "drawn after the quota",
    )


def test_a_universitys_version_moves_only_with_the_values_its_form_shows(engine):
    # Every write in a university moves its last_activity_at, so its
    # updated_at too: comparing that would refuse the form after any agent
    # was created or any result recorded.
    university_id = new_university(engine, settings={"theme": {"dark": True}})
    drawn = shown_version(engine, university_id)
    updated_at = load(engine, university_id).updated_at
    with transaction(engine) as session:
        create_agent(session, university_id, name="Ada", agent_type="student")

    assert load(engine, university_id).updated_at > updated_at
    assert shown_version(engine, university_id) == drawn
    with transaction(engine) as session:
        session.get(University, university_id).settings["theme"]["dark"] = False
    assert shown_version(engine, university_id) != drawn


def test_update_university_may_keep_its_own_name_in_another_case(engine):
    university_id = new_university(engine, name="Athena")

    with transaction(engine) as session:
        update_university(session, university_id, name="ATHENA")

    assert load(engine, university_id).name == "ATHENA"


#: Invalid changes for update_university: the refusal and a word it names.
INVALID_CHANGES = [
    ({"status": "archived"}, InvalidInput, "status"),
    ({"owner_user_id": "x"}, InvalidInput, "owner_user_id"),
    ({"name": "other"}, Conflict, "'Other'"),
    ({"name": ""}, InvalidInput, "empty"),
    ({"max_agents": 0}, InvalidInput, "max_agents"),
    ({"isolation_level": "none"}, InvalidInput, "none"),
    ({"settings": "x"}, InvalidInput, "JSON object"),
    (
        {"max_agents": 8, "settings": {"max_agents": 9}},
        InvalidInput,
        "settings\\['max_agents'\\] is 9",
    ),
]


def test_update_university_refuses_invalid_changes(engine):
    new_university(engine, name="Other", owner_email="other@example.org")
    university_id = new_university(engine)
    before = load(engine, university_id)

    for changes, error, named in INVALID_CHANGES:
        assert_refused(
            engine,
            error,
            lambda s, c=changes: update_university(s, university_id, **c),
            match=named,
        )
    after = load(engine, university_id)
    assert (after.name, after.max_agents, after.settings) == (
        before.name,
        before.max_agents,
        before.settings,
    )
    assert after.last_activity_at == before.last_activity_at


def test_update_university_refuses_max_agents_below_the_agents_in_use(engine):
    university_id = new_university(engine)
    with transaction(engine) as session:
        university = session.get(University, university_id)
        for _ in range(3):
            make_agent(session, university)
        make_agent(session, university, status="archived")

    message = assert_refused(
        engine,
        QuotaExceeded,
        lambda s: update_university(s, university_id, max_agents=2),
    )
    assert "The agent quota (max_agents) cannot be 2" in message
    assert "has 3 agents" in message
    assert load(engine, university_id).max_agents == 100

    # Archived agents do not count: exactly the agents in use is allowed.
    with transaction(engine) as session:
        update_university(session, university_id, max_agents=3)
    assert load(engine, university_id).max_agents == 3


def test_update_university_refuses_fewer_concurrent_competitions_than_active(engine):
    university_id = new_university(engine)
    with transaction(engine) as session:
        for status in ("active", "active", "scheduled"):
            session.add(
                Competition(
                    university_id=university_id,
                    name=f"C {status}",
                    competition_type="solo",
                    rules={},
                    evaluation_config={},
                    status=status,
                )
            )

    message = assert_refused(
        engine,
        QuotaExceeded,
        lambda s: update_university(s, university_id, max_concurrent_competitions=1),
    )
    assert (
        "concurrent competitions quota (max_concurrent_competitions) cannot be 1"
        in (message)
    )
    assert "2 active" in message

    with transaction(engine) as session:
        update_university(session, university_id, max_concurrent_competitions=2)
    assert load(engine, university_id).max_concurrent_competitions == 2


def test_update_university_refuses_a_storage_quota_below_the_stored_data(engine):
    university_id = new_university(engine, storage_quota_mb=5)
    add_training_record(engine, university_id, {"text": "x" * (BYTES_PER_MB + 10)})

    message = assert_refused(
        engine,
        QuotaExceeded,
        lambda s: update_university(s, university_id, storage_quota_mb=1),
    )
    assert "The storage quota in MB (storage_quota_mb) cannot be 1" in message
    assert str(json_size_bytes({"text": "x" * (BYTES_PER_MB + 10)})) in message

    with transaction(engine) as session:
        update_university(session, university_id, storage_quota_mb=2)
    assert load(engine, university_id).storage_quota_mb == 2


#: The quotas and the retention period, with the words refusals name them by.
QUOTA_FIELDS = {
    "max_agents": "agent quota (max_agents)",
    "max_concurrent_competitions": (
        "concurrent competitions quota (max_concurrent_competitions)"
    ),
    "storage_quota_mb": "storage quota in MB (storage_quota_mb)",
    "data_retention_days": "retention period in days (data_retention_days)",
}


@pytest.mark.parametrize("field", list(QUOTA_FIELDS))
def test_a_quota_past_the_database_integer_is_refused_naming_field_and_value(
    engine, field
):
    # SQLite's driver raised OverflowError and PostgreSQL "integer out of
    # range" (or, for the retention period kept in JSON, nothing at all).
    university_id = new_university(engine)
    before = load(engine, university_id)

    for value, shown in [
        (INTEGER_MAX + 1, "2147483648"),
        (99999999999999999999999, "99999999999999999999999"),
        (10**5000, "100000000000... (5,001 digits)"),
    ]:
        for action in (
            lambda s, v=value: create_university(
                s, name="Big", owner_email="big@example.org", **{field: v}
            ),
            lambda s, v=value: update_university(s, university_id, **{field: v}),
        ):
            message = assert_refused(engine, InvalidInput, action)
            assert message == (
                f"The {QUOTA_FIELDS[field]} {shown} is above 2,147,483,647 (the "
                "largest whole number the database stores): give a whole number "
                "from 1 to 2,147,483,647."
            )

    after = load(engine, university_id)
    assert getattr(after, field) == getattr(before, field)
    assert after.last_activity_at == before.last_activity_at


def test_quotas_at_the_database_integer_are_stored_on_both_engines(engine):
    quotas = dict.fromkeys(QUOTA_FIELDS, INTEGER_MAX)
    university_id = new_university(engine, **quotas)

    university = load(engine, university_id)
    assert {field: getattr(university, field) for field in QUOTA_FIELDS} == quotas

    with transaction(engine) as session:
        update_university(session, university_id, **dict.fromkeys(QUOTA_FIELDS, 1))
    university = load(engine, university_id)
    assert {field: getattr(university, field) for field in QUOTA_FIELDS} == (
        dict.fromkeys(QUOTA_FIELDS, 1)
    )


def test_the_longest_retention_period_leaves_an_archived_university_live(engine):
    # now - timedelta(days=2_147_483_647) is before year 1: OverflowError.
    university_id = new_university(engine, data_retention_days=INTEGER_MAX)
    with transaction(engine) as session:
        set_university_status(session, university_id, "archived")
        session.get(University, university_id).last_activity_at = utcnow() - (
            timedelta(days=3650)
        )

    with read_session(engine) as session:
        due = find_due_universities(session, now=utcnow())

    assert university_id not in {result.university_id for result in due}


def test_a_settings_value_that_disagrees_names_the_field_as_people_see_it(engine):
    message = assert_refused(
        engine,
        InvalidInput,
        lambda s: create_university(
            s,
            name="Athena",
            owner_email="a@example.org",
            max_agents=3,
            settings={"max_agents": 5},
        ),
    )

    assert message == (
        "settings['max_agents'] is 5 but the agent quota (max_agents) is 3: set "
        "the agent quota (max_agents) with its own field, not inside the settings."
    )


# --- status -----------------------------------------------------------------


@pytest.mark.parametrize("status", ["suspended", "archived"])
def test_inactive_university_refuses_writes_until_set_back_to_active(engine, status):
    university_id = new_university(engine)
    with transaction(engine) as session:
        set_university_status(session, university_id, status)
    assert load(engine, university_id).status == status

    assert_refused(
        engine,
        InvalidTransition,
        lambda s: create_agent(s, university_id, name="Ada", agent_type="student"),
        match=status,
    )
    assert_refused(
        engine,
        InvalidTransition,
        lambda s: update_university(s, university_id, description="x"),
        match="sets it back to active",
    )

    with transaction(engine) as session:
        set_university_status(session, university_id, "active")
    with transaction(engine) as session:
        create_agent(session, university_id, name="Ada", agent_type="student")
    assert row_counts(engine)["university_agents"] == 1


def test_set_university_status_refuses_unknown_status_and_unknown_university(engine):
    university_id = new_university(engine)

    assert_refused(
        engine,
        InvalidInput,
        lambda s: set_university_status(s, university_id, "deleted"),
        match="deleted",
    )
    assert_refused(
        engine,
        NotFound,
        lambda s: set_university_status(s, "no-such-id", "active"),
        match="no-such-id",
    )
    assert load(engine, university_id).status == "active"


def test_setting_the_same_status_does_not_restart_the_activity_clock(engine):
    university_id = new_university(engine)
    with transaction(engine) as session:
        set_university_status(session, university_id, "archived")
    archived_at = load(engine, university_id).last_activity_at

    with transaction(engine) as session:
        set_university_status(session, university_id, "archived")

    assert load(engine, university_id).last_activity_at == archived_at


def test_last_activity_at_moves_on_every_write(engine):
    university_id = new_university(engine)
    with transaction(engine) as session:
        university = session.get(University, university_id)
        university.last_activity_at = utcnow() - timedelta(days=30)
    seen = [load(engine, university_id).last_activity_at]

    def changed() -> None:
        now = load(engine, university_id).last_activity_at
        assert now > seen[-1]
        seen.append(now)

    with transaction(engine) as session:
        agent_id = create_agent(
            session, university_id, name="Ada", agent_type="student"
        ).id
    changed()
    with transaction(engine) as session:
        update_agent(session, agent_id, description="writes poems")
    changed()
    with transaction(engine) as session:
        update_university(session, university_id, description="x")
    changed()
    with transaction(engine) as session:
        set_university_status(session, university_id, "suspended")
    changed()
    with transaction(engine) as session:
        set_university_status(session, university_id, "active")
    changed()


# --- find_university --------------------------------------------------------


def test_find_university_by_name_in_any_case(engine):
    university_id = new_university(engine, name="Athena")

    with read_session(engine) as session:
        assert find_university(session, "  aTHENA ").id == university_id


def test_names_that_differ_only_in_inner_spaces_are_one_name(engine):
    university_id = new_university(engine, name="  Lyceum   Demo  ")

    with read_session(engine) as session:
        assert session.get(University, university_id).name == "Lyceum Demo"
        assert find_university(session, "lyceum  demo").id == university_id
    assert_refused(
        engine,
        Conflict,
        lambda s: create_university(
            s, name="Lyceum    Demo", owner_email="x@example.org"
        ),
    )
    with transaction(engine) as session:
        agent = create_agent(
            session, university_id, name="Padded   Name", agent_type="student"
        )
        assert agent.name == "Padded Name"


def test_find_university_names_the_universities_that_exist(engine):
    with (
        read_session(engine) as session,
        pytest.raises(NotFound, match="there is none yet"),
    ):
        find_university(session, "Athena")

    new_university(engine, name="Athena")
    new_university(engine, name="Minerva")

    with read_session(engine) as session, pytest.raises(NotFound) as caught:
        find_university(session, "Hermes")
    assert "'Hermes'" in str(caught.value)
    assert "'Athena', 'Minerva'" in str(caught.value)


def test_find_university_lists_at_most_twenty_names(engine):
    with transaction(engine) as session:
        owner = make_user(session)
        for number in range(25):
            make_university(session, owner=owner, name=f"U{number:02d}")

    with read_session(engine) as session, pytest.raises(NotFound) as caught:
        find_university(session, "Hermes")
    message = str(caught.value)
    assert "'U19'" in message and "'U20'" not in message
    assert message.endswith(", ....")


# --- storage ----------------------------------------------------------------


def test_storage_used_bytes_sums_raw_and_processed_json_of_one_university(engine):
    university_id = new_university(engine)
    other_id = new_university(engine, name="Other")
    records = [
        ({"turns": ["hello", "wörld ✓"]}, None),
        ({"steps": list(range(50))}, {"steps": "anonymized"}),
    ]
    for raw, processed in records:
        add_training_record(engine, university_id, raw, processed)
    add_training_record(engine, other_id, {"big": "y" * 5000})

    expected = sum(
        json_size_bytes(raw) + (json_size_bytes(processed) if processed else 0)
        for raw, processed in records
    )
    with read_session(engine) as session:
        assert storage_used_bytes(session, university_id) == expected
        assert storage_used_bytes(session, new_university_without_records(engine)) == 0


def new_university_without_records(engine: Engine) -> str:
    return new_university(engine, name="Empty", owner_email="e@example.org")


def test_check_storage_quota_allows_reaching_the_quota_but_not_passing_it(engine):
    university_id = new_university(engine, storage_quota_mb=1)
    add_training_record(engine, university_id, {"text": "z" * 1000})

    with read_session(engine) as session:
        university = session.get(University, university_id)
        used = storage_used_bytes(session, university_id)
        check_storage_quota(session, university, BYTES_PER_MB - used)

        with pytest.raises(QuotaExceeded) as caught:
            check_storage_quota(session, university, BYTES_PER_MB - used + 1)
    message = str(caught.value)
    assert f"stores {used} bytes" in message
    assert f"record of {BYTES_PER_MB - used + 1} bytes" in message
    assert "1 MB" in message


def test_check_storage_quota_refuses_a_record_size_that_is_not_whole_bytes(engine):
    university_id = new_university(engine)

    with read_session(engine) as session:
        university = session.get(University, university_id)
        for size in (-1, 1.5, True):
            with pytest.raises(InvalidInput, match=str(size)):
                check_storage_quota(session, university, size)


# --- command line -----------------------------------------------------------


@pytest.fixture
def configured(engine, monkeypatch) -> Engine:
    """The test engine as the configured database of the CLI."""
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    return engine


def test_cli_creates_a_university_with_its_owner_and_organization(configured, capsys):
    code = cli.main(
        [
            "university",
            "create",
            "Athena",
            "--owner",
            "Ada@Example.org",
            "--organization",
            "ACME",
            "--max-agents",
            "12",
            "--max-concurrent-competitions",
            "4",
            "--storage-quota-mb",
            "64",
        ]
    )

    assert code == 0
    assert "created university 'Athena'" in capsys.readouterr().out
    with read_session(configured) as session:
        university = find_university(session, "athena")
        assert university.owner.email == "ada@example.org"
        assert university.organization.name == "ACME"
        assert (university.max_agents, university.max_concurrent_competitions) == (
            12,
            4,
        )
        assert university.storage_quota_mb == 64


def test_cli_refuses_a_duplicate_or_invalid_university_and_changes_nothing(
    configured, capsys
):
    assert cli.main(["university", "create", "Athena", "--owner", "a@b.org"]) == 0
    before = row_counts(configured)

    code = cli.main(["university", "create", "ATHENA", "--owner", "c@d.org"])

    assert code == 1
    assert "already exists" in capsys.readouterr().err
    assert row_counts(configured) == before

    code = cli.main(
        ["university", "create", "Minerva", "--owner", "c@d.org", "--max-agents", "0"]
    )

    assert code == 1
    assert "The agent quota (max_agents) 0 is below 1" in capsys.readouterr().err
    assert row_counts(configured) == before


#: One whole number past PostgreSQL's INTEGER, as typed in the issue.
TOO_BIG = "99999999999999999999999"


def test_cli_refuses_integers_past_the_database_in_one_line_and_writes_nothing(
    configured, capsys
):
    assert cli.main(["university", "create", "Athena", "--owner", "a@b.org"]) == 0
    create_path = ["curriculum", "create-path", "--university", "Athena"]
    assert cli.main([*create_path, "--name", "Basics"]) == 0
    capsys.readouterr()
    before = row_counts(configured)
    refused = {
        "agent quota (max_agents)": ["--max-agents", TOO_BIG],
        "concurrent competitions quota (max_concurrent_competitions)": [
            "--max-concurrent-competitions",
            TOO_BIG,
        ],
        "storage quota in MB (storage_quota_mb)": ["--storage-quota-mb", TOO_BIG],
        "retention period in days (data_retention_days)": [
            "--data-retention-days",
            TOO_BIG,
        ],
    }
    commands = {
        words: ["university", "create", "CLI U", "--owner", "a@b.org", *options]
        for words, options in refused.items()
    }
    commands["estimated duration in hours"] = [
        *create_path,
        "--name",
        "Long",
        "--hours",
        TOO_BIG,
    ]
    commands["time limit in minutes"] = [
        "curriculum",
        "add-level",
        "--university",
        "Athena",
        "--path",
        "Basics",
        "--name",
        "One",
        "--challenge",
        "2 + 2?",
        "--time-limit",
        TOO_BIG,
    ]

    for words, argv in commands.items():
        code = cli.main(argv)

        output = capsys.readouterr()
        assert code == 1, words
        assert output.out == ""
        assert output.err.splitlines() == [
            f"error: The {words} {TOO_BIG} is above 2,147,483,647 (the largest "
            "whole number the database stores): give a whole number from 1 to "
            "2,147,483,647."
        ]
    assert row_counts(configured) == before


@pytest.mark.parametrize("value", ["abc", "1.5", "9" * 5000])
def test_cli_arguments_argparse_cannot_read_are_one_error_line(
    configured, capsys, value
):
    # 5,000 digits pass Python's int() limit (4,300): a ValueError argparse
    # reports like any other unreadable number.
    with pytest.raises(SystemExit) as exited:
        cli.main(
            ["university", "create", "U", "--owner", "a@b.org", "--max-agents", value]
        )

    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert exited.value.code == 2
    assert errors == [
        "python -m university_models university create: error: argument "
        f"--max-agents: invalid int value: {value!r}"
    ]
    assert row_counts(configured)["universities"] == 0


def test_the_command_from_the_issue_prints_one_line_without_a_traceback(configured):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "university_models",
            "university",
            "create",
            "CLI U",
            "--owner",
            "a@b.org",
            "--max-agents",
            TOO_BIG,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: The agent quota (max_agents) 9999")
    assert row_counts(configured)["universities"] == 0


def test_cli_lists_universities_as_a_table(configured, capsys):
    assert cli.main(["university", "list"]) == 0
    assert "no university yet" in capsys.readouterr().out

    cli.main(["university", "create", "Minerva", "--owner", "m@example.org"])
    cli.main(["university", "create", "Athena", "--owner", "a@example.org"])
    capsys.readouterr()

    assert cli.main(["university", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["name", "status", "owner", "agents"]
    assert lines[1].split()[:4] == ["Athena", "active", "a@example.org", "0"]
    assert lines[2].split()[:4] == ["Minerva", "active", "m@example.org", "0"]


def test_cli_sets_the_status_of_a_university_found_by_name(configured, capsys):
    cli.main(["university", "create", "Athena", "--owner", "a@example.org"])

    assert cli.main(["university", "set-status", "ATHENA", "suspended"]) == 0
    assert "active -> suspended" in capsys.readouterr().out
    assert cli.main(["university", "set-status", "athena", "suspended"]) == 0
    assert "already suspended" in capsys.readouterr().out
    with read_session(configured) as session:
        assert find_university(session, "Athena").status == "suspended"

    assert cli.main(["university", "set-status", "Hermes", "active"]) == 1
    assert "'Athena'" in capsys.readouterr().err


def test_user_emails_are_stored_in_lower_case(engine):
    new_university(engine, owner_email="MiXeD@Example.Org")

    with read_session(engine) as session:
        assert session.scalars(select(User.email)).all() == ["mixed@example.org"]


# --- control characters and NUL ---------------------------------------------


def test_a_name_with_nul_or_another_control_character_is_refused_on_both_engines(
    engine,
):
    # PostgreSQL raised psycopg.DataError for "a\x00b"; SQLite stored it.
    university_id = new_university(engine)
    with transaction(engine) as session:
        agent_id = create_agent(
            session, university_id, name="Ada", agent_type="student"
        ).id
    refusals = {
        "university": lambda s: create_university(
            s, name="Lab\x00", owner_email="x@example.org"
        ),
        "organization": lambda s: create_university(
            s, name="Lab", owner_email="x@example.org", organization="Org\x00"
        ),
        "renamed university": lambda s: update_university(
            s, university_id, name="a\x00b"
        ),
        "agent": lambda s: create_agent(
            s, university_id, name="a\x00b", agent_type="student"
        ),
        "renamed agent": lambda s: update_agent(s, agent_id, name="a\x00b"),
        "curriculum path": lambda s: create_path(s, university_id, name="p\x00"),
    }

    for name, action in refusals.items():
        message = assert_refused(engine, InvalidInput, action, match=r"U\+0000")
        assert "(NUL)" in message, name
        assert "remove it" in message, name


@pytest.mark.parametrize("character", ["\x00", "\t", "\n", "\r", "\x1b", "\x1f"])
def test_names_hold_no_control_character_at_all(character):
    with pytest.raises(InvalidInput, match="one line of plain text") as caught:
        clean_name(f"Ada{character}Lovelace", what="agent name")

    assert f"U+{ord(character):04X}" in str(caught.value)
    assert "at position 4" in str(caught.value)


def test_free_text_keeps_tabs_and_line_breaks_but_no_other_control_character(
    engine,
):
    description = "First line\n\tindented\r\nlast line"
    university_id = new_university(engine, description=f"  {description}  ")
    assert load(engine, university_id).description == description

    for character in ["\x00", "\x07", "\x0b", "\x1b"]:
        message = assert_refused(
            engine,
            InvalidInput,
            lambda s, c=character: update_university(
                s, university_id, description=f"ok{c}ok"
            ),
            match=rf"U\+{ord(character):04X}( \(NUL\))? at position 3",
        )
        assert "tabs and line breaks" in message
    assert clean_text("  ", what="description") is None


def test_one_line_texts_of_a_university_refuse_control_characters(engine):
    for values, named in [
        ({"owner_display_name": "Ada\nLovelace"}, "owner's name"),
        ({"tenant_id": "t\x00"}, "tenant id"),
        ({"owner_email": "ada\x00@example.org"}, "not an e-mail address"),
    ]:
        arguments = {"name": "Athena", "owner_email": "owner@example.org", **values}
        assert_refused(
            engine,
            InvalidInput,
            lambda s, a=arguments: create_university(s, **a),
            match=named,
        )


def test_json_holding_nul_is_refused_with_where_it_sits_on_both_engines(engine):
    # Both engines store "\u0000" in JSON, but PostgreSQL cannot turn it
    # into text or jsonb, so merging rejection metadata crashed there.
    university_id = new_university(engine)
    refusals = [
        (
            lambda s: create_agent(
                s,
                university_id,
                name="Ada",
                agent_type="student",
                configuration={"llm": {"stop": ["a\x00b"]}},
            ),
            r'U\+0000 \(NUL\) in the text at \["llm"\]\["stop"\]\[0\]',
        ),
        (
            lambda s: create_agent(
                s,
                university_id,
                name="Ada",
                agent_type="student",
                configuration={"k\x00": 1},
            ),
            r'in the key \["k\\u0000"\]',
        ),
        (
            lambda s: update_university(s, university_id, settings={"x": "\x00"}),
            r'settings holds the character U\+0000 \(NUL\) in the text at \["x"\]',
        ),
    ]

    for action, message in refusals:
        assert_refused(engine, InvalidInput, action, match=message)

    # A backslash followed by "u0000" is ordinary text.
    with transaction(engine) as session:
        create_agent(
            session,
            university_id,
            name="Ada",
            agent_type="student",
            configuration={"note": "\\u0000 is how JSON writes NUL"},
        )
