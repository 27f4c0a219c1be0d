"""Importing result files: formats, refusals with their line numbers, one
transaction per file, agents, duplicates, the competition it creates, and a
large file read as a stream; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import shutil
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from tests.factories import make_agent, make_university
from university_models import ui
from university_models.cli import main
from university_models.config import PROJECT_ROOT
from university_models.db import make_engine, read_session, transaction
from university_models.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
)
from university_models.importers import (
    ImportReport,
    detect_format,
    import_results,
    read_records,
)
from university_models.models import (
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    University,
    UniversityAgent,
)
from university_models.queries.overview import activity_timeline
from university_models.services.competitions import (
    add_participant,
    schedule_competition,
    start_competition,
)
from university_models.services.universities import set_university_status

TABLES = (UniversityAgent, Competition, CompetitionParticipant, CompetitionMatch)


def row_counts(engine: Engine) -> dict[str, int]:
    with read_session(engine) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in TABLES
        }


@pytest.fixture
def university_id(engine) -> str:
    with transaction(engine) as session:
        return make_university(session, name="Import U", max_agents=10).id


def run_import(
    engine,
    data: str | bytes,
    *,
    file_name: str,
    university: str = "Import U",
    name: str = "Imported",
    kind: str = "head_to_head",
    **options,
) -> ImportReport:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with transaction(engine) as session:
        return import_results(
            session,
            io.BytesIO(raw),
            university_name_or_id=university,
            competition_name=name,
            competition_type=kind,
            file_name=file_name,
            **options,
        )


def matches_of(engine, competition_id: str) -> list[dict]:
    """The competition's matches in order, with agent names for the sides."""
    with read_session(engine) as session:
        names = dict(
            session.execute(
                select(CompetitionParticipant.id, UniversityAgent.name).join(
                    UniversityAgent,
                    UniversityAgent.id == CompetitionParticipant.agent_id,
                )
            ).all()
        )
        rows = session.scalars(
            select(CompetitionMatch)
            .where(CompetitionMatch.competition_id == competition_id)
            .order_by(CompetitionMatch.match_number)
        ).all()
        return [
            {
                "number": match.match_number,
                "a": names[match.participant1_id],
                "b": names.get(match.participant2_id),
                "winner": names.get(match.winner_participant_id),
                "scores": (match.participant1_score, match.participant2_score),
                "config": dict(match.match_config),
                "completed_at": match.completed_at,
                "status": match.status,
            }
            for match in rows
        ]


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


# --- formats ---------------------------------------------------------------


def test_a_record_without_played_at_keeps_no_time_and_is_not_todays_activity(
    engine, university_id
):
    rows = [{"agent_a": "a", "agent_b": "b", "winner": "model_a"}] * 3

    report = run_import(engine, jsonl(rows), file_name="history.jsonl")

    assert {m["completed_at"] for m in matches_of(engine, report.competition_id)} == {
        None
    }
    with read_session(engine) as session:
        timeline = activity_timeline(session, university_id, days=7)
        agent = session.scalars(
            select(UniversityAgent).where(UniversityAgent.name == "a")
        ).one()
        assert (agent.competition_wins, agent.last_competed_at) == (3, None)
    assert timeline["matches_completed"].sum() == 0


def test_a_match_played_in_the_future_is_refused_and_nothing_written(
    engine, university_id
):
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    rows = [{"agent_a": "a", "agent_b": "b", "winner": "tie", "played_at": later}]
    before = row_counts(engine)

    with pytest.raises(InvalidInput, match="line 1: column played_at .* future"):
        run_import(engine, jsonl(rows), file_name="future.jsonl")

    assert row_counts(engine) == before


