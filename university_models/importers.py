"""Import result logs from evaluations that ran elsewhere.

A file of pairwise judgments (``agent_a``/``agent_b`` with a ``winner`` or two
scores) or of per-task scores (``agent``, ``challenge``, ``score``) becomes one
completed competition of a university: one completed match per record.

How it reads a file (the rules are repeated in ``import_results``):

* CSV (any quoting, CRLF or LF, UTF-8 with or without a byte-order mark),
  JSON Lines, or a JSON array of flat objects; the format comes from the file
  name unless given. CSV is read strictly: a quote never closed is refused at
  the line its record starts on. Bytes that are not UTF-8 are refused naming
  their line and column. Column names are matched trimmed and in any case; columns
  the importer does not know are ignored.
* The file is read twice as a stream, never whole: the first pass checks
  every record and counts (agents, duplicates, ties, unscored tasks), so a
  malformed record is refused before anything is written; the second pass
  writes the matches in batches of ``BATCH_SIZE`` with Core ``insert()``.
  In memory stay the agent names and, for counting duplicates, one 64-bit
  hash per distinct record (about 60 bytes each: some 60 MB for a million
  distinct records).
* The whole file is one transaction: the caller's.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from university_models.db import utcnow
from university_models.errors import Conflict, InvalidInput
from university_models.models import (
    COMPETITION_TYPES,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    University,
    UniversityAgent,
)
from university_models.services.agents import ensure_agents, refresh_agent_counters
from university_models.services.competitions import (
    DEFAULT_SCORE_RANGE,
    add_participant,
    find_competition,
    range_text,
    schedule_competition,
    score_range,
)
from university_models.services.training_data import CLOCK_SKEW
from university_models.services.universities import (
    find_university,
    lock_university_for_write,
    tidy_name,
)
from university_models.standings import (
    PAIRWISE_TYPES,
    compute_standings,
    parse_rules,
)

log = logging.getLogger(__name__)

FORMATS = ("csv", "jsonl", "json")

#: Matches written per INSERT round trip.
BATCH_SIZE = 5_000

#: Text read per chunk from a JSON array.
JSON_CHUNK_CHARS = 1 << 16

#: A single JSON record larger than this is refused (it cannot be a flat
#: result record, and waiting for its end would hold the file in memory).
MAX_JSON_RECORD_CHARS = 1 << 20

#: Names by which a file may call the two sides of a pairwise record.
SIDE_A_COLUMNS = ("agent_a", "model_a")
SIDE_B_COLUMNS = ("agent_b", "model_b")
AGENT_COLUMNS = ("agent", "model")

#: Accepted ``winner`` values (trimmed, any case) and what they mean.
WINNER_VALUES = {
    "agent_a": "a",
    "model_a": "a",
    "agent_b": "b",
    "model_b": "b",
    "tie": "tie",
    "tie (bothbad)": "tie",
}

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What one import did."""

    competition_id: str
    records: int
    agents_created: int
    matches_written: int
    duplicates: int
    ties: int
    skipped_unscored: int
    elapsed_seconds: float

    def summary(self) -> str:
        """The report as one short paragraph for a person."""
        rate = self.records / self.elapsed_seconds if self.elapsed_seconds else 0.0
        return (
            f"{self.records} records read: {self.matches_written} matches written, "
            f"{self.agents_created} agents created, {self.duplicates} duplicate "
            f"records (kept), {self.ties} ties, {self.skipped_unscored} unscored "
            f"tasks skipped, in {self.elapsed_seconds:.2f} s "
            f"({rate:,.0f} records/s)."
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class PairwiseRecord(NamedTuple):
    """One pairwise result, normalised. Agent keys are the names in lower
    case (agents are matched without regard to case)."""

    agent_a: str
    agent_b: str
    outcome: str  # "a", "b" or "tie"
    score_a: float
    score_b: float
    round: str | int | None
    played_at: datetime | None
    question_id: str | None


class TaskRecord(NamedTuple):
    """One per-task score, normalised; ``score`` None means not scored."""

    agent: str
    challenge: str
    score: float | None
    round: str | int | None
    played_at: datetime | None


# --------------------------------------------------------------------------
# Reading records from a stream


def detect_format(file_name: str | None, file_format: str | None) -> str:
    """The file format: ``file_format`` when given, else from the file name's
    ending (``.csv``, ``.jsonl`` / ``.ndjson``, ``.json``).

    Rule: a format that is neither given nor recognisable from the name is
    refused, naming the formats there are.
    """
    if file_format:
        chosen = file_format.strip().lower()
        if chosen not in FORMATS:
            raise InvalidInput(
                f"Unknown format {file_format!r}: use one of {', '.join(FORMATS)}."
            )
        return chosen
    suffix = Path(file_name or "").suffix.lower()
    by_suffix = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
    if suffix in by_suffix:
        return by_suffix[suffix]
    raise InvalidInput(
        f"Cannot tell the format of {file_name or 'the file'!r} from its name: "
        f"give the format ({', '.join(FORMATS)})."
    )


def read_records(text: io.TextIOBase, file_format: str) -> Iterator[tuple[str, dict]]:
    """Yield ``(where, record)`` for every record of a text stream, where
    ``where`` names the record for a person (``"line 7"``, ``"record 3
    (line 12)"``) and ``record`` maps lower-case column names to values.

    The stream is read in pieces; nothing but the current record is held.
    Text that is not UTF-8 is refused naming the line and column of the
    first bad byte.
    """
    readers = {"csv": _csv_records, "jsonl": _json_lines, "json": _json_array}
    start = _buffer_position(text)
    try:
        yield from readers[file_format](text)
    except UnicodeDecodeError as error:
        place = _undecodable_place(text, start)
        raise InvalidInput(
            f"{place or 'The file'}: not UTF-8 text ({error.reason}): save the file "
            "as UTF-8 and import again."
        ) from error


def _buffer_position(text: io.TextIOBase) -> int | None:
    """Where the bytes under a text stream start, to read them again."""
    try:
        return text.buffer.tell()
    except (AttributeError, OSError, ValueError):
        return None


def _undecodable_place(text: io.TextIOBase, start: int | None) -> str | None:
    """ "line 7, column 3" of the first byte that is not UTF-8.

    Why: the text layer decodes blocks of several kilobytes, so its error
    says only "byte 1080 of a read block". The bytes are read again line
    by line (a UTF-8 character never contains a newline byte, so each line
    decodes on its own). None when the bytes cannot be read again."""
    if start is None:
        return None
    try:
        raw = text.buffer
        raw.seek(start)
        for number, line in enumerate(raw, start=1):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                column = len(line[: error.start].decode("utf-8")) + 1
                return f"line {number}, column {column}"
    except (AttributeError, OSError, ValueError):
        return None
    return None


def _csv_records(text: io.TextIOBase) -> Iterator[tuple[str, dict]]:
    # Strict: a quote that is never closed is an error instead of a field
    # that swallows the rest of the file (reported later, far away, as a
    # missing column).
    reader = csv.reader(text, strict=True)
    header: list[str] | None = None
    previous_line = 0
    try:
        for row in reader:
            # A record may span lines (quoted newlines): name its first line.
            first_line = previous_line + 1
            previous_line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in row]
                if len(header) == 1 and any(mark in header[0] for mark in ";\t|"):
                    raise InvalidInput(
                        f"line {first_line}: the header {row[0]!r} is a single "
                        "column: separate the columns with commas."
                    )
                continue
            if len(row) > len(header):
                raise InvalidInput(
                    f"line {first_line}: {len(row)} fields but the header names "
                    f"{len(header)}: quote fields that contain commas."
                )
            record = dict(zip(header, row, strict=False))
            yield f"line {first_line}", record
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            # The file ended inside quotes: the quote opened in the record
            # that starts after the last good one.
            raise InvalidInput(
                f"line {previous_line + 1}: a quote opened in this record is never "
                "closed (the rest of the file would be one field): close it, and "
                'write a quote inside a quoted field twice ("").'
            ) from error
        raise InvalidInput(
            f"line {reader.line_num}: not valid CSV ({error}): fix the quoting."
        ) from error


