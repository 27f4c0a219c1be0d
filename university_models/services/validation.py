"""Checks every service shares: whole numbers the database can store,
times written the way people read them, and the version an edit form was
drawn from.

Texts and JSON documents have their own shared checks next to the
university rules (``clean_name``, ``clean_text``,
``refuse_control_characters`` and ``storable_json`` in
``services.universities``). The rules here are written down in
``docs/domain.md`` under "Input every service checks".
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from university_models.errors import InvalidInput, StaleVersion

#: The largest whole number an INTEGER column holds: PostgreSQL's INTEGER,
#: the spec's type (SQLite would take up to 2**63 - 1, PostgreSQL refuses
#: more, and Python's sqlite3 raises OverflowError past that).
INTEGER_MAX = 2_147_483_647

#: Whole numbers longer than this many digits are not written out in full
#: in a message (and Python refuses to write out more than 4,300 digits).
_DIGITS_SHOWN = 30


def number_text(value: Any) -> str:
    """A number as it was given, for a message: ``repr`` ("nan", "-5"),
    except that a float is written to 15 significant digits as a person
    would type it ("1000000000000", not "1000000000000.0"; "1e+308";
    "0.25"), and a whole number of more than 30 digits is shortened to its
    first digits and its length ("123456789012... (5,001 digits)"): Python
    refuses to write out more than 4,300 digits, and nobody reads them."""
    if isinstance(value, float):
        return format(value, ".15g")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return repr(value)
    value = int(value)
    size = abs(value)
    if size < 10**_DIGITS_SHOWN:
        return str(value)
    # log10(2) digits per bit, then corrected by one power of ten at most.
    digits = math.floor(size.bit_length() * math.log10(2)) + 1
    if size < 10 ** (digits - 1):
        digits -= 1
    lead = size // 10 ** (digits - 12)
    return f"{'-' if value < 0 else ''}{lead}... ({digits:,} digits)"


def whole_number(
    value: Any, *, what: str, minimum: int = 1, maximum: int = INTEGER_MAX
) -> int:
    """``value`` as an ``int``; ``InvalidInput`` naming ``what`` (a noun
    phrase: "agent quota (max_agents)") and the value otherwise.

    Rule: every whole number a service stores in an INTEGER column (quotas,
    the retention period, estimated hours, time limits, maximum
    participants, seeds, minutes spent, challenge indexes) and every count
    a person confirms is an integer (not a bool, not a float such as 5.0)
    from ``minimum`` to ``maximum``, at most 2,147,483,647 (``INTEGER_MAX``,
    PostgreSQL's INTEGER), so that a value past it is refused here instead
    of crashing the database driver (``OverflowError`` on SQLite, "out of
    range for type integer" on PostgreSQL)."""
    shown = number_text(value)
    allowed = f"give a whole number from {minimum:,} to {maximum:,}"
    # bool is an int subclass; True as "1 agent" is surely a mistake.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidInput(f"The {what} {shown} is not a whole number: {allowed}.")
    if value < minimum:
        raise InvalidInput(f"The {what} {shown} is below {minimum:,}: {allowed}.")
    if value > maximum:
        largest = (
            " (the largest whole number the database stores)"
            if maximum == INTEGER_MAX
            else ""
        )
        raise InvalidInput(
            f"The {what} {shown} is above {maximum:,}{largest}: {allowed}."
        )
    return int(value)


def shown_time(value: datetime) -> str:
    """A time as the pages show it, for a message: "2026-12-04 08:00 UTC".

    Rule: every time a service writes into a refusal goes through here, in
    UTC, to the minute like the pages; the seconds are added only when they
    are not zero ("2026-12-04 08:00:30 UTC"), so that two times less than
    a minute apart still read differently. A time without a zone (itself the
    mistake a refusal names) is written as given, without "UTC"."""
    if value.tzinfo is None or value.utcoffset() is None:
        return _clock(value)
    return f"{_clock(value.astimezone(UTC))} UTC"


def _clock(value: datetime) -> str:
    # isoformat, not strftime: it writes year 5 as 0005 on every platform.
    spec = "seconds" if value.second or value.microsecond else "minutes"
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec=spec)


def edit_version(record: Any, fields: Iterable[str]) -> str:
    """The version of ``record``'s ``fields`` (an ORM object, or a query's
    row as a mapping): a short digest of their values as JSON, keys sorted.

    Rule: an edit form passes back the version of the values it was drawn
    from (``seen_version``), and the service refuses when the record's
    version is no longer that one. The digest, not ``updated_at``, is the
    version because ``updated_at`` moves on every write to the row: every
    write in a university moves its ``last_activity_at`` (an agent created,
    a result recorded), and an agent's counters move with its matches and
    training, so a form would be refused over values it does not show. The
    digest moves exactly when a value the form shows does, and is the same
    on every engine.
    """
    values = {
        field: record[field] if isinstance(record, Mapping) else getattr(record, field)
        for field in sorted(fields)
    }
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def refuse_stale_version(
    seen_version: str | None, current_version: str, *, what: str
) -> None:
    """``StaleVersion`` naming ``what`` (``"Agent 'Ada'"``) when an edit form
    was drawn from another version than the record's current one; None
    (the command line, the services' own callers) checks nothing."""
    if seen_version is None or seen_version == current_version:
        return
    raise StaleVersion(
        f"{what} was changed by someone else after this form was opened: its "
        "current values are now shown; make your change again."
    )