def test_csv_with_bom_crlf_and_quoted_commas_and_newlines_is_read(
    engine, university_id
):
    data = (
        "\ufeffagent_a,agent_b,winner,question_id\r\n"
        '"gpt, the fourth",claude,agent_a,"q1"\r\n'
        'claude,"gpt, the fourth",tie,"two\r\nlines"\r\n'
        '"say ""hi""",claude,model_b,3\r\n'
    )

    report = run_import(engine, data, file_name="battles.csv")

    matches = matches_of(engine, report.competition_id)
    assert [(m["a"], m["b"], m["winner"]) for m in matches] == [
        ("gpt, the fourth", "claude", "gpt, the fourth"),
        ("claude", "gpt, the fourth", None),
        ('say "hi"', "claude", "claude"),
    ]
    assert matches[1]["config"]["question_id"] == "two\r\nlines"
    assert matches[1]["scores"] == (0.5, 0.5)
    assert (report.matches_written, report.ties, report.agents_created) == (3, 1, 3)


def test_json_array_and_json_lines_give_the_same_matches(engine, university_id):
    rows = [
        {"model_a": "x", "model_b": "y", "winner": "model_a", "question_id": 7},
        {"model_a": "y", "model_b": "x", "score_a": 3, "score_b": 3},
    ]
    array_text = "[\n" + ",\n".join(json.dumps(row, indent=2) for row in rows) + "\n]"

    from_array = run_import(engine, array_text, file_name="r.json", name="Array")
    from_lines = run_import(engine, jsonl(rows), file_name="r.jsonl", name="Lines")

    strip = lambda ms: [(m["a"], m["b"], m["winner"], m["scores"]) for m in ms]  # noqa: E731
    assert strip(matches_of(engine, from_array.competition_id)) == strip(
        matches_of(engine, from_lines.competition_id)
    )
    assert matches_of(engine, from_array.competition_id)[0]["config"] == {
        "question_id": "7",
        "round": None,
        "source": "import",
    }


def test_a_json_array_is_read_in_chunks_across_record_boundaries(monkeypatch):
    from university_models import importers

    monkeypatch.setattr(importers, "JSON_CHUNK_CHARS", 5)
    text = io.StringIO('[ {"agent": "a", "challenge": 1, "score": 0.5},\n {"b": 2} ]')

    records = list(read_records(text, "json"))

    assert records == [
        ("record 1 (line 1)", {"agent": "a", "challenge": 1, "score": 0.5}),
        ("record 2 (line 2)", {"b": 2}),
    ]


def test_the_format_comes_from_the_file_name_unless_given():
    assert detect_format("results.CSV", None) == "csv"
    assert detect_format("results.ndjson", None) == "jsonl"
    assert detect_format("results.txt", "json") == "json"
    with pytest.raises(InvalidInput, match="give the format"):
        detect_format("results.txt", None)
    with pytest.raises(InvalidInput, match="Unknown format 'xml'"):
        detect_format("results.csv", "xml")


def test_a_stream_that_cannot_seek_is_read_twice_through_a_spool(engine, university_id):
    class OneWay(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer) -> int:
            chunk = self.inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = jsonl([{"agent_a": "a", "agent_b": "b", "winner": "agent_b"}] * 3)
    with transaction(engine) as session:
        report = import_results(
            session,
            OneWay(data.encode()),
            university_name_or_id="Import U",
            competition_name="One way",
            competition_type="head_to_head",
            file_format="jsonl",
        )

    assert report.matches_written == 3
    assert report.duplicates == 2


# --- per-task records ------------------------------------------------------


def test_per_task_scores_become_solo_matches_and_empty_scores_are_skipped(
    engine, university_id
):
    data = "agent,challenge,score\na,c1,0.25\na,c2,\nb,c1,1\nb,c2,0.5\n"

    report = run_import(engine, data, file_name="tasks.csv", kind="challenge")

    matches = matches_of(engine, report.competition_id)
    assert (report.matches_written, report.skipped_unscored) == (3, 1)
    assert [(m["a"], m["b"], m["scores"][0]) for m in matches] == [
        ("a", None, 0.25),
        ("b", None, 1.0),
        ("b", None, 0.5),
    ]
    assert matches[0]["config"] == {
        "challenge": "c1",
        "round": None,
        "source": "import",
    }
    with read_session(engine) as session:
        ranks = dict(
            session.execute(
                select(UniversityAgent.name, CompetitionParticipant.ranking).join(
                    CompetitionParticipant,
                    CompetitionParticipant.agent_id == UniversityAgent.id,
                )
            ).all()
        )
    assert ranks == {"b": 1, "a": 2}


