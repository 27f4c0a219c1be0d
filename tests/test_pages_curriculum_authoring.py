"""Curriculum authoring: the Curriculum page's "Create a path", "Add a level"
and status forms driven through Streamlit's AppTest, and the ``curriculum``
command. A refusal writes nothing, says what to change and keeps what was
typed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import streamlit as st
from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from tests.markdown_text import as_read
from tests.test_pages_act import field
from university_models.cli import main
from university_models.config import PROJECT_ROOT
from university_models.db import make_engine, read_session, transaction
from university_models.models import CurriculumLevel, CurriculumPath
from university_models.queries.curriculum import (
    challenges_from_prompts,
    find_path,
    level_choices,
    lines_of,
)
from university_models.services import curriculum
from university_models.services.universities import create_university

APP = PROJECT_ROOT / "streamlit_app.py"
CREATE_PATH = "FormSubmitter:create_path-Create path"
ADD_LEVEL = "FormSubmitter:add_level-Add level"
SET_STATUS = "FormSubmitter:path_status-Set status"


def _point_app_at(engine: Engine, monkeypatch) -> None:
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    from university_models import ui

    ui.engine.clear()
    st.cache_data.clear()


@pytest.fixture
def configured(engine: Engine, monkeypatch) -> Iterator[Engine]:
    """The app and the command pointed at the test's database (each engine)."""
    _point_app_at(engine, monkeypatch)
    yield engine
    st.cache_data.clear()


@pytest.fixture
def sqlite_configured(sqlite_template, tmp_path, monkeypatch) -> Iterator[Engine]:
    """The app on a migrated, empty SQLite database (page renders cost
    seconds, so most page tests run on SQLite only)."""
    path = tmp_path / "university.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    _point_app_at(engine, monkeypatch)
    yield engine
    st.cache_data.clear()
    engine.dispose()


def open_curriculum() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page("pages/curriculum.py")
    return app.run()


def make_university(engine: Engine, name: str = "Test U") -> str:
    with transaction(engine) as session:
        return create_university(session, name=name, owner_email="dean@example.org").id


def make_path(engine: Engine, university_id: str, name: str = "Basics") -> str:
    with transaction(engine) as session:
        return curriculum.create_path(session, university_id, name=name).id


def counts(engine: Engine) -> tuple[int, int]:
    with read_session(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(CurriculumPath)),
            session.scalar(select(func.count()).select_from(CurriculumLevel)),
        )


def texts(elements) -> str:
    return "\n".join(as_read(element.value) for element in elements)


def create_path_on_page(app: AppTest, name: str, **fields) -> AppTest:
    app.text_input(key=field(app, "new_path_name")).input(name)
    for key, value in fields.items():
        if key == "new_path_tags":
            app.text_input(key=key).input(value)
        elif key == "new_path_description":
            app.text_area(key=key).input(value)
        elif key in ("new_path_difficulty", "new_path_status"):
            app.selectbox(key=key).set_value(value)
        elif key == "new_path_prerequisites":
            app.multiselect(key=key).set_value(value)
        else:
            app.number_input(key=key).set_value(value)
    app.button(key=CREATE_PATH).click()
    return app.run()


def add_level_on_page(
    app: AppTest, name: str, challenges: str, **numbers: float
) -> AppTest:
    app.text_input(key=field(app, "new_level_name")).input(name)
    app.text_area(key=field(app, "new_level_challenges")).input(challenges)
    for key, value in numbers.items():
        app.number_input(key=key).set_value(value)
    app.button(key=ADD_LEVEL).click()
    return app.run()


# -- the page ----------------------------------------------------------------


def test_empty_state_points_at_the_create_a_path_form(sqlite_configured):
    make_university(sqlite_configured)

    app = open_curriculum()

    assert not app.exception
    assert "Create a path" in texts(app.info)
    assert "curriculum service" not in texts(app.info)
    assert app.text_input(key=field(app, "new_path_name")) is not None


