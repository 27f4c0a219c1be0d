"""CSV exports on SQLite and PostgreSQL: header, ISO UTC times, every
matching row once, keyset streaming in several chunks, filters refused or
named in the file name, scoping, and the ``export`` command."""

from __future__ import annotations

import csv
import io
import os
import shlex
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_agent, make_university
from tests.test_queries import NOW, build_scene
from university_models.cli import main
from university_models.db import read_session, transaction
from university_models.errors import InvalidInput, NotFound
from university_models.exports import (
    REPORT_COLUMNS,
    REPORTS,
    ExportFilters,
    count_rows,
    csv_chunks,
    csv_text,
    export_file_name,
    filter_labels,
    report_command,
    report_size,
    slug,
)
from university_models.models import TrainingDataCollection
from university_models.ratings import MIN_BOOTSTRAP_ROUNDS
from university_models.services import competitions

#: The rows ``build_scene`` writes per report for one university (scale 1).
SCENE_ROWS = {
    "leaderboard": 3,
    "progress": 3,
    "training-data": 3,
    "proposals": 2,
    "matches": 5,
}

TIME_COLUMNS = {
    "progress": ["started_at", "completed_at", "last_activity_at"],
    "training-data": ["collected_at", "validated_at"],
    "proposals": ["validated_at", "implemented_at", "created_at"],
    "matches": ["started_at", "completed_at"],
}


@pytest.fixture(autouse=True)
def few_resamples(monkeypatch):
    # The fewest resamples the ratings accept: the intervals are tested in
    # test_ratings.py; here the leaderboard report only has to carry them.
    monkeypatch.setattr(
        "university_models.queries.leaderboard.BOOTSTRAP_ROUNDS", MIN_BOOTSTRAP_ROUNDS
    )


def export(engine, report, university_id, filters=None, **options):
    with read_session(engine) as session:
        chunks = list(csv_chunks(session, report, university_id, filters, **options))
        expected = count_rows(
            session, report, university_id, filters or ExportFilters()
        )
    return chunks, expected


def parse(chunks: list[str]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(chunks), newline="")))


@pytest.fixture
def two_universities(engine):
    with transaction(engine) as session:
        first = build_scene(session, "Lyceum")
        second = build_scene(session, "Academy")
    return first, second


@pytest.mark.parametrize("report", REPORTS)
def test_every_report_has_its_header_and_every_matching_row(
    engine, two_universities, report
):
    first, _ = two_universities
    chunks, expected = export(engine, report, first.university_id)
    header = next(csv.reader(io.StringIO(chunks[0])))
    rows = parse(chunks)

    assert header == REPORT_COLUMNS[report]
    assert all(name == name.lower() and " " not in name for name in header)
    assert len(rows) == expected == SCENE_ROWS[report]
    for column in TIME_COLUMNS.get(report, []):
        for row in rows:
            if row[column]:
                moment = datetime.fromisoformat(row[column])
                assert moment.utcoffset() == timedelta(0), row[column]


@pytest.mark.parametrize("report", REPORTS)
def test_a_report_holds_only_the_selected_universitys_rows(
    engine, two_universities, report
):
    first, second = two_universities
    chunks, _ = export(engine, report, second.university_id)
    text = "".join(chunks)
    assert "Lyceum" not in text
    for record_id in first.records:
        assert record_id not in text


def test_training_data_rows_carry_iso_utc_times_and_no_raw_content(
    engine, two_universities
):
    first, _ = two_universities
    chunks, _ = export(engine, "training-data", first.university_id)
    rows = parse(chunks)
    validated = next(row for row in rows if row["validation_status"] == "validated")
    assert datetime.fromisoformat(validated["collected_at"]) == NOW - timedelta(days=9)
    assert validated["anonymized"] == "false"
    assert "record 0" not in "".join(chunks)


def test_filters_narrow_the_rows_and_the_count(engine, two_universities):
    first, _ = two_universities
    uid = first.university_id
    arena = ExportFilters(competition_id=first.competitions["arena"])
    completed = ExportFilters(status="completed")
    recent = ExportFilters(
        date_from=(NOW - timedelta(days=2)).date(), date_to=NOW.date()
    )

    chunks, expected = export(engine, "matches", uid, arena)
    assert len(parse(chunks)) == expected == 4
    chunks, expected = export(engine, "matches", uid, completed)
    assert len(parse(chunks)) == expected == 4
    chunks, expected = export(engine, "training-data", uid, recent)
    assert len(parse(chunks)) == expected == 2
    chunks, expected = export(
        engine, "progress", uid, ExportFilters(path_id=first.paths["basics"])
    )
    assert len(parse(chunks)) == expected == 3
    chunks, expected = export(engine, "leaderboard", uid, arena)
    assert {row["agent"] for row in parse(chunks)} == {
        "Lyceum Ada",
        "Lyceum Bob",
        "Lyceum Cyd",
    }