def test_per_task_records_are_refused_for_a_pairwise_competition(engine, university_id):
    before = row_counts(engine)

    with pytest.raises(InvalidInput, match="line 2: column agent_a or model_a"):
        run_import(engine, "agent,challenge,score\na,1,0.5\n", file_name="t.csv")

    assert row_counts(engine) == before


# --- the competition and its agents ---------------------------------------


def test_the_import_creates_a_completed_competition_over_the_played_window(
    engine, university_id
):
    rows = [
        {
            "agent_a": "a",
            "agent_b": "b",
            "score_a": 2,
            "score_b": 0,
            "round": "1",
            "played_at": "2024-05-02T10:00:00",
        },
        {
            "agent_a": "b",
            "agent_b": "c",
            "score_a": 1,
            "score_b": 1,
            "round": 2,
            "played_at": "2024-05-01T08:00:00+02:00",
        },
        {
            "agent_a": "c",
            "agent_b": "a",
            "score_a": 0,
            "score_b": 3,
            "played_at": "2024-05-03",
        },
    ]

    report = run_import(engine, jsonl(rows), file_name="league.jsonl")

    matches = matches_of(engine, report.competition_id)
    # Naive times are UTC; an offset is converted to UTC.
    assert matches[0]["completed_at"] == datetime(2024, 5, 2, 10, tzinfo=UTC)
    assert matches[1]["completed_at"] == datetime(2024, 5, 1, 6, tzinfo=UTC)
    assert [m["config"]["round"] for m in matches] == [1, 2, None]
    assert [m["number"] for m in matches] == [1, 2, 3]
    assert {m["status"] for m in matches} == {"completed"}
    with read_session(engine) as session:
        competition = session.get(Competition, report.competition_id)
        winner = session.get(UniversityAgent, competition.winner_agent_id)
        participants = session.scalars(
            select(CompetitionParticipant).where(
                CompetitionParticipant.competition_id == competition.id
            )
        ).all()
        a = session.scalars(
            select(UniversityAgent).where(UniversityAgent.name == "a")
        ).one()

        assert competition.status == "completed"
        assert competition.scheduled_start == datetime(2024, 5, 1, 6, tzinfo=UTC)
        assert competition.scheduled_end == datetime(2024, 5, 3, tzinfo=UTC)
        assert competition.actual_start == competition.scheduled_start
        assert competition.actual_end == competition.scheduled_end
        assert winner.name == "a"
        assert sorted(p.ranking for p in participants) == [1, 2, 3]
        assert {p.status for p in participants} == {"completed"}
        # Counters are recomputed from the matches.
        assert (a.competition_wins, a.competition_losses, a.competition_draws) == (
            2,
            0,
            0,
        )
        assert a.average_score == pytest.approx(2.5)


def test_an_import_takes_no_concurrent_competition_slot(engine):
    with transaction(engine) as session:
        university = make_university(
            session, name="Busy U", max_agents=10, max_concurrent_competitions=1
        )
        runner = make_agent(session, university, name="runner")
        rival = make_agent(session, university, name="rival")
        now = datetime.now(UTC)
        running = schedule_competition(
            session,
            university.id,
            name="Running now",
            competition_type="head_to_head",
            scheduled_start=now - timedelta(days=1),
            scheduled_end=now + timedelta(days=1),
        )
        for agent in (runner, rival):
            add_participant(session, running.id, agent.id)
        start_competition(session, running.id)
        busy_id = university.id
        # The same quota still refuses a second live competition.
        with pytest.raises(QuotaExceeded, match="allows 1 concurrent"):
            schedule_competition(
                session,
                university.id,
                name="Also now",
                competition_type="solo",
                scheduled_start=now,
                scheduled_end=now + timedelta(hours=1),
            )

    # Played during the running competition's window, and without times
    # (dated at the import): neither needs a slot.
    played = now.replace(microsecond=0).isoformat()
    report = run_import(
        engine,
        jsonl(
            [
                {"agent_a": "x", "agent_b": "y", "winner": "agent_a"},
                {
                    "agent_a": "y",
                    "agent_b": "x",
                    "score_a": 1,
                    "score_b": 0,
                    "played_at": played,
                },
            ]
        ),
        file_name="history.jsonl",
        university="Busy U",
    )

    with read_session(engine) as session:
        statuses = dict(
            session.execute(
                select(Competition.name, Competition.status).where(
                    Competition.university_id == busy_id
                )
            ).all()
        )
    assert statuses == {"Running now": "active", "Imported": "completed"}
    assert report.matches_written == 2


