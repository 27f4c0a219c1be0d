"""``db upgrade`` and ``db current``."""

from __future__ import annotations

import argparse

from university_models import migrate
from university_models.db import make_engine


def register(subparsers) -> None:
    parser = subparsers.add_parser("db", help="create or upgrade the database schema")
    db_commands = parser.add_subparsers(dest="db_command", metavar="ACTION")
    db_commands.required = True

    upgrade = db_commands.add_parser(
        "upgrade", help="bring the configured database to the newest revision"
    )
    upgrade.set_defaults(handler=_upgrade)

    current = db_commands.add_parser(
        "current", help="print the revision the database stands at"
    )
    current.set_defaults(handler=_current)


def _upgrade(args: argparse.Namespace) -> int:
    engine = make_engine()
    migrate.upgrade(engine)
    print(f"database at revision {migrate.current_revision(engine)} (head)")
    return 0


def _current(args: argparse.Namespace) -> int:
    engine = make_engine()
    current = migrate.current_revision(engine)
    head = migrate.head_revision()
    if current is None:
        print(
            "database has no schema yet: run `python -m university_models db upgrade`"
        )
    elif current == head:
        print(f"{current} (head)")
    else:
        print(
            f"{current} (head is {head}: run `python -m university_models db upgrade`)"
        )
    return 0
