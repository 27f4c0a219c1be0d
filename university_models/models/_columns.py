"""Column and relationship builders shared by every table, so that ids,
timestamps, defaults and one-to-many relationships are declared one way
everywhere.

Deliberate deviation from the spec: a column the DDL gives a default is also
NOT NULL. The DDL leaves NOT NULL off these columns, so by the spec they are
nullable; we make them NOT NULL on purpose, because a NULL status passes its
CHECK constraint (a CHECK on NULL is not false) and a NULL counter or score
breaks every sum and average on the dashboard. A row that names none of them
still gets the default, so an insert the spec allows only fails when it writes
an explicit NULL.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, false, text
from sqlalchemy.orm import mapped_column, relationship

from university_models.db import IdType, JsonDocument, UTCDateTime, new_id, utcnow

CURRENT_TIMESTAMP = text("CURRENT_TIMESTAMP")


def id_column():
    return mapped_column(IdType, primary_key=True, default=new_id)


def reference(
    target: str,
    *,
    ondelete: str | None = None,
    nullable: bool = False,
    length: int = 36,
):
    """A foreign key column to ``target`` (``"table.id"``)."""
    return mapped_column(
        String(length), ForeignKey(target, ondelete=ondelete), nullable=nullable
    )


def _now_defaulted_column():
    return mapped_column(
        UTCDateTime, nullable=False, default=utcnow, server_default=CURRENT_TIMESTAMP
    )


def created_at_column():
    """When the row was created: now at insert, never changed afterwards."""
    return _now_defaulted_column()


def last_activity_at_column():
    """When the row last saw activity: now at insert, then moved forward by
    the services that record activity (not by every update, unlike
    ``updated_at``)."""
    return _now_defaulted_column()


def updated_at_column():
    """When the row last changed: now at insert and at every ORM update."""
    return mapped_column(
        UTCDateTime,
        nullable=False,
        default=utcnow,
        onupdate=utcnow,
        server_default=CURRENT_TIMESTAMP,
    )


def timestamp_column():
    """An optional time-zone aware timestamp without a default."""
    return mapped_column(UTCDateTime, nullable=True)


def text_choice(length: int, default: str):
    return mapped_column(
        String(length), nullable=False, default=default, server_default=default
    )


def integer_column(default: int):
    return mapped_column(
        Integer, nullable=False, default=default, server_default=text(str(default))
    )


def float_column(default: float):
    return mapped_column(
        Float, nullable=False, default=default, server_default=text(repr(default))
    )


def boolean_column():
    return mapped_column(Boolean, nullable=False, default=False, server_default=false())


def json_column(
    default: Any = None, *, nullable: bool = False, name: str | None = None
):
    """A JSON column; ``default`` applies in the ORM and as a server default."""
    args = (name, JsonDocument) if name else (JsonDocument,)
    if default is None:
        return mapped_column(*args, nullable=nullable)
    literal = json.dumps(default).replace("'", "''")
    return mapped_column(
        *args,
        nullable=nullable,
        default=lambda: json.loads(json.dumps(default)),
        server_default=text(f"'{literal}'"),
    )


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL text of ``column IN ('a', 'b')`` for a CHECK constraint."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def dependents(back_populates: str, **kwargs: Any):
    """A one-to-many relationship whose rows the database looks after when
    the parent row is deleted.

    Rule: ``ON DELETE`` is the database's job alone. A ``CASCADE`` foreign
    key deletes the children; a foreign key without an action refuses the
    delete while children remain. The ORM must not run its own version:
    with a ``delete`` cascade it deletes the *loaded* children one by one,
    in an order that runs into the foreign keys without an action (a match's
    participants, a proposal's source record), and without one it sets the
    children's foreign key NULL. ``passive_deletes="all"`` leaves both to
    the database, loaded or not.

    SQLAlchemy refuses ``passive_deletes="all"`` together with a
    ``delete``/``delete-orphan`` cascade, so removing a child from the
    collection does not delete it (it would set a NOT NULL foreign key to
    NULL): delete the child itself with ``session.delete``. After the
    parent is deleted, children already loaded stay in the session
    although their rows are gone; the session of one user action ends
    there anyway.
    """
    return relationship(
        back_populates=back_populates,
        cascade="save-update, merge",
        passive_deletes="all",
        **kwargs,
    )