@pytest.mark.parametrize(
    ("report", "filters", "message"),
    [
        ("proposals", ExportFilters(competition_id="x"), "cannot be filtered by"),
        ("matches", ExportFilters(status="pending"), "Status 'pending'"),
        ("training-data", ExportFilters(data_type="video"), "Data type 'video'"),
        ("leaderboard", ExportFilters(agent_type="robot"), "Agent type 'robot'"),
        (
            "proposals",
            ExportFilters(date_from=date(2026, 12, 2), date_to=date(2026, 12, 1)),
            "swap the dates",
        ),
        ("grades", ExportFilters(), "no report 'grades'"),
    ],
)
def test_a_bad_request_is_refused_before_any_row(
    engine, two_universities, report, filters, message
):
    first, _ = two_universities
    with read_session(engine) as session, pytest.raises(InvalidInput, match=message):
        csv_chunks(session, report, first.university_id, filters)


def test_file_name_holds_the_report_university_filters_and_day(
    engine, two_universities
):
    first, second = two_universities
    filters = ExportFilters(
        competition_id=first.competitions["arena"], date_from=date(2026, 11, 1)
    )
    with read_session(engine) as session:
        labels = filter_labels(session, first.university_id, filters)
        with pytest.raises(NotFound, match="no competition"):
            filter_labels(session, second.university_id, filters)
    name = export_file_name(
        "leaderboard", "Lyceum Demo", labels, today=date(2026, 12, 3)
    )
    assert name == (
        "leaderboard_lyceum-demo_competition-arena_from-2026-11-01_2026-12-03.csv"
    )
    assert slug("  Ünïcode & Co. ") == "n-code-co"
    assert slug("!!!") == "unnamed"


@pytest.fixture
def many_records(engine):
    """47 training records, many sharing one collected_at, so the keyset
    must fall back on the id to page through ties."""
    with transaction(engine) as session:
        university = make_university(session, name="Many")
        agent = make_agent(session, university)
        for number in range(47):
            session.add(
                TrainingDataCollection(
                    university=university,
                    agent=agent,
                    source_type="training",
                    data_type="reasoning",
                    raw_data={"n": number},
                    collected_at=datetime(2026, 12, 1, 10, number % 3, tzinfo=UTC),
                )
            )
        university_id = university.id
    return university_id


def test_streaming_yields_the_header_then_one_chunk_per_page(engine, many_records):
    seen = []
    chunks, expected = export(
        engine, "training-data", many_records, page_size=10, progress=seen.append
    )
    rows = parse(chunks)
    assert len(chunks) == 1 + 5
    assert seen == [10, 20, 30, 40, 47]
    assert len(rows) == expected == 47
    assert len({row["record_id"] for row in rows}) == 47
    keys = [(row["collected_at"], row["record_id"]) for row in rows]
    assert keys == sorted(keys)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(page_size=st.integers(min_value=1, max_value=60))
def test_any_page_size_gives_the_same_rows_in_the_same_order(
    engine, many_records, page_size
):
    whole, _ = export(engine, "training-data", many_records, page_size=1000)
    paged, _ = export(engine, "training-data", many_records, page_size=page_size)
    assert "".join(paged) == "".join(whole)


@pytest.mark.parametrize("page_size", [1, 2, 3, 1000])
def test_matches_report_goes_competition_by_competition_in_name_order(
    engine, two_universities, page_size
):
    first, _ = two_universities
    chunks, expected = export(
        engine, "matches", first.university_id, page_size=page_size
    )
    rows = parse(chunks)

    keys = [(row["competition"], int(row["match_number"])) for row in rows]
    assert len(rows) == expected
    assert len({row["competition"] for row in rows}) > 1
    assert keys == sorted(keys)


def test_matches_report_says_the_round_and_which_wins_were_walkovers(engine):
    with transaction(engine) as session:
        university = make_university(session)
        agents = [make_agent(session, university, name=n).id for n in "ABCD"]
        start = datetime.now(UTC)
        cup = competitions.schedule_competition(
            session,
            university.id,
            name="Cup",
            competition_type="tournament",
            scheduled_start=start,
            scheduled_end=start + timedelta(days=1),
        )
        entries = [
            competitions.add_participant(session, cup.id, agent, seed_ranking=seed)
            for seed, agent in enumerate(agents, start=1)
        ]
        competitions.start_competition(session, cup.id)
        # D (seed 4) is disqualified: A wins match #1 without playing.
        competitions.disqualify_participant(session, entries[3].id)
        university_id = university.id

    rows = parse(export(engine, "matches", university_id)[0])

    assert [(r["match_number"], r["round"], r["walkover"]) for r in rows] == [
        ("1", "1", "true"),
        ("2", "1", "false"),
    ]
    assert (rows[0]["winner"], rows[0]["agent_1_score"]) == ("A", "")


# ---------------------------------------------------------------------------
# The command


