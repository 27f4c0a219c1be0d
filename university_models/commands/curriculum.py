"""``curriculum create-path`` and ``curriculum add-level``: author curriculum
paths from scripts, with the same rules as the Curriculum page."""

from __future__ import annotations

import argparse

from university_models.db import make_engine, transaction
from university_models.models import DIFFICULTY_LEVELS, PATH_STATUSES
from university_models.queries.curriculum import challenges_from_prompts, find_path
from university_models.services.curriculum import add_level, create_path
from university_models.services.universities import find_university


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "curriculum", help="create curriculum paths and add their levels"
    )
    actions = parser.add_subparsers(dest="curriculum_command", metavar="ACTION")
    actions.required = True

    create = actions.add_parser(
        "create-path", help="create a curriculum path (without levels)"
    )
    create.add_argument("--university", required=True, metavar="NAME")
    create.add_argument("--name", required=True, metavar="NAME")
    create.add_argument("--description", metavar="TEXT")
    create.add_argument("--difficulty", choices=DIFFICULTY_LEVELS, default="beginner")
    create.add_argument(
        "--hours", type=int, default=40, metavar="N", help="estimated duration"
    )
    create.add_argument(
        "--tag", action="append", default=[], metavar="TEXT", help="repeatable"
    )
    create.add_argument("--status", choices=PATH_STATUSES, default="active")
    create.set_defaults(handler=_create_path)

    level = actions.add_parser(
        "add-level", help="append a level to a path (it gets the next number)"
    )
    level.add_argument("--university", required=True, metavar="NAME")
    level.add_argument(
        "--path", required=True, metavar="NAME", help="the path's name, any case"
    )
    level.add_argument("--name", required=True, metavar="NAME")
    level.add_argument("--description", metavar="TEXT")
    level.add_argument(
        "--challenge",
        action="append",
        required=True,
        metavar="TEXT",
        help='one challenge, stored as {"prompt": TEXT}; repeatable',
    )
    level.add_argument(
        "--objective", action="append", default=[], metavar="TEXT", help="repeatable"
    )
    level.add_argument("--passing-score", type=float, default=0.7, metavar="X")
    level.add_argument("--time-limit", type=int, default=60, metavar="MINUTES")
    level.add_argument("--required-competency", type=float, default=0.0, metavar="X")
    level.set_defaults(handler=_add_level)


def _create_path(args: argparse.Namespace) -> int:
    engine = make_engine()
    try:
        with transaction(engine) as session:
            university = find_university(session, args.university)
            path = create_path(
                session,
                university.id,
                name=args.name,
                description=args.description,
                difficulty_level=args.difficulty,
                estimated_duration_hours=args.hours,
                tags=args.tag,
                status=args.status,
            )
            name, path_id, status = path.name, path.id, path.status
            university_name = university.name
    finally:
        engine.dispose()
    print(f"created path {name!r} ({path_id}, {status}) in {university_name!r}")
    return 0


def _add_level(args: argparse.Namespace) -> int:
    engine = make_engine()
    try:
        with transaction(engine) as session:
            university = find_university(session, args.university)
            path_id = find_path(session, university.id, args.path)
            level = add_level(
                session,
                path_id,
                name=args.name,
                description=args.description,
                challenges=challenges_from_prompts(args.challenge),
                learning_objectives=[text.strip() for text in args.objective],
                passing_score=args.passing_score,
                time_limit_minutes=args.time_limit,
                required_competency_score=args.required_competency,
            )
            number, name, count = level.level_number, level.name, level.challenge_count
    finally:
        engine.dispose()
    print(f"added level {number} {name!r} to path {args.path!r} ({count} challenges)")
    return 0