def _json_lines(text: io.TextIOBase) -> Iterator[tuple[str, dict]]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            # Without its line ending: a record cut short is reported at
            # its own end, not at column 1 of a line after it.
            value = json.loads(line.rstrip("\r\n"))
        except RecursionError:
            raise _too_deep(f"line {number}") from None
        except json.JSONDecodeError as error:
            hint = (
                "this looks like a JSON array: import it with the json format"
                if line.lstrip().startswith("[")
                else "each line must hold one JSON object"
            )
            raise InvalidInput(
                f"line {number}: not valid JSON ({json_column_text(error)}): {hint}."
            ) from error
        yield f"line {number}", _flat_object(value, f"line {number}")


def _too_deep(where: str) -> InvalidInput:
    """The refusal of a record whose lists and objects nest so deep that
    Python's JSON parser runs out of stack."""
    return InvalidInput(
        f"{where}: lists and objects are nested too deep to read: each record "
        "must be a flat JSON object."
    )


def json_column_text(error: json.JSONDecodeError) -> str:
    """A decoding error of one JSON line as words: "Expecting value at
    column 9". Some of Python's messages already end in "at"
    ("Unterminated string starting at"), so that word is not doubled."""
    joint = " " if error.msg.endswith(" at") else " at "
    return f"{error.msg}{joint}column {error.colno}"