def test_creating_a_path_then_two_levels_on_the_page(sqlite_configured):
    university_id = make_university(sqlite_configured)
    app = open_curriculum()

    app = create_path_on_page(
        app,
        "  Reasoning  ",
        new_path_description="Step by step",
        new_path_difficulty="advanced",
        new_path_hours=12,
        new_path_tags="logic, , math",
        new_path_min_competency=0.25,
    )
    assert not app.exception
    assert "Created the path Reasoning (active)" in texts(app.success)
    assert app.text_input(key=field(app, "new_path_name")).value == ""

    app = add_level_on_page(
        app, "Warm-up", "Add 2 and 2\n\n  Name a prime  \n", new_level_passing=0.6
    )
    assert not app.exception
    assert "Added level 1, Warm-up, to Reasoning (2 challenges)" in texts(app.success)
    with read_session(sqlite_configured) as session:
        first_id = session.scalars(select(CurriculumLevel.id)).one()

    app.text_area(key=field(app, "new_level_objectives")).input("count\nprove")
    app.multiselect(key=field(app, "new_level_prerequisites")).set_value([first_id])
    app = add_level_on_page(
        app, "Proofs", "Prove it", new_level_time_limit=90, new_level_required=0.5
    )
    assert not app.exception
    assert "Added level 2, Proofs" in texts(app.success)

    with read_session(sqlite_configured) as session:
        path = session.scalars(select(CurriculumPath)).one()
        assert path.university_id == university_id
        assert (path.name, path.description) == ("Reasoning", "Step by step")
        assert (path.difficulty_level, path.estimated_duration_hours) == (
            "advanced",
            12,
        )
        assert path.tags == ["logic", "math"]
        assert path.prerequisites == [{"min_competency": 0.25}]
        first, second = path.levels
        assert first.challenges == [
            {"prompt": "Add 2 and 2"},
            {"prompt": "Name a prime"},
        ]
        assert (first.challenge_count, first.passing_score) == (2, 0.6)
        assert second.level_number == 2
        assert second.learning_objectives == ["count", "prove"]
        assert second.prerequisite_level_ids == [first_id]
        assert (second.time_limit_minutes, second.required_competency_score) == (
            90,
            0.5,
        )


def test_a_path_can_require_another_path_chosen_from_the_list(sqlite_configured):
    university_id = make_university(sqlite_configured)
    basics = make_path(sqlite_configured, university_id)
    app = open_curriculum()

    app = create_path_on_page(app, "Advanced", new_path_prerequisites=[basics])

    assert not app.exception
    with read_session(sqlite_configured) as session:
        advanced = session.scalars(
            select(CurriculumPath).where(CurriculumPath.name == "Advanced")
        ).one()
        assert advanced.prerequisites == [{"path_id": basics}]


def test_a_path_without_a_name_is_refused_and_nothing_is_written(sqlite_configured):
    make_university(sqlite_configured)
    app = open_curriculum()

    app = create_path_on_page(app, "   ", new_path_tags="kept")

    assert not app.exception
    assert "is empty: give it a name" in texts(app.error)
    assert counts(sqlite_configured) == (0, 0)
    assert app.text_input(key=field(app, "new_path_tags")).value == "kept"


def test_a_minimum_competency_above_one_is_refused(sqlite_configured):
    make_university(sqlite_configured)
    app = open_curriculum()

    app = create_path_on_page(app, "Too hard", new_path_min_competency=1.5)

    assert not app.exception
    assert "minimum competency 1.5 is outside [0, 1]" in texts(app.error)
    assert counts(sqlite_configured) == (0, 0)


def test_a_passing_score_out_of_range_is_refused_and_the_form_kept(
    sqlite_configured,
):
    university_id = make_university(sqlite_configured)
    make_path(sqlite_configured, university_id)
    app = open_curriculum()

    app = add_level_on_page(app, "Warm-up", "one\ntwo", new_level_passing=1.2)

    assert not app.exception
    assert "passing score 1.2 is outside [0, 1]" in texts(app.error)
    assert counts(sqlite_configured) == (1, 0)
    assert app.text_input(key=field(app, "new_level_name")).value == "Warm-up"
    assert app.text_area(key=field(app, "new_level_challenges")).value == "one\ntwo"


def test_a_duplicate_level_is_refused_and_the_form_kept(sqlite_configured):
    university_id = make_university(sqlite_configured)
    path_id = make_path(sqlite_configured, university_id)
    with transaction(sqlite_configured) as session:
        curriculum.add_level(session, path_id, name="Warm-up", challenges=["c"])
    app = open_curriculum()

    app = add_level_on_page(app, "warm-up ", "again")

    assert not app.exception
    assert "already has level 1 named 'Warm-up'" in texts(app.error)
    assert counts(sqlite_configured) == (1, 1)
    assert app.text_area(key=field(app, "new_level_challenges")).value == "again"


