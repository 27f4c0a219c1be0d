"""``university create``, ``university list`` and ``university set-status``."""

from __future__ import annotations

import argparse

from university_models.db import make_engine, read_session, transaction
from university_models.models import UNIVERSITY_STATUSES
from university_models.queries.universities import (
    count_universities,
    list_universities,
)
from university_models.services.universities import (
    create_university,
    find_university,
    set_university_status,
)

#: The columns ``university list`` shows, in order, with their headings.
LIST_COLUMNS = {
    "name": "name",
    "status": "status",
    "owner": "owner",
    "agents": "agents",
    "max_agents": "max agents",
    "max_concurrent_competitions": "max competitions",
    "storage_quota_mb": "storage MB",
    "last_activity_at": "last activity (UTC)",
    # Last, whole: dashboard links take ``?university=<id>``.
    "id": "id",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser("university", help="create and list universities")
    actions = parser.add_subparsers(dest="university_command", metavar="ACTION")
    actions.required = True

    create = actions.add_parser(
        "create",
        help="create a university (and its owner and organization when missing)",
    )
    create.add_argument("name", help="the university's name, unique in any case")
    create.add_argument(
        "--owner", required=True, metavar="EMAIL", help="the owner's e-mail address"
    )
    create.add_argument("--owner-name", metavar="NAME", help="the owner's name")
    create.add_argument("--organization", metavar="NAME")
    create.add_argument("--description", metavar="TEXT")
    create.add_argument("--max-agents", type=int, default=100, metavar="N")
    create.add_argument(
        "--max-concurrent-competitions", type=int, default=10, metavar="N"
    )
    create.add_argument("--storage-quota-mb", type=int, default=1024, metavar="N")
    create.add_argument("--data-retention-days", type=int, default=365, metavar="N")
    create.set_defaults(handler=_create)

    listing = actions.add_parser("list", help="list the universities as a table")
    listing.set_defaults(handler=_list)

    status = actions.add_parser(
        "set-status",
        help="suspend, archive or reactivate a university (found by name)",
    )
    status.add_argument("name", help="the university's name, in any case")
    status.add_argument("status", choices=UNIVERSITY_STATUSES)
    status.set_defaults(handler=_set_status)


def _create(args: argparse.Namespace) -> int:
    engine = make_engine()
    try:
        with transaction(engine) as session:
            university = create_university(
                session,
                name=args.name,
                owner_email=args.owner,
                owner_display_name=args.owner_name,
                organization=args.organization,
                description=args.description,
                max_agents=args.max_agents,
                max_concurrent_competitions=args.max_concurrent_competitions,
                storage_quota_mb=args.storage_quota_mb,
                data_retention_days=args.data_retention_days,
            )
            name, university_id = university.name, university.id
            owner = university.owner.email
    finally:
        engine.dispose()
    print(f"created university {name!r} ({university_id}), owner {owner}")
    return 0


def _list(args: argparse.Namespace) -> int:
    engine = make_engine()
    try:
        with read_session(engine) as session:
            frame = list_universities(session)
            total = count_universities(session)
    finally:
        engine.dispose()
    if frame.empty:
        print(
            "no university yet: create one with "
            "`python -m university_models university create NAME --owner EMAIL`"
        )
        return 0

    table = frame[list(LIST_COLUMNS)].rename(columns=LIST_COLUMNS)
    table["last activity (UTC)"] = [
        value.strftime("%Y-%m-%d %H:%M") if value is not None else ""
        for value in frame["last_activity_at"]
    ]
    print(table.to_string(index=False))
    if total > len(frame):
        print(f"the first {len(frame)} of {total} universities by name")
    return 0


def _set_status(args: argparse.Namespace) -> int:
    engine = make_engine()
    try:
        with transaction(engine) as session:
            university = find_university(session, args.name)
            previous = university.status
            set_university_status(session, university.id, args.status)
            name = university.name
    finally:
        engine.dispose()
    if previous == args.status:
        print(f"university {name!r} is already {args.status}")
    else:
        print(f"university {name!r}: {previous} -> {args.status}")
    return 0