def _flat_object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput(
            f"{where}: expected a JSON object with the result's columns, got "
            f"{type(value).__name__}."
        )
    keys = tuple(value)
    normal = _normal_keys(keys)
    if normal == keys:
        return value
    return dict(zip(normal, value.values(), strict=True))


@lru_cache(maxsize=256)
def _normal_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """Column names trimmed and in lower case; cached because every record
    of a file has the same few."""
    return tuple(str(key).strip().lower() for key in keys)


def _json_array(text: io.TextIOBase) -> Iterator[tuple[str, dict]]:
    """The objects of a JSON array, decoded one at a time with
    ``JSONDecoder.raw_decode`` over chunks of the stream."""
    decoder = json.JSONDecoder()
    buffer = ""
    position = 0
    line = 1  # the line ``position`` is on
    exhausted = False

    def fill() -> bool:
        nonlocal buffer, position, exhausted
        if exhausted:
            return False
        chunk = text.read(JSON_CHUNK_CHARS)
        if not chunk:
            exhausted = True
            return False
        buffer = buffer[position:] + chunk
        position = 0
        return True

    def skip_space() -> str:
        """The next non-blank character (not consumed), or '' at the end."""
        nonlocal position, line
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n":
                if buffer[position] == "\n":
                    line += 1
                position += 1
            if position < len(buffer):
                return buffer[position]
            if not fill():
                return ""

    if skip_space() != "[":
        raise InvalidInput(
            f"line {line}: expected a JSON array of objects ('[' first); for one "
            "object a line use the jsonl format."
        )
    position += 1
    number = 0
    while True:
        character = skip_space()
        if character == "]" and number == 0:
            return
        number += 1
        where = f"record {number} (line {line})"
        if character == "":
            raise InvalidInput(f"{where}: the array ends without ']'.")
        while True:
            try:
                value, end = decoder.raw_decode(buffer, position)
                break
            except RecursionError:
                raise _too_deep(where) from None
            except json.JSONDecodeError as error:
                if len(buffer) - position > MAX_JSON_RECORD_CHARS or not fill():
                    raise InvalidInput(
                        f"{where}: not valid JSON ({error.msg}): each element "
                        "must be a flat JSON object."
                    ) from error
        line += buffer.count("\n", position, end)
        position = end
        yield where, _flat_object(value, where)

        character = skip_space()
        if character == ",":
            position += 1
        elif character == "]":
            return
        else:
            raise InvalidInput(
                f"line {line}: expected ',' or ']' after record {number}, found "
                f"{character or 'the end of the file'!r}."
            )


# --------------------------------------------------------------------------
# Checking and normalising one record


def _value(record: dict, names: tuple[str, ...]) -> tuple[str, Any]:
    """The first of ``names`` the record has a non-empty value for."""
    for name in names:
        value = record.get(name)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return name, value
    return names[0], None


def _agent_name(record: dict, names: tuple[str, ...], where: str) -> tuple[str, str]:
    """(name as written, trimmed; lower-case key)."""
    column, value = _value(record, names)
    if value is None:
        raise InvalidInput(
            f"{where}: column {' or '.join(names)} is missing or empty: expected "
            "the agent's name."
        )
    if not isinstance(value, str):
        raise InvalidInput(
            f"{where}: column {column} is {value!r}: expected the agent's name as text."
        )
    name, key = _trimmed_name(value)
    if len(name) > 255:
        raise InvalidInput(
            f"{where}: column {column} is {len(name)} characters long: agent names "
            "have at most 255."
        )
    return name, key


@lru_cache(maxsize=4096)
def _trimmed_name(value: str) -> tuple[str, str]:
    """Cached: a file names the same few agents on every line."""
    name = tidy_name(value)
    return name, name.lower()