def test_agents_are_found_by_name_in_any_case_or_created_with_the_type(
    engine, university_id
):
    with transaction(engine) as session:
        university = session.get(University, university_id)
        make_agent(session, university, name="GPT-4", agent_type="instructor")

    data = jsonl(
        [
            {"agent_a": "gpt-4", "agent_b": "Newbie", "winner": "agent_a"},
            {"agent_a": "NEWBIE", "agent_b": "GPT-4 ", "winner": "agent_a"},
        ]
    )
    report = run_import(engine, data, file_name="r.jsonl", agent_type="researcher")

    with read_session(engine) as session:
        agents = {
            agent.name: agent.agent_type
            for agent in session.scalars(select(UniversityAgent))
        }
    assert agents == {"GPT-4": "instructor", "Newbie": "researcher"}
    assert report.agents_created == 1
    assert [m["winner"] for m in matches_of(engine, report.competition_id)] == [
        "GPT-4",
        "Newbie",
    ]


def test_an_import_over_max_agents_is_refused_whole(engine, university_id):
    before = row_counts(engine)
    rows = [
        {"agent_a": f"agent-{i}", "agent_b": f"agent-{i + 1}", "winner": "tie"}
        for i in range(11)
    ]

    with pytest.raises(QuotaExceeded, match="12 agents are missing"):
        run_import(engine, jsonl(rows), file_name="many.jsonl")

    assert row_counts(engine) == before


def test_an_unknown_university_is_refused_listing_the_names(engine, university_id):
    with pytest.raises(NotFound, match="'Import U'"):
        run_import(
            engine, "agent,challenge,score\n", file_name="t.csv", university="Nope"
        )


def test_a_suspended_university_refuses_the_import(engine, university_id):
    with transaction(engine) as session:
        set_university_status(session, university_id, "suspended")
    before = row_counts(engine)

    with pytest.raises(InvalidTransition, match="'Import U' is suspended"):
        run_import(
            engine,
            jsonl([{"agent_a": "a", "agent_b": "b", "winner": "tie"}]),
            file_name="r.jsonl",
        )

    assert row_counts(engine) == before


def test_a_taken_competition_name_is_refused_unless_appending(engine, university_id):
    first = jsonl([{"agent_a": "a", "agent_b": "b", "winner": "agent_a"}])
    more = jsonl(
        [
            {"agent_a": "b", "agent_b": "c", "winner": "agent_a"},
            {"agent_a": "a", "agent_b": "b", "winner": "agent_a"},
        ]
    )
    report = run_import(engine, first, file_name="r.jsonl", name="Cup")
    before = row_counts(engine)

    with pytest.raises(Conflict, match="already has a competition called 'Cup'"):
        run_import(engine, more, file_name="r.jsonl", name="cup")
    assert row_counts(engine) == before
    with pytest.raises(InvalidInput, match="is head_to_head, not solo"):
        run_import(
            engine, more, file_name="r.jsonl", name="Cup", kind="solo", append=True
        )
    assert row_counts(engine) == before

    appended = run_import(engine, more, file_name="r.jsonl", name="Cup", append=True)

    assert appended.competition_id == report.competition_id
    assert (appended.matches_written, appended.agents_created) == (2, 1)
    matches = matches_of(engine, report.competition_id)
    assert [m["number"] for m in matches] == [1, 2, 3]
    with read_session(engine) as session:
        competition = session.get(Competition, report.competition_id)
        a = session.scalars(
            select(UniversityAgent).where(UniversityAgent.name == "a")
        ).one()
        rankings = session.scalars(
            select(CompetitionParticipant.ranking).where(
                CompetitionParticipant.competition_id == competition.id
            )
        ).all()

        assert competition.status == "completed"
        assert a.competition_wins == 2
        assert sorted(rankings) == [1, 2, 3]