def test_a_duplicate_path_name_is_refused(sqlite_configured):
    university_id = make_university(sqlite_configured)
    make_path(sqlite_configured, university_id)
    app = open_curriculum()

    app = create_path_on_page(app, "BASICS")

    assert not app.exception
    assert "already has a path named 'Basics'" in texts(app.error)
    assert counts(sqlite_configured) == (1, 0)
    assert app.text_input(key=field(app, "new_path_name")).value == "BASICS"


def test_a_level_without_challenges_is_refused(sqlite_configured):
    university_id = make_university(sqlite_configured)
    make_path(sqlite_configured, university_id)
    app = open_curriculum()

    app = add_level_on_page(app, "Empty", "\n  \n")

    assert not app.exception
    assert "has no challenges" in texts(app.error)
    assert counts(sqlite_configured) == (1, 0)


def test_a_level_for_an_archived_path_is_refused(sqlite_configured):
    university_id = make_university(sqlite_configured)
    path_id = make_path(sqlite_configured, university_id)
    with transaction(sqlite_configured) as session:
        curriculum.set_path_status(session, path_id, "archived")
    app = open_curriculum()

    app = add_level_on_page(app, "Late", "one")

    assert not app.exception
    assert "Basics' is archived" in texts(app.error)
    assert counts(sqlite_configured) == (1, 0)


def test_setting_a_path_status_from_the_page(sqlite_configured):
    university_id = make_university(sqlite_configured)
    path_id = make_path(sqlite_configured, university_id)
    app = open_curriculum()

    status_box(app).set_value("draft")
    app.button(key=SET_STATUS).click()
    app.run()

    assert not app.exception
    assert "Basics is now draft" in texts(app.success)
    with read_session(sqlite_configured) as session:
        assert session.get(CurriculumPath, path_id).status == "draft"


def status_box(app):
    """The path status box of the Curriculum page's authoring form."""
    [box] = [box for box in app.selectbox if box.label.startswith("Status (now")]
    return box


def test_the_status_box_follows_the_chosen_path(sqlite_configured):
    university_id = make_university(sqlite_configured)
    first = make_path(sqlite_configured, university_id)
    second = make_path(sqlite_configured, university_id, name="Advanced")
    app = open_curriculum()
    app.selectbox(key="authoring_path").set_value(first).run()
    status_box(app).set_value("draft")
    app.button(key=SET_STATUS).click()
    app.run()

    # The other path, active: its box shows its own status, and setting it
    # without a new choice keeps it active.
    app.selectbox(key="authoring_path").set_value(second).run()
    assert status_box(app).label == "Status (now active)"
    assert status_box(app).value == "active"
    app.button(key=SET_STATUS).click()
    app.run()

    assert not app.exception
    with read_session(sqlite_configured) as session:
        assert session.get(CurriculumPath, first).status == "draft"
        assert session.get(CurriculumPath, second).status == "active"


def test_creating_a_path_and_a_level_on_the_page_on_both_engines(configured):
    make_university(configured)
    app = open_curriculum()

    app = create_path_on_page(app, "Both")
    app = add_level_on_page(app, "One", "first")

    assert not app.exception
    assert "Added level 1, One, to Both (1 challenge)" in texts(app.success)
    assert counts(configured) == (1, 1)


# -- the queries the forms read ----------------------------------------------


def test_level_choices_list_only_the_universitys_levels(engine):
    mine = make_university(engine, "Mine")
    other = make_university(engine, "Other")
    for university_id in (mine, other):
        path_id = make_path(engine, university_id)
        with transaction(engine) as session:
            curriculum.add_level(session, path_id, name="L1", challenges=["c"])

    with read_session(engine) as session:
        choices = level_choices(session, mine)

    assert choices[["path", "level_number", "name"]].values.tolist() == [
        ["Basics", 1, "L1"]
    ]


def test_find_path_is_case_blind_scoped_and_refuses_shared_names(engine):
    from university_models.errors import Conflict, NotFound

    mine = make_university(engine, "Mine")
    other = make_university(engine, "Other")
    path_id = make_path(engine, mine, "Basics")
    make_path(engine, other, "Elsewhere")

    with read_session(engine) as session:
        assert find_path(session, mine, "  bASICS ") == path_id
        with pytest.raises(NotFound, match="there are 'Basics'"):
            find_path(session, mine, "Elsewhere")

    # Two paths of one name can only come from data older than the rule that
    # names are unique, so the second one is written past the service.
    from university_models.db import transaction
    from university_models.models import CurriculumPath

    with transaction(engine) as session:
        session.add(CurriculumPath(university_id=mine, name="basics"))
    with read_session(engine) as session, pytest.raises(Conflict, match="Two"):
        find_path(session, mine, "Basics")