def _number(
    value: Any,
    column: str,
    where: str,
    limits: tuple[float, float] = DEFAULT_SCORE_RANGE,
) -> float | None:
    """A score: a finite number from ``limits[0]`` to ``limits[1]`` (the
    rule ``record_match_result`` applies: the competition's ``score_range``,
    by default -1e9 to 1e9), or None for an empty value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{where}: column {column} is {value!r}: expected a number.")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{where}: column {column} is {value!r}: expected a number."
        ) from None
    if not math.isfinite(number):
        raise InvalidInput(
            f"{where}: column {column} is {value!r}: expected a finite number."
        )
    if not limits[0] <= number <= limits[1]:
        within = "" if limits == DEFAULT_SCORE_RANGE else " (its score_range)"
        raise InvalidInput(
            f"{where}: column {column} is {value!r}: expected a score from "
            f"{range_text(limits)}{within}."
        )
    return number


def _identifier(value: Any, column: str, where: str) -> str | None:
    """A question, challenge or round id kept as text (so that ``7`` in JSON
    and ``"7"`` in CSV are the same question), or None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool | dict | list):
        raise InvalidInput(
            f"{where}: column {column} is {value!r}: expected a text or number id."
        )
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _round(value: Any, where: str) -> str | int | None:
    """A round: an integer when it is one (``3``, ``"3"``), else its text."""
    text = _identifier(value, "round", where)
    if text is not None and text.lstrip("-").isdigit():
        return int(text)
    return text


