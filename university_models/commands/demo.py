"""``demo [--seed N] [--replace] [--if-empty]``."""

from __future__ import annotations

import argparse

from university_models.db import make_engine
from university_models.demo import build_demo, load_demo_if_empty
from university_models.wording import counted_plural


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="fill the database with the demo universities",
        description=(
            "Fill the configured database, through the services, with a "
            "deterministic demo: two universities with agents, curriculum, "
            "competitions, training data and proposals in every status. Refused "
            "when demo data exists, unless --replace."
        ),
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="the seed of the demo's random choices (default 0)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--replace",
        action="store_true",
        help="delete the existing demo universities (only those) and rebuild",
    )
    mode.add_argument(
        "--if-empty",
        action="store_true",
        help="build only when the database has no university at all",
    )
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    engine = make_engine()
    try:
        if args.if_empty:
            summary = load_demo_if_empty(engine, seed=args.seed, progress=print)
            if summary is None:
                print("the database already has universities: demo skipped")
                return 0
        else:
            summary = build_demo(
                engine, seed=args.seed, replace=args.replace, progress=print
            )
    finally:
        engine.dispose()

    for name in summary.universities:
        counts = ", ".join(
            counted_plural(n, what) for what, n in summary.counts[name].items()
        )
        print(f"{name}: {counts}")
    for line in summary.skipped:
        print(f"skipped: {line}")
    return 0
