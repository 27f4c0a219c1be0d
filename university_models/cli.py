"""The command line: ``python -m university_models COMMAND ...``.

Each command lives in a module of ``university_models.commands`` that
provides ``register(subparsers)``; the module sets ``handler`` on its parser
with ``set_defaults``. A handler returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from university_models.errors import DomainError

log = logging.getLogger(__name__)

#: The modules that contribute commands, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "db",
    "universities",
    "curriculum",
    "demo",
    "import_results",
    "export",
    "retention",
    "serve",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m university_models",
        description="Operate an agentic university: database, data and reports.",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log details to stderr"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"university_models.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except DomainError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