def _played_at(value: Any, where: str) -> datetime | None:
    """An ISO 8601 time; naive times are read as UTC; at most ``CLOCK_SKEW``
    ahead of now."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(
            f"{where}: column played_at is {value!r}: expected an ISO 8601 time "
            "such as 2024-05-01T12:30:00Z."
        )
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"{where}: column played_at is {value!r}: expected an ISO 8601 time "
            "such as 2024-05-01T12:30:00Z."
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    moment = moment.astimezone(UTC)
    # The clock-skew rule of recorded results: a match played in the future
    # would hold the agents' last_competed_at hostage until that moment.
    if moment > utcnow() + CLOCK_SKEW:
        raise InvalidInput(
            f"{where}: column played_at is {value!r}, which is in the future: "
            "expected the time the match was played."
        )
    return moment


def pairwise_record(
    record: dict,
    where: str,
    *,
    lower_is_better: bool = False,
    limits: tuple[float, float] = DEFAULT_SCORE_RANGE,
) -> tuple[PairwiseRecord, str, str]:
    """Check and normalise one pairwise record; returns it with the two
    names as written.

    Rules: ``agent_a``/``agent_b`` (or ``model_a``/``model_b``) name two
    different agents; the result is ``winner`` (``agent_a``/``model_a``,
    ``agent_b``/``model_b``, ``tie``, ``tie (bothbad)``, any case) or
    ``score_a`` and ``score_b``, the higher score winning (the lower with
    ``lower_is_better``) and equal scores a tie; given both, they must
    agree; given scores lie within ``limits``. Without scores a win scores
    1 / 0 and a tie 0.5 / 0.5.
    """
    name_a, key_a = _agent_name(record, SIDE_A_COLUMNS, where)
    name_b, key_b = _agent_name(record, SIDE_B_COLUMNS, where)
    if key_a == key_b:
        # Named by the columns the file has (model_a, or agent_a).
        column_a = _value(record, SIDE_A_COLUMNS)[0]
        column_b = _value(record, SIDE_B_COLUMNS)[0]
        raise InvalidInput(
            f"{where}: {column_a} and {column_b} are both {name_a!r}: a match needs "
            "two different agents."
        )

    score_a = _number(record.get("score_a"), "score_a", where, limits)
    score_b = _number(record.get("score_b"), "score_b", where, limits)
    if (score_a is None) != (score_b is None):
        missing = "score_b" if score_b is None else "score_a"
        raise InvalidInput(
            f"{where}: column {missing} is empty: give both scores or neither."
        )
    from_scores = None
    if score_a is not None:
        if score_a == score_b:
            from_scores = "tie"
        else:
            a_higher = score_a > score_b
            from_scores = "a" if a_higher != lower_is_better else "b"

    winner = record.get("winner")
    outcome = None
    if winner is not None and not (isinstance(winner, str) and not winner.strip()):
        outcome = (
            WINNER_VALUES.get(winner) or WINNER_VALUES.get(winner.strip().lower())
            if isinstance(winner, str)
            else None
        )
        if outcome is None:
            raise InvalidInput(
                f"{where}: column winner is {winner!r}: expected one of "
                f"{', '.join(WINNER_VALUES)}."
            )
        if from_scores is not None and from_scores != outcome:
            raise InvalidInput(
                f"{where}: column winner is {winner!r} but the scores "
                f"{score_a:g}-{score_b:g} say otherwise: fix one of them."
            )
    outcome = outcome or from_scores
    if outcome is None:
        raise InvalidInput(
            f"{where}: no result: expected column winner (agent_a, agent_b or tie) "
            "or the columns score_a and score_b."
        )
    if score_a is None:
        score_a, score_b = {"a": (1.0, 0.0), "b": (0.0, 1.0), "tie": (0.5, 0.5)}[
            outcome
        ]

    normalised = PairwiseRecord(
        agent_a=key_a,
        agent_b=key_b,
        outcome=outcome,
        score_a=score_a,
        score_b=score_b,
        round=_round(record.get("round"), where),
        played_at=_played_at(record.get("played_at"), where),
        question_id=_identifier(record.get("question_id"), "question_id", where),
    )
    return normalised, name_a, name_b


def task_record(
    record: dict, where: str, *, limits: tuple[float, float] = DEFAULT_SCORE_RANGE
) -> tuple[TaskRecord, str]:
    """Check and normalise one per-task record; returns it with the name as
    written.

    Rules: ``agent`` (or ``model``) names the agent, ``challenge`` the task
    (kept as text), ``score`` is a finite number within ``limits`` or empty
    (not scored).
    """
    name, key = _agent_name(record, AGENT_COLUMNS, where)
    challenge = _identifier(record.get("challenge"), "challenge", where)
    if challenge is None:
        raise InvalidInput(
            f"{where}: column challenge is missing or empty: expected the task's id."
        )
    normalised = TaskRecord(
        agent=key,
        challenge=challenge,
        score=_number(record.get("score"), "score", where, limits),
        round=_round(record.get("round"), where),
        played_at=_played_at(record.get("played_at"), where),
    )
    return normalised, name


# --------------------------------------------------------------------------
# Opening the source twice


@contextmanager
def _rewindable(source: BinaryIO | str | os.PathLike) -> Iterator[Callable]:
    """A function that opens the source again as UTF-8 text (a byte-order
    mark dropped, line endings kept for the csv module), for each pass.

    A path is opened anew; a seekable stream is rewound to where it stood;
    any other stream is first copied to a temporary file (spooled in memory
    up to 16 MB) so that it can be read twice.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise InvalidInput(f"No file at {str(path)!r}: check the path.")

        @contextmanager
        def open_path():
            try:
                text = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
            except OSError as error:
                raise InvalidInput(
                    f"Cannot read {str(path)!r} ({error.strerror}): check the file "
                    "and its permissions."
                ) from error
            with text:
                yield text

        yield open_path
        return

    with ExitStack() as cleanup:
        stream = source
        if not (hasattr(stream, "seekable") and stream.seekable()):
            stream = cleanup.enter_context(
                tempfile.SpooledTemporaryFile(max_size=16 << 20)
            )
            while chunk := source.read(1 << 20):
                stream.write(chunk)
            stream.seek(0)
        start = stream.tell()

        @contextmanager
        def open_stream():
            stream.seek(start)
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            try:
                yield text
            finally:
                # Detach so that the caller's stream stays open.
                text.detach()

        yield open_stream


# --------------------------------------------------------------------------
# The import


@dataclass
class _Scan:
    """What the first pass learnt."""

    records: int = 0
    writable: int = 0
    duplicates: int = 0
    ties: int = 0
    unscored: int = 0
    first_played: datetime | None = None
    last_played: datetime | None = None
    missing_played_at: bool = False

    def __post_init__(self) -> None:
        #: lower-case name (the agent's key) -> the first spelling seen
        self.names: dict[str, str] = {}
        self.fingerprints: set[int] = set()

    def see(self, item: tuple) -> None:
        """Count one normalised record: ``(record, *names as written)``."""
        record = item[0]
        self.records += 1
        fingerprint = hash(record)
        if fingerprint in self.fingerprints:
            self.duplicates += 1
        else:
            self.fingerprints.add(fingerprint)
        if isinstance(record, PairwiseRecord):
            self.names.setdefault(record.agent_a, item[1])
            self.names.setdefault(record.agent_b, item[2])
        else:
            self.names.setdefault(record.agent, item[1])
        if isinstance(record, PairwiseRecord) and record.outcome == "tie":
            self.ties += 1
        if isinstance(record, TaskRecord) and record.score is None:
            self.unscored += 1
            return
        self.writable += 1
        moment = record.played_at
        if moment is None:
            self.missing_played_at = True
        else:
            if self.first_played is None or moment < self.first_played:
                self.first_played = moment
            if self.last_played is None or moment > self.last_played:
                self.last_played = moment