def test_duplicates_are_kept_and_counted(engine, university_id):
    row = {"agent_a": "a", "agent_b": "b", "winner": "agent_a", "question_id": 1}
    other = dict(row, question_id=2)

    report = run_import(engine, jsonl([row, row, other, row]), file_name="d.jsonl")

    assert (report.records, report.matches_written, report.duplicates) == (4, 4, 2)


def test_progress_is_reported_as_matches_are_written(engine, university_id):
    calls = []
    data = jsonl([{"agent_a": "a", "agent_b": "b", "winner": "tie"}] * 5)

    run_import(
        engine,
        data,
        file_name="p.jsonl",
        progress=lambda done, total: calls.append((done, total)),
    )

    assert calls[-1] == (5, 5)


# --- malformed records -----------------------------------------------------

MALFORMED = [
    pytest.param(
        "csv",
        'agent_a,agent_b,winner\na,b,agent_a\n"c\nd",e,agent_b\nf,g,nobody\n',
        r"line 5: column winner is 'nobody': expected one of agent_a",
        id="csv-bad-winner-after-a-two-line-record",
    ),
    pytest.param(
        "csv",
        "agent_a,agent_b,winner\na,b,agent_a,extra\n",
        r"line 2: 4 fields but the header names 3",
        id="csv-extra-field",
    ),
    pytest.param(
        "csv",
        "agent_a,agent_b,score_a,score_b\na,b,1,\n",
        r"line 2: column score_b is empty: give both scores",
        id="csv-one-score",
    ),
    pytest.param(
        "csv",
        "agent_a,agent_b,score_a,score_b\na,b,1,two\n",
        r"line 2: column score_b is 'two': expected a number",
        id="csv-score-not-a-number",
    ),
    pytest.param(
        "csv",
        "agent_a,agent_b,score_a,score_b\na,b,1,1e308\n",
        r"line 2: column score_b is '1e308': expected a score from -1,000,000,000",
        id="csv-score-past-the-limit",
    ),
    pytest.param(
        "jsonl",
        '{"agent_a": "a", "agent_b": "b", "score_a": NaN, "score_b": 1}\n',
        r"line 1: column score_a is nan: expected a finite number",
        id="jsonl-score-not-finite",
    ),
    pytest.param(
        "jsonl",
        '{"agent_a": "a", "agent_b": "b", "winner": "tie"}\n\n{"agent_a": "a",\n',
        r"line 3: not valid JSON",
        id="jsonl-broken-line",
    ),
    pytest.param(
        "csv",
        "agent_a;agent_b;winner\na;b;tie\n",
        r"line 1: the header 'agent_a;agent_b;winner' is a single column: separate",
        id="csv-semicolons",
    ),
    pytest.param(
        "jsonl",
        '[\n{"agent_a": "a", "agent_b": "b", "winner": "tie"}\n]\n',
        r"line 1: not valid JSON .*: this looks like a JSON array",
        id="jsonl-holding-an-array",
    ),
    pytest.param(
        "jsonl",
        '{"agent_a": "a", "agent_b": "A", "winner": "tie"}\n',
        r"line 1: agent_a and agent_b are both 'a'",
        id="jsonl-same-agent",
    ),
    pytest.param(
        "jsonl",
        '{"model_a": "a", "model_b": "A", "winner": "tie"}\n',
        r"line 1: model_a and model_b are both 'a'",
        id="jsonl-same-model-named-by-the-files-columns",
    ),
    pytest.param(
        "jsonl",
        '{"agent_a": "a", "agent_b": "b"}\n',
        r"line 1: no result: expected column winner",
        id="jsonl-no-result",
    ),
    pytest.param(
        "jsonl",
        '{"agent_a": "a", "agent_b": "b", "winner": "agent_a", '
        '"score_a": 0, "score_b": 1}\n',
        r"line 1: column winner is 'agent_a' but the scores 0-1 say otherwise",
        id="jsonl-winner-disagrees-with-scores",
    ),
    pytest.param(
        "jsonl",
        '{"agent_a": "a", "agent_b": "b", "winner": "tie", "played_at": "May 1"}\n',
        r"line 1: column played_at is 'May 1': expected an ISO 8601 time",
        id="jsonl-bad-time",
    ),
    pytest.param(
        "jsonl",
        '["a", "b", "tie"]\n',
        r"line 1: expected a JSON object",
        id="jsonl-not-an-object",
    ),
    pytest.param(
        "json",
        '[{"agent_a": "a", "agent_b": "b", "winner": "tie"},\n'
        ' {"agent_a": 5, "agent_b": "b", "winner": "tie"}]',
        r"record 2 \(line 2\): column agent_a is 5: expected the agent's name",
        id="json-name-not-text",
    ),
    pytest.param(
        "json",
        '[{"agent_a": "a", "agent_b": "b", "winner": "tie"} {"x": 1}]',
        r"expected ',' or '\]' after record 1",
        id="json-missing-comma",
    ),
    pytest.param(
        "json",
        '{"agent_a": "a", "agent_b": "b", "winner": "tie"}',
        r"line 1: expected a JSON array of objects",
        id="json-not-an-array",
    ),
]