@pytest.fixture
def configured(engine, monkeypatch, two_universities):
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    return two_universities


def test_export_command_streams_csv_to_standard_output(configured, capsys):
    code = main(
        ["export", "matches", "--university", "lyceum", "--competition", "arena"]
    )
    out, err = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert len(rows) == 4
    assert {row["competition"] for row in rows} == {"Arena"}
    assert "4 rows of the matches report" in err


def test_export_to_standard_output_is_utf8_whatever_the_terminal_says(
    configured, engine
):
    with transaction(engine) as session:
        university = make_university(session, name="Lycée Ω")
        agent = make_agent(session, university, name="Ωmega")
        session.add(
            TrainingDataCollection(
                university=university,
                agent=agent,
                source_type="training",
                data_type="reasoning",
                raw_data={"steps": ["think"]},
            )
        )
    environment = {**os.environ, "PYTHONIOENCODING": "latin-1"}

    finished = subprocess.run(
        [sys.executable, "-m", "university_models", "export", "training-data"]
        + ["--university", "Lycée Ω"],
        capture_output=True,
        env=environment,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr.decode("latin-1")
    [row] = csv.DictReader(io.StringIO(finished.stdout.decode("utf-8")))
    assert row["agent"] == "Ωmega"


def test_export_command_names_the_file_after_the_filters(configured, tmp_path, capsys):
    folder = tmp_path / "exports"
    folder.mkdir()
    code = main(
        [
            "export",
            "training-data",
            "--university",
            "Lyceum",
            "--status",
            "validated",
            "--out",
            str(folder),
        ]
    )
    _, err = capsys.readouterr()
    [written] = list(folder.iterdir())
    today = datetime.now(UTC).date().isoformat()
    assert code == 0
    assert written.name == f"training-data_lyceum_status-validated_{today}.csv"
    rows = list(csv.DictReader(written.open(encoding="utf-8", newline="")))
    assert [row["validation_status"] for row in rows] == ["validated"]
    assert "wrote 1 row of" in err


def test_export_command_writes_the_named_file(configured, tmp_path):
    target = tmp_path / "proposals.csv"
    assert (
        main(["export", "proposals", "--university", "Academy", "--out", str(target)])
        == 0
    )
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert len(rows) == 2
    assert all(row["title"].startswith("Academy") for row in rows)
    assert not list(tmp_path.glob("*.part"))


def test_export_command_refuses_an_unknown_competition_and_writes_nothing(
    configured, tmp_path, capsys
):
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "out.csv"
    code = main(
        [
            "export",
            "matches",
            "--university",
            "Lyceum",
            "--competition",
            "Nope",
            "--out",
            str(target),
        ]
    )
    _, err = capsys.readouterr()
    assert code == 1
    assert "No competition is named 'Nope'" in err
    assert "'Arena'" in err
    assert not list(folder.iterdir())


def test_export_command_refuses_a_filter_the_report_does_not_take_by_its_option(
    configured, capsys
):
    code = main(
        ["export", "proposals", "--university", "Lyceum", "--data-type", "reasoning"]
    )
    _, err = capsys.readouterr()
    assert code == 1
    # In the words typed: options, not the export's field names.
    assert "The proposals report takes --status, --from, --to, not --data-type" in err
    assert "data_type" not in err


def test_export_command_refuses_a_day_that_is_not_iso(configured, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "matches", "--university", "Lyceum", "--from", "03/12/2026"])
    assert exit_info.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_export_command_line_shown_on_the_page_gives_the_same_rows(
    configured, engine, capsys
):
    first, _ = configured
    filters = {
        "competition_id": first.competitions["arena"],
        "status": "completed",
        "date_from": (NOW - timedelta(days=2)).date(),
        "date_to": NOW.date(),
    }
    with read_session(engine) as session:
        command = report_command(
            session, first.university_id, report="matches", **filters
        )
        expected = report_size(
            session, first.university_id, report="matches", **filters
        )
    words = shlex.split(command)
    assert words[:5] == ["python", "-m", "university_models", "export", "matches"]
    assert main(words[3:]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == expected == 2


def test_missing_values_are_empty_cells_and_times_are_utc():
    paris = timezone(timedelta(hours=1))
    text = csv_text(
        [
            [
                None,
                float("nan"),
                pd.NA,
                pd.NaT,
                True,
                0.1,
                datetime(2026, 1, 1, 1, tzinfo=paris),
            ]
        ]
    )
    assert text == ",,,,true,0.1,2026-01-01T00:00:00+00:00\r\n"


def test_text_that_starts_like_a_formula_stays_text_in_a_spreadsheet():
    names = ['=HYPERLINK("http://evil.example","x")', "+SUM(1;2)", "@cmd", "-2+3"]

    [row] = csv.reader(io.StringIO(csv_text([[*names, -2.5, "Ada"]])))

    assert row == [*("'" + name for name in names), "-2.5", "Ada"]