def _normalised_records(
    open_text: Callable,
    file_format: str,
    competition_type: str,
    lower_is_better: bool,
    limits: tuple[float, float],
) -> Iterator[tuple]:
    """``(record, *agent names as written)`` for every record of the file."""
    with open_text() as text:
        for where, record in read_records(text, file_format):
            if competition_type in PAIRWISE_TYPES:
                yield pairwise_record(
                    record, where, lower_is_better=lower_is_better, limits=limits
                )
            else:
                yield task_record(record, where, limits=limits)


def _resolve_university(session: Session, university_name_or_id: str) -> University:
    by_id = session.get(University, university_name_or_id)
    if by_id is not None:
        return by_id
    return find_university(session, university_name_or_id)


def import_results(
    session: Session,
    source: BinaryIO | str | os.PathLike,
    *,
    university_name_or_id: str,
    competition_name: str,
    competition_type: str,
    file_format: str | None = None,
    file_name: str | None = None,
    agent_type: str = "specialist",
    append: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a result file into a new completed competition of a university
    (or, with ``append``, into the existing one of that name).

    ``source`` is a path or a binary stream (an upload); ``file_name`` names
    a stream for format detection and messages. ``progress(done, total)`` is
    called after every batch of matches written.

    Rules:

    * the university must exist (by id, or by name in any case); an unknown
      one is refused listing the names there are;
    * a competition name already used in the university is refused unless
      ``append``; appending needs the competition to be of the same type,
      and its rules hold (``score_order`` decides the winner, scores must
      lie within ``score_range``);
    * pairwise types (head_to_head, tournament) read pairwise records, solo
      and challenge read per-task records (see ``pairwise_record`` and
      ``task_record``); every record must be well formed, else the import is
      refused naming its line (or record) number, the column and what was
      expected, and nothing is written;
    * agents are found by name (any case) or created with ``agent_type``;
      when the new ones do not fit in ``max_agents`` the import is refused
      whole;
    * every record becomes one completed match (participant 1 = side a);
      a per-task record without a score is not written and is counted in
      ``skipped_unscored``; a record identical to one before it (after
      normalising) is written too and counted in ``duplicates``;
    * a match's time (``started_at`` and ``completed_at``) is its
      ``played_at`` (naive times are UTC); without one it has no time, since
      when it was played is unknown (the import's time would show history as
      today's activity). The competition's scheduled and actual window runs
      from the first to the last match, or to the import's time when a
      match has no time (at least one second), it is
      ``completed``, and its participants are ranked by the standings
      (points for pairwise types, mean score for solo and challenge);
    * the agents' counters are recomputed once per agent at the end.
    """
    started = time.monotonic()
    import_time = utcnow()
    if competition_type not in COMPETITION_TYPES:
        raise InvalidInput(
            f"Unknown competition type {competition_type!r}: use one of "
            f"{', '.join(COMPETITION_TYPES)}."
        )
    file_name = file_name or (
        str(source) if isinstance(source, str | os.PathLike) else None
    )
    file_format = detect_format(file_name, file_format)

    university = _resolve_university(session, university_name_or_id)
    # Every write locks its university first: a suspended or archived one is
    # refused before the file is read, and no other writer of this
    # university interleaves with the import.
    lock_university_for_write(session, university.id)
    existing = find_competition(session, university.id, competition_name)
    if existing is not None and not append:
        raise Conflict(
            f"University {university.name!r} already has a competition called "
            f"{existing.name!r}: choose another name, or append to it."
        )
    if existing is not None and existing.competition_type != competition_type:
        raise InvalidInput(
            f"Competition {existing.name!r} is {existing.competition_type}, not "
            f"{competition_type}: import with --type {existing.competition_type}."
        )
    # Appending keeps to the competition's rules: which score wins, and
    # which scores it allows.
    lower_is_better = (
        existing is not None
        and parse_rules(existing.rules, existing.competition_type).lower_is_better
    )
    limits = score_range(existing.rules if existing is not None else None)

    with _rewindable(source) as open_text:
        scan = _Scan()
        for item in _normalised_records(
            open_text, file_format, competition_type, lower_is_better, limits
        ):
            scan.see(item)
        if scan.records == 0:
            raise InvalidInput(
                f"{file_name or 'The file'} holds no records: nothing to import."
            )
        if scan.writable == 0:
            raise InvalidInput(
                f"None of the {scan.records} records of {file_name or 'the file'} "
                "has a score: fill in the score column."
            )
        log.info(
            "checked %d records of %s: %d agents, %d duplicates",
            scan.records,
            file_name,
            len(scan.names),
            scan.duplicates,
        )

        competition, agents_created, participants = _prepare(
            session,
            university,
            existing,
            scan,
            competition_name=competition_name,
            competition_type=competition_type,
            agent_type=agent_type,
            import_time=import_time,
        )
        written = _write_matches(
            session,
            competition,
            participants,
            _normalised_records(
                open_text, file_format, competition_type, lower_is_better, limits
            ),
            total=scan.writable,
            progress=progress,
        )

    _finish(
        session,
        competition,
        participants,
        competition.scheduled_start,
        competition.scheduled_end,
    )
    report = ImportReport(
        competition_id=competition.id,
        records=scan.records,
        agents_created=agents_created,
        matches_written=written,
        duplicates=scan.duplicates,
        ties=scan.ties,
        skipped_unscored=scan.unscored,
        elapsed_seconds=time.monotonic() - started,
    )
    log.info("imported %s into competition %s: %s", file_name, competition.id, report)
    return report


def _window(scan: _Scan, import_time: datetime, existing: Competition | None):
    """First and last match time, widened to cover an appended-to
    competition's window and kept at least one second long."""
    moments = [m for m in (scan.first_played, scan.last_played) if m is not None]
    if scan.missing_played_at or not moments:
        moments.append(import_time)
    if existing is not None:
        moments += [m for m in (existing.scheduled_start, existing.scheduled_end) if m]
    start, end = min(moments), max(moments)
    return start, max(end, start + timedelta(seconds=1))


def _prepare(
    session: Session,
    university: University,
    existing: Competition | None,
    scan: _Scan,
    *,
    competition_name: str,
    competition_type: str,
    agent_type: str,
    import_time: datetime,
) -> tuple[Competition, int, dict[str, str]]:
    """Create the agents and the competition with its participants; returns
    (competition, agents created, lower-case name -> participant id)."""
    count_agents = select(func.count()).where(
        UniversityAgent.university_id == university.id
    )
    before = session.scalar(count_agents)
    keys, spellings = list(scan.names), list(scan.names.values())
    agents = ensure_agents(session, university.id, spellings, agent_type=agent_type)
    agents_created = session.scalar(count_agents) - before
    agent_ids = {
        key: agents[name].id for key, name in zip(keys, spellings, strict=True)
    }

    start, end = _window(scan, import_time, existing)
    if existing is None:
        # An import is finished history, completed in this transaction: it
        # takes no concurrent-competition slot (records_history), while
        # every other rule of scheduling applies.
        competition = schedule_competition(
            session,
            university.id,
            name=competition_name.strip(),
            competition_type=competition_type,
            rules={},
            evaluation_config={"source": "import"},
            scheduled_start=start,
            scheduled_end=end,
            max_participants=max(10, len(set(agent_ids.values()))),
            description="Imported results.",
            records_history=True,
        )
    else:
        competition = existing
    competition.scheduled_start, competition.scheduled_end = start, end

    current = dict(
        session.execute(
            select(CompetitionParticipant.agent_id, CompetitionParticipant.id).where(
                CompetitionParticipant.competition_id == competition.id
            )
        ).all()
    )
    needed = sorted(set(agent_ids.values()) - set(current))
    competitors = len(current) + len(needed)
    if competitors > competition.max_participants:
        # An import records what happened: the field is as large as the file.
        competition.max_participants = competitors
    for agent_id in needed:
        if competition.status == "scheduled":
            participant = add_participant(session, competition.id, agent_id)
        else:
            # Appending to a completed competition: add_participant only
            # admits players while a competition is scheduled.
            participant = CompetitionParticipant(
                competition_id=competition.id, agent_id=agent_id
            )
            session.add(participant)
        session.flush()
        current[agent_id] = participant.id

    participants = {key: current[agent_id] for key, agent_id in agent_ids.items()}
    return competition, agents_created, participants


def _write_matches(
    session: Session,
    competition: Competition,
    participants: dict[str, str],
    records: Iterator[tuple],
    *,
    total: int,
    progress: Progress | None,
) -> int:
    """Insert one completed match per scored record, in batches."""
    session.flush()
    number = (
        session.scalar(
            select(func.max(CompetitionMatch.match_number)).where(
                CompetitionMatch.competition_id == competition.id
            )
        )
        or 0
    )
    statement = insert(CompetitionMatch.__table__)
    batch: list[dict[str, Any]] = []
    written = 0

    def flush_batch() -> None:
        nonlocal batch, written
        for row, match_id in zip(batch, _new_ids(len(batch)), strict=True):
            row["id"] = match_id
        session.execute(statement, batch)
        written += len(batch)
        batch = []

    for item in records:
        row = _match_row(item[0], participants)
        if row is None:
            continue
        number += 1
        row["competition_id"] = competition.id
        row["match_number"] = number
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            flush_batch()
            if progress is not None:
                progress(written, total)
    if batch:
        flush_batch()
    if progress is not None:
        progress(written, total)
    return written


def _new_ids(count: int) -> list[str]:
    """``count`` random UUID4 strings, the same kind ``new_id`` makes, from
    one read of the system's randomness (one read per id costs more than the
    insert itself)."""
    randomness = os.urandom(16 * count)
    return [
        str(uuid.UUID(bytes=randomness[start : start + 16], version=4))
        for start in range(0, 16 * count, 16)
    ]


def _match_row(
    record: PairwiseRecord | TaskRecord, participants: dict[str, str]
) -> dict[str, Any] | None:
    # A record without played_at was played at a time nobody knows: the
    # match keeps no time rather than the import's, which would count
    # history as today's activity.
    moment = record.played_at
    if isinstance(record, PairwiseRecord):
        first = participants[record.agent_a]
        second = participants[record.agent_b]
        winner = {"a": first, "b": second, "tie": None}[record.outcome]
        config = {
            "question_id": record.question_id,
            "round": record.round,
            "source": "import",
        }
        scores = (record.score_a, record.score_b)
    else:
        if record.score is None:
            return None
        first, second, winner = participants[record.agent], None, None
        config = {"challenge": record.challenge, "round": record.round}
        config["source"] = "import"
        scores = (record.score, None)
    return {
        "participant1_id": first,
        "participant2_id": second,
        "match_config": config,
        "started_at": moment,
        "completed_at": moment,
        "participant1_score": scores[0],
        "participant2_score": scores[1],
        "winner_participant_id": winner,
        "status": "completed",
    }


def _finish(
    session: Session,
    competition: Competition,
    participants: dict[str, str],
    start: datetime,
    end: datetime,
) -> None:
    """Complete the competition, rank its participants by the standings and
    recompute the counters of the agents in the file.

    Rules, the same as ``complete_competition`` applies to a played
    competition: each competitor's ``ranking`` comes from
    ``compute_standings`` (shared ranks for ties), its ``final_score`` is
    its points (head to head, tournament) or mean score (solo, challenge);
    ``winner_agent_id`` is the one competitor ranked first, None when the
    first rank is shared. ``complete_competition`` itself is not called: it
    requires an active competition and loads every match as an object,
    which a file of a million matches cannot afford.
    """
    session.flush()
    competition.status = "completed"
    competition.actual_start = start
    competition.actual_end = end

    standings = compute_standings(session, competition.id)
    pairwise = competition.competition_type in PAIRWISE_TYPES
    by_participant = {row.participant_id: row for row in standings.itertuples()}
    rows = session.scalars(
        select(CompetitionParticipant).where(
            CompetitionParticipant.competition_id == competition.id
        )
    ).all()
    for participant in rows:
        participant.status = "completed"
        participant.completed_at = end
        row = by_participant.get(participant.id)
        if row is None:
            continue
        score = row.points if pairwise else row.average_score
        participant.final_score = None if math.isnan(score) else float(score)
        participant.ranking = int(row.rank)

    leaders = standings[standings["rank"] == 1]
    competition.winner_agent_id = (
        str(leaders.iloc[0]["agent_id"]) if len(leaders) == 1 else None
    )

    imported = set(participants.values())
    # Once per agent, not per match: each refresh reads only that agent's
    # matches through the participant indexes.
    for agent_id in sorted({p.agent_id for p in rows if p.id in imported}):
        refresh_agent_counters(session, agent_id)
    session.flush()