@pytest.mark.parametrize(("file_format", "data", "message"), MALFORMED)
def test_a_malformed_record_is_refused_with_its_place_and_nothing_is_written(
    engine, university_id, file_format, data, message
):
    before = row_counts(engine)

    with pytest.raises(InvalidInput, match=message):
        run_import(engine, data, file_name=f"bad.{file_format}")

    assert row_counts(engine) == before


def test_a_file_that_is_not_utf8_is_refused(engine, university_id):
    before = row_counts(engine)

    with pytest.raises(InvalidInput, match="not UTF-8"):
        run_import(engine, b"agent,challenge,score\n\xff\xfe,1,2\n", file_name="x.csv")

    assert row_counts(engine) == before


def test_a_truncated_json_line_is_reported_at_its_own_end_not_the_next_line(
    engine, university_id
):
    # The fault: the line was decoded with its newline, so a record cut
    # short was reported at "column 1", the start of a line after it.
    cut = '{"agent_a": "a", "agent_b": "b"'
    data = jsonl([{"agent_a": "a", "agent_b": "b", "winner": "tie"}]) + cut + "\r\n"
    before = row_counts(engine)

    with pytest.raises(InvalidInput) as refused:
        run_import(engine, data, file_name="cut.jsonl")

    assert (
        f"line 2: not valid JSON (Expecting ',' delimiter at column {len(cut) + 1})"
        in (str(refused.value))
    )
    assert row_counts(engine) == before


def test_an_unclosed_csv_quote_is_reported_at_the_line_where_it_opened(
    engine, university_id
):
    # The fault: the quote swallowed the rest of the file into one field,
    # and the import said "column agent_b ... missing" about it.
    data = (
        "agent_a,agent_b,winner\n"
        'a,"b\nc",tie\n'  # a quoted newline, closed: fine
        '"d,e,tie\n'  # line 4: opened, never closed
        "f,g,tie\nh,i,tie\n"
    )
    before = row_counts(engine)

    with pytest.raises(InvalidInput) as refused:
        run_import(engine, data, file_name="quotes.csv")

    message = str(refused.value)
    assert message.startswith("line 4: a quote opened in this record is never closed")
    assert "missing" not in message
    assert row_counts(engine) == before


def test_text_that_is_not_utf8_is_reported_with_its_line_and_column(
    engine, university_id
):
    # The fault: "invalid continuation byte at byte 1080 of a read block",
    # no line at all. The bad byte sits past the first read block here.
    good = "agent_a,agent_b,winner\n" + "a,b,tie\n" * 2000
    data = (good + "a,").encode("utf-8") + b"\xc3(\n" + b"a,b,tie\n"
    before = row_counts(engine)

    for body in (data, b"\xef\xbb\xbf" + data):
        with pytest.raises(InvalidInput) as refused:
            run_import(engine, body, file_name="latin.csv")
        assert str(refused.value).startswith(
            "line 2002, column 3: not UTF-8 text (invalid continuation byte)"
        )
    assert row_counts(engine) == before