def test_challenges_are_one_prompt_object_per_non_empty_line():
    assert challenges_from_prompts(lines_of(" a \n\n b\n")) == [
        {"prompt": "a"},
        {"prompt": "b"},
    ]
    assert lines_of(None) == []


# -- the command -------------------------------------------------------------


def test_command_creates_a_path_and_adds_levels_on_both_engines(configured, capsys):
    make_university(configured, "Lyceum")

    assert (
        main(
            [
                "curriculum",
                "create-path",
                "--university",
                "lyceum",
                "--name",
                "Scripts",
                "--difficulty",
                "intermediate",
                "--hours",
                "8",
                "--tag",
                "cli",
            ]
        )
        == 0
    )
    for name in ("First", "Second"):
        assert (
            main(
                [
                    "curriculum",
                    "add-level",
                    "--university",
                    "Lyceum",
                    "--path",
                    "scripts",
                    "--name",
                    name,
                    "--challenge",
                    "say hello",
                    "--challenge",
                    "say bye",
                    "--passing-score",
                    "0.8",
                    "--time-limit",
                    "30",
                    "--required-competency",
                    "0.1",
                ]
            )
            == 0
        )

    out = capsys.readouterr().out
    assert "created path 'Scripts'" in out
    assert "added level 2 'Second'" in out
    with read_session(configured) as session:
        path = session.scalars(select(CurriculumPath)).one()
        assert (path.difficulty_level, path.estimated_duration_hours, path.tags) == (
            "intermediate",
            8,
            ["cli"],
        )
        levels = path.levels
        assert [level.level_number for level in levels] == [1, 2]
        assert levels[0].challenges == [{"prompt": "say hello"}, {"prompt": "say bye"}]
        assert (levels[0].passing_score, levels[0].time_limit_minutes) == (0.8, 30)
        assert levels[0].required_competency_score == 0.1


def test_command_refusals_exit_1_and_write_nothing_on_both_engines(configured, capsys):
    university_id = make_university(configured, "Lyceum")
    make_path(configured, university_id, "Basics")

    refused = [
        ["create-path", "--university", "Lyceum", "--name", " "],
        ["create-path", "--university", "Nowhere", "--name", "X"],
        ["create-path", "--university", "Lyceum", "--name", "X", "--hours", "0"],
        [
            "add-level",
            "--university",
            "Lyceum",
            "--path",
            "Basics",
            "--name",
            "L",
            "--challenge",
            "c",
            "--passing-score",
            "1.5",
        ],
        [
            "add-level",
            "--university",
            "Lyceum",
            "--path",
            "Missing",
            "--name",
            "L",
            "--challenge",
            "c",
        ],
        [
            "add-level",
            "--university",
            "Lyceum",
            "--path",
            "Basics",
            "--name",
            "L",
            "--challenge",
            "  ",
        ],
    ]
    refused.append(
        ["create-path", "--university", "Lyceum", "--name", "basics"],
    )
    for arguments in refused:
        assert main(["curriculum", *arguments]) == 1, arguments

    errors = capsys.readouterr().err
    assert "is empty: give it a name" in errors
    assert "No university is named 'Nowhere'" in errors
    assert "below 1" in errors
    assert "passing score 1.5 is outside [0, 1]" in errors
    assert "No curriculum path is named 'Missing'; there are 'Basics'" in errors
    assert "has no challenges" in errors
    assert "already has a path named 'Basics'" in errors
    assert counts(configured) == (1, 0)


def test_hours_and_time_limit_boxes_stop_at_the_largest_integer_the_database_stores(
    sqlite_configured,
):
    # The service refuses more (an INTEGER column); the box cannot take it.
    university_id = make_university(sqlite_configured)
    make_path(sqlite_configured, university_id)

    app = open_curriculum()

    assert not app.exception
    for key in ("new_path_hours", "new_level_time_limit"):
        box = app.number_input(key=key)
        assert (key, box.min, box.max) == (key, 1, 2_147_483_647)
