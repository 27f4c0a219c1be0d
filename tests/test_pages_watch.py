"""The Watch and Report pages through Streamlit's AppTest, on SQLite and
PostgreSQL: each renders on an empty database and with data, every number
belongs to the selected university, and the choice survives in the URL."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import select
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from tests.factories import make_agent, make_university
from tests.test_queries import add_match, build_scene
from university_models import ui
from university_models.config import PROJECT_ROOT
from university_models.db import read_session, transaction
from university_models.models import (
    AgentProgress,
    Competition,
    CompetitionParticipant,
    TrainingDataCollection,
)
from university_models.queries.training_data import review_status_counts
from university_models.queries.universities import list_universities
from university_models.ratings import MIN_BOOTSTRAP_ROUNDS
from university_models.services.competitions import schedule_competition
from university_models.services.curriculum import add_level
from university_models.services.training_data import (
    REJECTION_REASON_KEY,
    collect_training_data,
)

APP = str(PROJECT_ROOT / "streamlit_app.py")


@pytest.fixture
def configured(engine, monkeypatch):
    # The fewest resamples the ratings accept: the intervals are tested in
    # test_ratings.py; here they only have to be drawn, and quickly.
    monkeypatch.setattr(
        "university_models.queries.leaderboard.BOOTSTRAP_ROUNDS",
        MIN_BOOTSTRAP_ROUNDS,
    )
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    ui.engine.clear()
    ui.clear_caches()
    yield engine
    ui.engine.clear()
    ui.clear_caches()


def open_page(page: str, *, university_id: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    if university_id is not None:
        app.query_params["university"] = university_id
    app.run()
    if page != "pages/overview.py":
        app.switch_page(page).run()
    return app


def page_text(app: AppTest) -> str:
    """Everything a person reads on the page, as one string."""
    parts = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "warning"):
        parts.extend(str(element.value) for element in getattr(app, kind))
    parts.extend(f"{m.label} {m.value}" for m in app.metric)
    for frame in app.dataframe:
        parts.append(frame.value.to_string())
    return "\n".join(parts)


def test_overview_on_an_empty_university_says_what_to_do_next(configured):
    with transaction(configured) as session:
        make_university(session, name="Empty U")
    app = open_page("pages/overview.py")
    assert not app.exception
    assert any("no agents yet" in info.value for info in app.info)
    assert app.metric[0].value == "0"


def test_the_agent_counts_say_they_leave_archived_agents_out(configured):
    with transaction(configured) as session:
        university = make_university(session, name="Counted U")
        make_agent(session, university, name="Ada")
        make_agent(session, university, name="Bo")
        make_agent(session, university, name="Cy", status="archived")

    overview = open_page("pages/overview.py", university_id=university.id)
    universities = open_page("pages/universities.py", university_id=university.id)

    assert not overview.exception and not universities.exception
    assert (overview.metric[0].label, overview.metric[0].value) == (
        "Agents not archived",
        "2",
    )
    table = universities.dataframe[0]
    assert json.loads(table.proto.columns)["agents"]["label"] == "agents not archived"
    assert table.value["agents"].tolist() == [2]


def test_overview_shows_only_the_selected_universitys_numbers(configured):
    with transaction(configured) as session:
        busy = build_scene(session, "Busy")
        quiet = make_university(session, name="Quiet").id

    app = open_page("pages/overview.py", university_id=busy.university_id)
    assert not app.exception
    assert app.metric[0].value == "3"
    assert app.metric[2].value == "1"

    app = open_page("pages/overview.py", university_id=quiet)
    assert not app.exception
    assert app.metric[0].value == "0"
    assert app.metric[2].value == "0"


def test_selector_round_trips_through_the_query_parameter(configured):
    with transaction(configured) as session:
        first = make_university(session, name="Alpha").id
        second = make_university(session, name="Beta").id

    # Without a parameter the first active university by name is chosen and
    # written to the URL, so a copied link opens it again.
    app = open_page("pages/overview.py")
    assert app.query_params["university"] == first
    assert app.sidebar.selectbox[0].value == first

    # A link naming the second opens the second.
    app = open_page("pages/overview.py", university_id=second)
    assert app.sidebar.selectbox[0].value == second
    assert "Beta" in page_text(app)

    # Choosing in the sidebar updates the URL, and the next page keeps it.
    app = open_page("pages/overview.py")
    app.sidebar.selectbox[0].select(second).run()
    assert app.query_params["university"] == second
    app.switch_page("pages/leaderboard.py").run()
    assert not app.exception
    assert app.sidebar.selectbox[0].value == second


def test_selector_replaces_an_unknown_university_in_the_link(configured):
    with transaction(configured) as session:
        known = make_university(session, name="Known").id
    app = open_page("pages/overview.py", university_id="no-such-id")
    assert not app.exception
    assert any("no-such-id" in warning.value for warning in app.sidebar.warning)
    assert app.sidebar.selectbox[0].value == known


def test_selector_opens_a_link_to_a_university_newer_than_the_cached_list(
    configured,
):
    with transaction(configured) as session:
        make_university(session, name="Alpha")
    open_page("pages/overview.py")
    # Created from the command line while the list above is still cached.
    with transaction(configured) as session:
        newer = make_university(session, name="Newer").id

    app = open_page("pages/overview.py", university_id=newer)

    assert not app.exception
    assert not app.sidebar.warning
    assert app.sidebar.selectbox[0].value == newer
    assert app.query_params["university"] == newer


def choose(app: AppTest, label: str, value) -> AppTest:
    [box] = [box for box in app.selectbox if box.label == label]
    return box.select(value).run()


def test_the_leaderboard_says_how_a_population_filter_counts(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum")
    app = open_page("pages/leaderboard.py", university_id=first.university_id)
    assert "opponent that passes the filters" not in page_text(app)

    choose(app, "Agent type", "student")

    assert not app.exception
    text = page_text(app)
    assert "or no opponent that passes the filters" in text
    assert "wins, draws and losses count every opponent" in text


def test_the_leaderboard_of_a_scheduled_competition_says_it_has_not_started(
    configured,
):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum")
        start = datetime.now(UTC) + timedelta(days=2)
        winter = schedule_competition(
            session,
            first.university_id,
            name="Winter Open",
            competition_type="head_to_head",
            scheduled_start=start,
            scheduled_end=start + timedelta(days=1),
        ).id
    app = open_page("pages/leaderboard.py", university_id=first.university_id)

    choose(app, "Competition", winter)

    assert not app.exception
    message = " ".join(info.value for info in app.info)
    assert "Winter Open is scheduled and has no completed match to rank" in message
    assert "widen the filters" not in message


def test_leaderboard_ranks_the_selected_universitys_agents(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum")
        second = build_scene(session, "Academy")

    app = open_page("pages/leaderboard.py", university_id=first.university_id)
    assert not app.exception
    table = app.dataframe[0].value
    assert set(table["agent"]) == {"Lyceum Ada", "Lyceum Bob", "Lyceum Cyd"}
    assert "Academy" not in page_text(app)
    # Three results: the intervals are asked for at once, but three matches
    # are too few for one, and the table says so rather than show none.
    assert table["rating_lower"].isna().all()
    assert table["interval_note"].str.startswith("too few matches").all()
    assert set(table["group"]) == {"group 1 (3 agents)"}
    assert "share a rank" in page_text(app)

    app.toggle(key="leaderboard_intervals").set_value(False).run()
    assert not app.exception
    assert "rating_lower" not in app.dataframe[0].value
    assert "ranked by rating alone" in page_text(app)
    assert any("Choose a competition" in info.value for info in app.info)

    choose(app, "Competition", first.competitions["arena"])
    assert not app.exception
    assert "Standings of Arena" in page_text(app)
    assert "Pairwise win rates in Arena" in page_text(app)
    standings = app.dataframe[1].value
    assert set(standings["agent"]) == {"Lyceum Ada", "Lyceum Bob", "Lyceum Cyd"}
    # Arena is head to head: no bracket, so no stage column.
    assert "stage" not in standings.columns

    app = open_page("pages/leaderboard.py", university_id=second.university_id)
    assert set(app.dataframe[0].value["agent"]) == {
        "Academy Ada",
        "Academy Bob",
        "Academy Cyd",
    }


def test_leaderboard_without_matches_says_what_to_do(configured):
    with transaction(configured) as session:
        make_university(session, name="No Matches")
    app = open_page("pages/leaderboard.py")
    assert not app.exception
    assert any("No completed matches" in info.value for info in app.info)
    assert not app.dataframe


def test_curriculum_without_paths_says_what_to_do(configured):
    with transaction(configured) as session:
        make_university(session, name="No Paths")
    app = open_page("pages/curriculum.py")
    assert not app.exception
    assert any("no curriculum path" in info.value for info in app.info)


def test_curriculum_shows_the_selected_universitys_path(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum")
        build_scene(session, "Academy")
    app = open_page("pages/curriculum.py", university_id=first.university_id)
    assert not app.exception
    text = page_text(app)
    assert "2 agents with progress on this path, whichever path they study" in text
    assert "Academy" not in text
    [agent_box] = [box for box in app.selectbox if box.label == "Agent"]
    assert set(agent_box.options) == {"Lyceum Ada", "Lyceum Bob"}
    app.segmented_control(key="matrix_view").set_value("best score").run()
    assert not app.exception
    agent_box.select(first.agents["bob"]).run()
    assert not app.exception
    assert "Lyceum Bob has no challenge result" in page_text(app)


def test_curriculum_best_score_leaves_a_level_not_started_blank(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum")
        progress = session.scalars(
            select(AgentProgress).where(
                AgentProgress.curriculum_level_id == first.levels[2]
            )
        ).one()
        progress.status = "not_started"
    app = open_page("pages/curriculum.py", university_id=first.university_id)

    app.segmented_control(key="matrix_view").set_value("best score").run()

    assert not app.exception
    heatmap = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]
    # plotly sends the grid as base64 float64 with its shape.
    rows, columns = (int(n) for n in heatmap["z"]["shape"].split(","))
    grid = np.frombuffer(base64.b64decode(heatmap["z"]["bdata"]), dtype="<f8")
    cells = dict(zip(heatmap["y"], grid.reshape(rows, columns), strict=True))
    assert cells["Lyceum Ada"][0] == 0.9
    assert np.isnan(cells["Lyceum Ada"][1])


def test_the_progress_matrix_has_a_column_for_a_level_nobody_reached(configured):
    with transaction(configured) as session:
        scene = build_scene(session, "Lyceum")
        add_level(session, scene.paths["basics"], name="Unreached", challenges=["x"])
    app = open_page("pages/curriculum.py", university_id=scene.university_id)

    # The status view: its level axis runs to the last level.
    layout = json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]["xaxis"]
    assert layout["categoryarray"][-1] == "3. Unreached"
    assert layout["range"] == [-0.5, 2.5]

    app.segmented_control(key="matrix_view").set_value("best score").run()

    assert not app.exception
    heatmap = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]
    assert list(heatmap["x"]) == ["1. Level 1", "2. Level 2", "3. Unreached"]


def status_counts(engine, university_id) -> dict[str, int]:
    with read_session(engine) as session:
        return review_status_counts(session, university_id)


def test_training_data_without_records_says_what_to_do(configured):
    with transaction(configured) as session:
        make_university(session, name="No Data")
    app = open_page("pages/training_data.py")
    assert not app.exception
    assert any("No training data collected yet" in i.value for i in app.info)


def test_training_data_bulk_validate_states_the_count_and_asks_first(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum", scale=2)
        second = build_scene(session, "Academy")
    before_other = status_counts(configured, second.university_id)

    app = open_page("pages/training_data.py", university_id=first.university_id)
    assert not app.exception
    queue = app.dataframe[0].value
    assert len(queue) == 2
    assert set(queue["validation_status"]) == {"pending"}
    assert set(queue["agent"]) <= {"Lyceum Ada", "Lyceum Bob"}

    app.radio(key="queue_action").set_value("validate")
    app.button(key="queue_review").click().run()
    assert not app.exception
    assert any(
        "validate **2 training records** of Lyceum (2 pending)" in w.value
        for w in app.warning
    )
    # Nothing changes until the person confirms.
    assert status_counts(configured, first.university_id)["pending"] == 2

    app.button(key="queue_confirm").click().run()
    assert not app.exception
    assert any("2 training records validated" in s.value for s in app.success)
    assert status_counts(configured, first.university_id)["pending"] == 0
    assert status_counts(configured, second.university_id) == before_other


def test_a_bulk_change_of_one_record_reads_in_the_singular(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum", scale=2)
    app = open_page("pages/training_data.py", university_id=first.university_id)
    # Nothing ticked yet: the choice says how to tick, not "the 0 selected".
    assert app.radio(key="queue_scope").options == [
        "selected rows (tick some in the table)",
        "all 2 matching records",
    ]
    tick_rows(app, [0])
    assert app.radio(key="queue_scope").options[0] == "the 1 selected row"

    app.radio(key="queue_action").set_value("validate")
    app.button(key="queue_review").click().run()
    assert any("validate **1 training record** of" in w.value for w in app.warning)
    assert app.button(key="queue_confirm").label == "Confirm: validate 1 record"

    app.button(key="queue_confirm").click().run()
    assert any("1 training record validated." in s.value for s in app.success)


def test_training_data_confirmation_is_dropped_when_the_university_changes(
    configured,
):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum", scale=2)
        second = build_scene(session, "Academy", scale=2)
    before_other = status_counts(configured, second.university_id)
    app = open_page("pages/training_data.py", university_id=first.university_id)
    app.radio(key="queue_action").set_value("validate")
    app.button(key="queue_review").click().run()
    assert app.button(key="queue_confirm")

    app.sidebar.selectbox[0].select(second.university_id).run()

    assert not app.exception
    assert not [b for b in app.button if b.key == "queue_confirm"]
    assert status_counts(configured, second.university_id) == before_other


def test_training_data_ticks_do_not_move_to_other_records_with_the_filters(
    configured,
):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum", scale=3)
    app = open_page("pages/training_data.py", university_id=first.university_id)
    tick_rows(app, [0])
    assert app.radio(key="queue_scope").value == "selected"

    app.selectbox(key="queue_status").select("validated").run()

    assert not app.exception
    assert app.radio(key="queue_scope").value == "matching"
    app.button(key="queue_review").click().run()
    assert any("validate **3 training records**" in w.value for w in app.warning)


def test_training_data_bulk_refusal_changes_nothing_and_says_why(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum")
    before = status_counts(configured, first.university_id)

    app = open_page("pages/training_data.py", university_id=first.university_id)
    app.selectbox(key="queue_status").select("All")
    app.radio(key="queue_action").set_value("validate")
    app.run()
    app.button(key="queue_review").click().run()
    assert any("validate **3 training records**" in w.value for w in app.warning)
    # The preview already knows the service would refuse: no Confirm button.
    assert not app.exception
    assert not [b for b in app.button if b.key == "queue_confirm"]
    assert any("cannot be validated" in c.value for c in app.caption)
    assert status_counts(configured, first.university_id) == before

    # Rejecting needs a reason: refused before the confirmation, nothing
    # written.
    app.radio(key="queue_action").set_value("reject").run()
    app.button(key="queue_review").click().run()
    assert not app.exception
    assert any("To reject records, give a reason." in e.value for e in app.error)
    assert not [b for b in app.button if b.key == "queue_confirm"]
    assert status_counts(configured, first.university_id) == before


def test_training_data_bulk_refuses_when_the_records_changed_meanwhile(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum")
    app = open_page("pages/training_data.py", university_id=first.university_id)
    app.radio(key="queue_action").set_value("validate")
    app.button(key="queue_review").click().run()

    # Another pending record arrives between the review and the confirmation.
    with transaction(configured) as session:
        session.add(
            TrainingDataCollection(
                university_id=first.university_id,
                agent_id=first.agents["ada"],
                source_type="training",
                data_type="reasoning",
                raw_data={},
            )
        )
    before = status_counts(configured, first.university_id)
    app.button(key="queue_confirm").click().run()
    assert not app.exception
    assert any("not the 1 you confirmed" in e.value for e in app.error)
    assert status_counts(configured, first.university_id) == before

    # The refused review is spent: the next run asks for a new one.
    app.run()
    assert not [b for b in app.button if b.key == "queue_confirm"]
    assert not any("This will validate" in w.value for w in app.warning)


def test_exports_counts_rows_first_then_downloads_the_csv(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum")
        build_scene(session, "Academy")

    app = open_page("pages/exports.py", university_id=first.university_id)
    assert not app.exception
    app.selectbox(key="export_report").select("matches").run()
    assert app.metric[0].value == "5"
    app.selectbox(key="export_competition").select(first.competitions["arena"]).run()
    assert not app.exception
    assert app.metric[0].value == "4"
    assert "matches_lyceum_competition-arena_" in page_text(app)

    app.button[0].click().run()
    assert not app.exception
    assert len(app.get("download_button")) == 1
    ready = app.session_state["exports_ready_file"]
    assert ready["file_name"].startswith("matches_lyceum_competition-arena_")
    rows = list(csv.DictReader(io.StringIO(ready["data"].decode("utf-8"))))
    assert len(rows) == 4
    assert {row["competition"] for row in rows} == {"Arena"}
    assert not any("Academy" in value for row in rows for value in row.values())


def test_exports_never_offers_a_file_prepared_before_a_write(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum")
    app = open_page("pages/exports.py", university_id=first.university_id)
    app.selectbox(key="export_report").select("training-data").run()
    before = int(app.metric[0].value)
    app.button[0].click().run()
    assert len(app.get("download_button")) == 1

    # Another person (or the command line) collects a record meanwhile.
    with transaction(configured) as session:
        collect_training_data(
            session,
            first.university_id,
            agent_id=first.agents["ada"],
            source_type="training",
            data_type="reasoning",
            raw_data={"steps": ["a", "b"], "answer": "c"},
        )
    app.run()

    assert not app.exception
    assert app.metric[0].value == str(before + 1)
    assert not app.get("download_button")
    assert app.button[0].label == f"Prepare the CSV of {before + 1} rows"


def test_exports_past_the_browser_limit_point_to_the_command_line(
    configured, monkeypatch
):
    monkeypatch.setattr("university_models.exports.BROWSER_EXPORT_ROW_LIMIT", 3)
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum")
    app = open_page("pages/exports.py", university_id=first.university_id)
    app.selectbox(key="export_report").select("matches").run()

    assert not app.exception
    assert any("from a terminal" in warning.value for warning in app.warning)
    assert "python -m university_models export matches" in app.code[0].value
    assert not app.button


def test_exports_keeps_the_report_and_filters_across_a_visit_elsewhere(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum")
    app = open_page("pages/exports.py", university_id=first.university_id)
    app.selectbox(key="export_report").select("training-data").run()
    app.selectbox(key="export_data_type").select("conversation").run()

    app.switch_page("pages/overview.py").run()
    app.switch_page("pages/exports.py").run()

    assert not app.exception
    assert app.selectbox(key="export_report").value == "training-data"
    assert app.selectbox(key="export_data_type").value == "conversation"


def test_exports_with_no_matching_row_says_so(configured):
    with transaction(configured) as session:
        make_university(session, name="Empty")
    app = open_page("pages/exports.py")
    assert not app.exception
    assert app.metric[0].value == "0"
    assert any("No row matches" in info.value for info in app.info)
    assert not app.button


def test_cached_queries_are_kept_until_a_write_clears_them(configured):
    assert ui.cached_query(list_universities, None).empty
    with transaction(configured) as session:
        make_university(session, name="Fresh")
    # Still the cached answer: reads within the time-to-live are free...
    assert ui.cached_query(list_universities, None).empty
    # ...until a write clears the caches, as every page write does.
    ui.clear_caches()
    assert ui.cached_query(list_universities, None)["name"].tolist() == ["Fresh"]


def test_a_new_engine_never_sees_the_old_engines_cached_answers(configured):
    assert ui.cached_query(list_universities, None).empty
    with transaction(configured) as session:
        make_university(session, name="Behind The Same URL")
    ui.engine.clear()
    assert len(ui.cached_query(list_universities, None)) == 1


def test_status_colors_cover_every_status_of_every_table():
    assert set(ui.STATUS_COLORS) >= ui.ALL_STATUSES
    assert len(set(ui.STATUS_COLORS.values())) == len(ui.STATUS_COLORS)


def test_utc_helpers_label_and_refuse_naive_times():
    assert ui.utc_label("collected") == "collected (UTC)"
    paris = timezone(timedelta(hours=1))
    assert ui.format_utc(datetime(2026, 12, 3, 20, 5, tzinfo=paris)) == (
        "2026-12-03 19:05 UTC"
    )
    assert ui.format_utc(None) == ""
    with pytest.raises(ValueError, match="no time zone"):
        ui.format_utc(datetime(2026, 12, 3, 19, 5))
    assert ui.format_utc(datetime(2026, 12, 3, 19, 5, tzinfo=UTC)).endswith("UTC")


def tick_rows(app: AppTest, rows: list[int]) -> AppTest:
    """What a click on these rows of the review queue leaves in the session:
    the selection under the table's key (one key per filter and page)."""
    # AppTest's session state has keys() but cannot be iterated itself.
    names = app.session_state.keys()  # noqa: SIM118
    [key] = [name for name in names if name.startswith("review_table_")]
    app.session_state[key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return app.run()


def test_training_data_bulk_reject_of_selected_rows_keeps_the_others(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum", scale=3)
    app = open_page("pages/training_data.py", university_id=first.university_id)
    queue = app.dataframe[0].value
    assert len(queue) == 3
    chosen = set(queue["id"].iloc[[0, 2]])

    # What a click on two rows of the table leaves in the session.
    tick_rows(app, [0, 2])
    assert app.radio(key="queue_scope").value == "selected"
    app.radio(key="queue_action").set_value("reject").run()
    app.text_input(key="queue_reason").input("duplicate of another record").run()
    app.button(key="queue_review").click().run()
    assert any("reject **2 training records**" in w.value for w in app.warning)
    app.button(key="queue_confirm").click().run()
    assert not app.exception
    assert any("2 training records rejected" in s.value for s in app.success)

    with read_session(configured) as session:
        rejected = set(
            session.scalars(
                select(TrainingDataCollection.id).where(
                    TrainingDataCollection.university_id == first.university_id,
                    TrainingDataCollection.validation_status == "rejected",
                )
            )
        )
        reasons = {
            (record.record_metadata or {}).get(REJECTION_REASON_KEY)
            for record in session.scalars(
                select(TrainingDataCollection).where(
                    TrainingDataCollection.id.in_(rejected)
                )
            )
        }
    assert rejected == chosen
    assert reasons == {"duplicate of another record"}
    assert status_counts(configured, first.university_id)["pending"] == 1


def test_training_data_queue_pages_in_the_query(configured):
    with transaction(configured) as session:
        first = build_scene(session, "Lyceum", scale=55)
        for number in range(60):
            session.add(
                TrainingDataCollection(
                    university_id=first.university_id,
                    agent_id=first.agents["bob"],
                    source_type="evaluation",
                    data_type="tool_use",
                    raw_data={"n": number},
                )
            )
    app = open_page("pages/training_data.py", university_id=first.university_id)
    assert len(app.dataframe[0].value) == 50
    first_page = set(app.dataframe[0].value["id"])
    app.number_input(key="queue_page").set_value(3).run()
    assert not app.exception
    last_page = set(app.dataframe[0].value["id"])
    assert len(last_page) == 15
    assert not first_page & last_page
    assert "showing 15 from row 101" in page_text(app)

    # A narrower filter with fewer pages brings the queue to its last page.
    app.selectbox(key="queue_source").select("evaluation").run()
    assert not app.exception
    assert app.number_input(key="queue_page").value == 2
    assert "showing 10 from row 51" in page_text(app)


def _seated_competition(session, university_name, name, agent_names):
    """A head-to-head competition of a new university with one seat an agent."""
    university = make_university(session, name=university_name)
    competition = Competition(
        university=university,
        name=name,
        competition_type="head_to_head",
        rules={},
        evaluation_config={},
    )
    session.add(competition)
    session.flush()
    agents = [make_agent(session, university, name=name) for name in agent_names]
    seats = [
        CompetitionParticipant(competition=competition, agent_id=agent.id)
        for agent in agents
    ]
    session.add_all(seats)
    session.flush()
    return competition, seats


def test_a_chart_without_finite_intervals_is_not_titled_with_them(configured):
    with transaction(configured) as session:
        competition, seats = _seated_competition(
            session, "Young", "Opener", ("Ann", "Ben", "Cat")
        )
        # Three matches, too few for an interval.
        for number, (one, two) in enumerate([(0, 1), (1, 2), (0, 2)], start=1):
            add_match(
                session,
                competition,
                number,
                seats[one],
                seats[two],
                (1, 0),
                seats[one],
                days_ago=1,
            )

    app = open_page("pages/leaderboard.py")
    assert not app.exception
    assert app.toggle(key="leaderboard_intervals").value is True
    titles = [str(element.value) for element in app.subheader]
    assert "Top 3 ratings" in titles
    assert not [title for title in titles if "interval" in title]
    assert "No 95% interval for 3 agents" in page_text(app)


def test_leaderboard_warns_when_ratings_fall_into_separate_groups(configured):
    with transaction(configured) as session:
        competition, seats = _seated_competition(
            session, "Split", "Two Pools", ("Ann", "Ben", "Cat", "Dan")
        )
        # Ann and Ben: twelve matches, enough for an interval; Cat and Dan
        # one, too few.
        for number in range(1, 13):
            winner, loser = (seats[0], seats[1]) if number <= 8 else seats[1::-1]
            add_match(
                session, competition, number, winner, loser, (1, 0), winner, days_ago=1
            )
        add_match(
            session, competition, 13, seats[2], seats[3], (0, 1), seats[3], days_ago=1
        )

    app = open_page("pages/leaderboard.py")
    assert not app.exception
    [warning] = app.warning
    assert "2 groups" in warning.value
    assert "2 agents (Ann, Ben)" in warning.value

    # Ranked within each group, the groups one after the other.
    table = app.dataframe[0].value
    assert list(table["agent"]) == ["Ann", "Ben", "Dan", "Cat"]
    assert (
        list(table["group"]) == ["group 1 (2 agents)"] * 2 + ["group 2 (2 agents)"] * 2
    )
    assert table["rank"].tolist()[2:] == [1, 2]
    assert table["rating_lower"].iloc[:2].notna().all()
    assert table["interval_note"].iloc[:2].isna().all()
    assert table["interval_note"].iloc[2:].str.startswith("too few matches").all()

    # The chart shows one group at a time: ratings of two groups are on
    # different scales.
    assert "Top 2 ratings with their 95% intervals in group 1" in page_text(app)
    app.selectbox(key="leaderboard_chart_group").select("group 2 (2 agents)").run()
    assert not app.exception
    assert "in group 2 (2 agents)" in page_text(app)


def _page_showing_two_errors():
    from university_models.errors import InvalidInput
    from university_models.ui import show_error

    show_error(InvalidInput("Agent name 'Ada' is taken; choose another."))
    show_error(RuntimeError("connection string with a secret"))


def test_show_error_shows_refusals_as_they_are_and_hides_bugs(caplog):
    app = AppTest.from_function(_page_showing_two_errors).run()
    assert not app.exception
    refusal, bug = (element.value for element in app.error)
    assert refusal == "Agent name 'Ada' is taken; choose another."
    assert "secret" not in bug
    assert "nothing was changed" in bug
    assert "connection string with a secret" in caplog.text


@pytest.mark.parametrize(
    ("typed", "escaped"),
    [
        ("**bold** _it_", r"\*\*bold\*\* \_it\_"),
        ("[link](javascript:alert(1))", r"\[link\](javascript\:alert(1))"),
        ("$x^2$ :red[red]", r"\$x^2\$ \:red\[red\]"),
        (":material/delete:", "\\:\u2060material/delete\\:"),
        ("## heading", r"\#\# heading"),
        ("1. first\n- second", "1\\. first\n\\- second"),
        ("<b>x</b> &amp;", r"\<b\>x\</b\> \&amp;"),
        ("Agent 'Ada' created.", "Agent 'Ada' created."),
    ],
)
def test_text_people_typed_is_escaped_for_markdown(typed, escaped):
    assert ui.literal(typed) == escaped


def _page_showing_a_hostile_refusal():
    from university_models.errors import Conflict
    from university_models.ui import show_error

    show_error(Conflict("Agent name '**Mallory** [x](http://evil.example)' is taken."))


def test_show_error_shows_names_in_a_refusal_literally():
    app = AppTest.from_function(_page_showing_a_hostile_refusal).run()

    assert app.error[0].value == (
        r"Agent name '\*\*Mallory\*\* \[x\](http\://evil.example)' is taken."
    )


def _page_run_without_the_entrypoint():
    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager

    from university_models.ui import select_university

    # What Streamlit does for the first visitor of a fresh server who opens
    # a page's link: the pages/ folder mode, the page without the entrypoint.
    if st.session_state.pop("simulate_pages_folder_mode", False):
        PagesManager.uses_pages_directory = True
    st.session_state["runs"] = st.session_state.get("runs", 0) + 1
    select_university(required=False)


def test_a_page_run_without_the_entrypoint_reruns_through_it_once(configured):
    app = AppTest.from_function(_page_run_without_the_entrypoint)
    app.session_state["simulate_pages_folder_mode"] = True
    app.run()
    assert not app.exception
    assert app.session_state["runs"] == 2
    assert PagesManager.uses_pages_directory is False

    # A later run of the same session is not rerun: it may carry a click.
    app.session_state["simulate_pages_folder_mode"] = True
    app.run()
    assert app.session_state["runs"] == 3