def test_the_competitions_page_imports_an_ndjson_upload_with_the_chosen_agent_type(
    engine, university_id, monkeypatch
):
    # The fault: the upload refused .ndjson (which the importer reads) and
    # had no agent type (the command has --agent-type): every agent it
    # created was a specialist.
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    ui.engine.clear()
    ui.clear_caches()
    data = jsonl([{"model_a": "x", "model_b": "y", "winner": "model_a"}] * 3)
    try:
        app = AppTest.from_file(str(PROJECT_ROOT / "streamlit_app.py"))
        app.default_timeout = 60
        app.query_params["university"] = university_id
        app.switch_page("pages/competitions.py").run()
        app.file_uploader(key="import_file").upload(
            "judgments.ndjson", data.encode("utf-8"), "application/x-ndjson"
        )
        app.run()
        app.text_input(key="import_name").input("Judged")
        app.selectbox(key="import_type").set_value("head_to_head")
        app.selectbox(key="import_agent_type").set_value("researcher")
        next(button for button in app.button if button.label == "Import").click()
        app.run()
    finally:
        ui.engine.clear()
        ui.clear_caches()

    assert not app.exception
    assert not app.error
    with read_session(engine) as session:
        types = dict(
            session.execute(
                select(UniversityAgent.name, UniversityAgent.agent_type)
            ).all()
        )
    assert types == {"x": "researcher", "y": "researcher"}
    assert row_counts(engine)["competition_matches"] == 3


def test_a_file_without_records_is_refused(engine, university_id):
    before = row_counts(engine)

    with pytest.raises(InvalidInput, match="holds no records"):
        run_import(engine, "agent_a,agent_b,winner\r\n", file_name="empty.csv")
    with pytest.raises(InvalidInput, match="None of the 2 records .* has a score"):
        run_import(
            engine,
            "agent,challenge,score\na,1,\nb,1,\n",
            file_name="t.csv",
            kind="solo",
        )

    assert row_counts(engine) == before


# --- a large file, read as a stream ---------------------------------------


@pytest.fixture
def sqlite_engine(sqlite_template, tmp_path) -> Iterator[Engine]:
    """A migrated, empty SQLite database: the memory and speed measure runs
    once, on the embedded engine a newcomer uses."""
    path = tmp_path / "big.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def test_a_200k_record_file_imports_in_bounded_memory(
    tmp_path, sqlite_engine, record_property
):
    engine = sqlite_engine
    with transaction(engine) as session:
        make_university(session, name="Big U", max_agents=100)
    path = tmp_path / "big.jsonl"
    records = 200_000
    with open(path, "w", encoding="utf-8") as out:
        for i in range(records):
            a, b = f"agent-{i % 20}", f"agent-{(i * 7 + 1) % 20}"
            if a == b:
                b = "agent-20"
            winner = ("agent_a", "agent_b", "tie")[i % 3]
            out.write(
                f'{{"agent_a": "{a}", "agent_b": "{b}", "winner": "{winner}", '
                f'"question_id": {i // 4}}}\n'
            )
    file_megabytes = path.stat().st_size / 2**20

    tracemalloc.start()
    started = time.perf_counter()
    with transaction(engine) as session:
        report = import_results(
            session,
            path,
            university_name_or_id="Big U",
            competition_name="Big",
            competition_type="head_to_head",
        )
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # Throughput under tracemalloc, which slows Python code four to five
    # times; the report in the test log says what an untraced import does.
    record_property("records_per_second_traced", round(records / elapsed))
    record_property("peak_megabytes", round(peak / 2**20, 1))
    record_property("file_megabytes", round(file_megabytes, 1))
    assert report.matches_written == records
    assert row_counts(engine)["competition_matches"] == records
    # The file is ~18 MB; the import holds one batch of rows, the agent
    # names and one hash per distinct record (~60 bytes each), so the peak
    # stays far below the size of the matches as Python objects (~600 MB).
    assert peak < 48 * 2**20
    assert elapsed < 240


