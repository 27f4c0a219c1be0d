"""NaN and Infinity are not JSON: every service that stores a JSON document
refuses them on both engines (SQLite used to keep the text ``NaN``,
PostgreSQL crashed at flush), a refusal writes nothing, and the pages' JSON
boxes refuse the constants by name."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from tests.factories import make_agent, make_university
from university_models.db import read_session, transaction
from university_models.errors import InvalidInput
from university_models.importers import import_results, json_column_text
from university_models.models import (
    Competition,
    CurriculumLevel,
    CurriculumPath,
    TrainingDataCollection,
    University,
    UniversityAgent,
)
from university_models.services import agents, competitions, curriculum
from university_models.services.training_data import collect_training_data
from university_models.services.universities import (
    JSON_MAX_DEPTH,
    create_university,
    storable_json,
    update_university,
)
from university_models.ui import parse_json_object

NON_FINITE = [math.nan, math.inf, -math.inf]


def count(engine: Engine, model) -> int:
    with read_session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def scene(engine: Engine) -> tuple[str, str]:
    """A university with one agent: (university id, agent id)."""
    with transaction(engine) as session:
        university = make_university(session)
        return university.id, make_agent(session, university).id


def refused(engine: Engine, model, write) -> str:
    """Run ``write(session)`` in a transaction, expect ``InvalidInput`` and
    no new row of ``model``; the message is returned."""
    before = count(engine, model)
    with pytest.raises(InvalidInput) as caught, transaction(engine) as session:
        write(session)
    assert count(engine, model) == before
    return str(caught.value)


@pytest.mark.parametrize("bad", NON_FINITE)
def test_storable_json_names_where_the_non_finite_number_is(bad):
    with pytest.raises(InvalidInput) as caught:
        storable_json({"llm": {"scores": [1, bad]}}, what="configuration")

    message = str(caught.value)
    assert "configuration" in message
    assert '["llm"]["scores"][1]' in message
    assert ("NaN" if math.isnan(bad) else "Infinity") in message


def test_storable_json_returns_a_plain_copy():
    given = {"a": [1, 2.5, None], "b": {"c": "d"}}
    copy = storable_json(given, what="settings")

    assert copy == given and copy is not given and copy["a"] is not given["a"]


def test_an_agent_configuration_with_nan_is_refused_on_both_engines(engine):
    university_id, _ = scene(engine)

    message = refused(
        engine,
        UniversityAgent,
        lambda session: agents.create_agent(
            session,
            university_id,
            name="Ada",
            agent_type="student",
            configuration={"x": math.nan},
        ),
    )
    assert "configuration" in message and "NaN" in message


def test_an_agent_configuration_text_with_nan_is_refused_on_both_engines(engine):
    university_id, _ = scene(engine)

    message = refused(
        engine,
        UniversityAgent,
        lambda session: agents.create_agent(
            session,
            university_id,
            name="Ada",
            agent_type="student",
            configuration='{"x": NaN}',
        ),
    )
    assert "configuration" in message and "NaN" in message


def test_updating_an_agent_configuration_to_infinity_is_refused(engine):
    _, agent_id = scene(engine)

    with (
        pytest.raises(InvalidInput, match="Infinity"),
        transaction(engine) as session,
    ):
        agents.update_agent(session, agent_id, configuration={"t": math.inf})
    with read_session(engine) as session:
        assert session.get(UniversityAgent, agent_id).configuration == {}


@pytest.mark.parametrize("field", ["rules", "evaluation_config"])
def test_competition_json_with_nan_is_refused_on_both_engines(engine, field):
    university_id, _ = scene(engine)
    now = datetime.now(UTC)

    message = refused(
        engine,
        Competition,
        lambda session: competitions.schedule_competition(
            session,
            university_id,
            name="Cup",
            competition_type="head_to_head",
            scheduled_start=now,
            scheduled_end=now + timedelta(days=1),
            **{field: '{"weight": -Infinity}'},
        ),
    )
    assert field in message and "-Infinity" in message


@pytest.mark.parametrize("field", ["raw_data", "metadata"])
def test_training_data_with_nan_is_refused_on_both_engines(engine, field):
    university_id, agent_id = scene(engine)
    values = {"raw_data": {"messages": []}, "metadata": {}}
    values[field] = {"score": math.nan}

    message = refused(
        engine,
        TrainingDataCollection,
        lambda session: collect_training_data(
            session,
            university_id,
            agent_id=agent_id,
            source_type="competition",
            data_type="conversation",
            **values,
        ),
    )
    assert field.replace("_", " ") in message and "NaN" in message


def test_university_settings_with_nan_are_refused_on_both_engines(engine):
    message = refused(
        engine,
        University,
        lambda session: create_university(
            session,
            name="Nan U",
            owner_email="dean@example.org",
            settings={"theme": math.nan},
        ),
    )
    assert "settings" in message and "NaN" in message


def test_updating_university_settings_to_infinity_is_refused(engine):
    university_id, _ = scene(engine)
    with read_session(engine) as session:
        before = session.get(University, university_id).settings

    with (
        pytest.raises(InvalidInput, match="Infinity"),
        transaction(engine) as session,
    ):
        update_university(session, university_id, settings={"x": math.inf})
    with read_session(engine) as session:
        assert session.get(University, university_id).settings == before


def test_curriculum_lists_with_nan_are_refused_on_both_engines(engine):
    university_id, _ = scene(engine)

    message = refused(
        engine,
        CurriculumPath,
        lambda session: curriculum.create_path(
            session, university_id, name="Maths", tags=["a", math.nan]
        ),
    )
    assert "tags" in message and "NaN" in message

    with transaction(engine) as session:
        path_id = curriculum.create_path(session, university_id, name="Maths").id
    message = refused(
        engine,
        CurriculumLevel,
        lambda session: curriculum.add_level(
            session, path_id, name="One", challenges=[{"points": math.inf}]
        ),
    )
    assert "challenges" in message and "Infinity" in message


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_json_box_refuses_the_non_json_constants_by_name(constant):
    with pytest.raises(InvalidInput) as caught:
        parse_json_object(f'{{"x": {constant}}}', field="Configuration")

    assert str(caught.value).startswith("Configuration holds")
    assert constant in str(caught.value)


def test_a_json_box_names_an_unterminated_string_once_with_at():
    with pytest.raises(InvalidInput) as caught:
        parse_json_object('{"x": "abc', field="Rules")

    assert "Unterminated string starting at line 1, column 7" in str(caught.value)
    assert "at at" not in str(caught.value)


def test_a_json_lines_error_does_not_double_at():
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads('{"x')

    assert json_column_text(caught.value) == (
        "Unterminated string starting at column 2"
    )
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads('{"x": }')
    assert json_column_text(caught.value) == "Expecting value at column 7"


def test_a_broken_json_lines_file_is_refused_with_at_once(engine, tmp_path):
    university_id, _ = scene(engine)
    path = tmp_path / "battles.jsonl"
    path.write_text('{"agent_a": "x", "agent_b": "y", "winner": "tie"}\n{"x')

    message = refused(
        engine,
        Competition,
        lambda session: import_results(
            session,
            path,
            university_name_or_id=university_id,
            competition_name="Broken",
            competition_type="head_to_head",
        ),
    )
    assert message.startswith(
        "line 2: not valid JSON (Unterminated string starting at column 2)"
    )
    assert "at at" not in message


def nested(depth: int) -> dict:
    """An object ``depth`` levels deep: {"a": {"a": ... {}}}."""
    document: dict = {}
    for _ in range(depth - 1):
        document = {"a": document}
    return document


def test_a_configuration_nested_too_deep_is_refused_not_crashed(engine):
    university_id, _ = scene(engine)

    # 200 levels used to end in a RecursionError in the JSON change tracking.
    for configuration in (nested(200), json.dumps(nested(200)), "[" * 5000):
        message = refused(
            engine,
            UniversityAgent,
            lambda session, c=configuration: agents.create_agent(
                session,
                university_id,
                name="Deep",
                agent_type="student",
                configuration=c,
            ),
        )
        assert "configuration are nested more than 64 levels deep" in message

    with transaction(engine) as session:
        agent = agents.create_agent(
            session,
            university_id,
            name="Deep enough",
            agent_type="student",
            configuration=nested(JSON_MAX_DEPTH),
        )
        assert agent.configuration == nested(JSON_MAX_DEPTH)


def test_a_json_box_refuses_a_document_nested_too_deep_for_the_parser():
    with pytest.raises(InvalidInput, match="nested more than 64 levels deep"):
        parse_json_object('{"a": ' * 5000 + "{}" + "}" * 5000, field="Configuration")


@pytest.mark.parametrize(
    ("file_name", "text", "where"),
    [
        ("battles.jsonl", '{"x": ' + "[" * 5000 + "\n", "line 1"),
        ("battles.json", '[{"x": ' + "[" * 5000 + "]", "record 1 (line 1)"),
    ],
    ids=["jsonl", "json"],
)
def test_a_results_file_nested_too_deep_is_refused_not_crashed(
    engine, tmp_path, file_name, text, where
):
    university_id, _ = scene(engine)
    path = tmp_path / file_name
    path.write_text(text)

    message = refused(
        engine,
        Competition,
        lambda session: import_results(
            session,
            path,
            university_name_or_id=university_id,
            competition_name="Deep",
            competition_type="head_to_head",
        ),
    )
    assert message.startswith(f"{where}: lists and objects are nested too deep")
