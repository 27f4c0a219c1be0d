"""``archive [--dry-run]`` and ``restore NAME``."""

from __future__ import annotations

import argparse

from university_models.db import make_engine, transaction
from university_models.services.retention import (
    archive_due_universities,
    restore_university,
)


def register(subparsers) -> None:
    archive = subparsers.add_parser(
        "archive",
        help="move archived universities past their retention period into the "
        "archive tables",
        description=(
            "Move every university that is archived and inactive for longer than "
            "its retention period (settings data_retention_days, default 365) "
            "with its agents into the archive tables, one university per "
            "transaction. Everything else it owned (curriculum, competitions, "
            "matches, training data, proposals) is deleted."
        ),
    )
    archive.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would move and change nothing",
    )
    archive.set_defaults(handler=_archive)

    restore = subparsers.add_parser(
        "restore",
        help="bring an archived university and its agents back",
        description=(
            "Bring an archived university (by name or id) and its agents back as "
            "live rows, with status archived. Its other data was deleted when it "
            "was archived and does not come back."
        ),
    )
    restore.add_argument("name", metavar="NAME", help="name or id of the university")
    restore.set_defaults(handler=_restore)


def _archive(args: argparse.Namespace) -> int:
    engine = make_engine()
    try:
        results = archive_due_universities(engine, dry_run=args.dry_run, progress=print)
    finally:
        engine.dispose()

    if not results:
        print("no university is due for archiving")
        return 0
    if args.dry_run:
        print(
            f"dry run: {len(results)} universities would be archived; nothing changed"
        )
        return 0
    failed = [result for result in results if result.error]
    print(f"archived {len(results) - len(failed)} universities, {len(failed)} failed")
    return 1 if failed else 0


def _restore(args: argparse.Namespace) -> int:
    engine = make_engine()
    try:
        with transaction(engine) as session:
            university = restore_university(session, args.name)
            agents = len(university.agents)
            name, university_id = university.name, university.id
    finally:
        engine.dispose()
    print(
        f"restored {name!r} ({university_id}) with {agents} agents, status archived; "
        "its curriculum, competitions, training data and proposals were deleted "
        "when it was archived and are not restored"
    )
    return 0