def test_a_tournament_import_with_named_rounds_is_ranked_by_stage(
    engine, university_id
):
    data = (
        "agent_a,agent_b,winner,round\n"
        "a,b,agent_a,1\n"
        "c,d,agent_b,1\n"
        "a,d,agent_a,2\n"
        "e,f,tie,Friendly\n"
    )

    report = run_import(engine, data, file_name="cup.csv", kind="tournament")

    with read_session(engine) as session:
        ranking = dict(
            session.execute(
                select(UniversityAgent.name, CompetitionParticipant.ranking)
                .join(
                    CompetitionParticipant,
                    CompetitionParticipant.agent_id == UniversityAgent.id,
                )
                .where(CompetitionParticipant.competition_id == report.competition_id)
            ).all()
        )
    assert ranking["a"] == 1
    assert ranking["d"] == 2
    assert ranking["b"] > ranking["d"] and ranking["c"] > ranking["d"]


def test_the_command_appends_with_the_flag_and_refuses_without_it(
    engine, university_id, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    results = tmp_path / "results.csv"
    results.write_text("model_a,model_b,winner\nx,y,model_b\n", encoding="utf-8")
    command = [
        "import-results",
        str(results),
        "--university",
        "import u",
        "--competition",
        "Weekly",
        "--type",
        "head_to_head",
        "--agent-type",
        "student",
    ]

    assert main(command) == 0
    first = capsys.readouterr().out
    before = row_counts(engine)
    assert main(command) == 1
    refused = capsys.readouterr().err
    assert row_counts(engine) == before
    assert main([*command, "--append"]) == 0
    appended = capsys.readouterr().out

    assert "matches written    1" in first
    assert "agents created     2" in first
    assert "already has a competition called 'Weekly'" in refused
    assert "agents created     0" in appended
    assert row_counts(engine)["competition_matches"] == 2


def test_the_import_command_shows_its_progress_on_stderr(
    engine, university_id, monkeypatch, capsys, tmp_path
):
    # The fault: a two-minute import printed nothing until it was done.
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setattr("university_models.importers.BATCH_SIZE", 2)
    monkeypatch.setattr(
        "university_models.commands.import_results.PROGRESS_EVERY_SECONDS", 0.0
    )
    results = tmp_path / "results.jsonl"
    results.write_text(
        jsonl([{"agent_a": "x", "agent_b": "y", "winner": "tie"}] * 5),
        encoding="utf-8",
    )

    code = main(
        [
            *("import-results", str(results), "--university", "Import U"),
            *("--competition", "Weekly", "--type", "head_to_head"),
        ]
    )

    captured = capsys.readouterr()
    assert code == 0
    assert captured.err.splitlines() == [
        f"import-results: checking the records of {results} ...",
        "import-results: 2 of 5 matches written (40%)",
        "import-results: 4 of 5 matches written (80%)",
        "import-results: 5 of 5 matches written (100%)",
    ]
    # The report itself stays on stdout, as before.
    assert "matches written    5" in captured.out


def test_appending_keeps_to_the_competitions_score_order_and_score_range(
    engine, university_id
):
    with transaction(engine) as session:
        schedule_competition(
            session,
            university_id,
            name="Timed",
            competition_type="head_to_head",
            rules={"score_order": "lower_is_better", "score_range": [0, 100]},
            scheduled_start=datetime(2026, 1, 5, tzinfo=UTC),
            scheduled_end=datetime(2026, 1, 6, tzinfo=UTC),
        )
    before = row_counts(engine)

    with pytest.raises(
        InvalidInput,
        match=r"line 3: column score_b is '150': expected a score from 0 to 100 "
        r"\(its score_range\)",
    ):
        run_import(
            engine,
            "agent_a,agent_b,score_a,score_b\na,b,10,20\na,b,10,150\n",
            file_name="times.csv",
            name="Timed",
            append=True,
        )
    assert row_counts(engine) == before

    report = run_import(
        engine,
        "agent_a,agent_b,score_a,score_b\na,b,10,20\n",
        file_name="times.csv",
        name="Timed",
        append=True,
    )
    assert [m["winner"] for m in matches_of(engine, report.competition_id)] == ["a"]
