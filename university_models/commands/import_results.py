"""``import-results FILE``: a result log into a new completed competition."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from university_models.db import make_engine, transaction
from university_models.importers import FORMATS, import_results
from university_models.models import AGENT_TYPES, COMPETITION_TYPES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "import-results",
        help="import pairwise judgments or per-task scores as a competition",
        description=(
            "Import a result file (CSV, JSON Lines or a JSON array) into a new "
            "completed competition of a university, as one transaction: a "
            "malformed record refuses the whole file and nothing is written."
        ),
    )
    parser.add_argument("file", help="the result file")
    parser.add_argument(
        "--university", required=True, metavar="NAME", help="an existing university"
    )
    parser.add_argument(
        "--competition",
        required=True,
        metavar="NAME",
        help="the competition to create (or to append to, with --append)",
    )
    parser.add_argument(
        "--type",
        required=True,
        choices=COMPETITION_TYPES,
        dest="competition_type",
        help="head_to_head or tournament for pairwise records, solo or "
        "challenge for per-task scores",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        dest="file_format",
        help="the file's format (default: from its name)",
    )
    parser.add_argument(
        "--agent-type",
        choices=AGENT_TYPES,
        default="specialist",
        help="the type of agents the import creates (default: specialist)",
    )
    parser.add_argument(
        "--append",
        action="store_true",
        help="add the records to an existing competition of that name",
    )
    parser.set_defaults(handler=_import)


#: Seconds between two progress lines when stderr is not a terminal.
PROGRESS_EVERY_SECONDS = 5.0


class _ProgressLine:
    """The importer's ``progress(done, total)`` as a line on stderr: on a
    terminal one line rewritten in place after every batch; in a log a new
    line at most every ``PROGRESS_EVERY_SECONDS``, and the last one."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.shown_at = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        share = f" ({done / total:.0%})" if total else ""
        line = f"import-results: {done:,} of {total:,} matches written{share}"
        now = time.monotonic()
        if self.live:
            end = "\n" if done >= total else ""
            print(f"\r{line}", end=end, file=self.stream, flush=True)
        elif done >= total or now - self.shown_at >= PROGRESS_EVERY_SECONDS:
            print(line, file=self.stream, flush=True)
            self.shown_at = now


def _import(args: argparse.Namespace) -> int:
    # The first pass (checking every record) writes nothing and reports no
    # progress: say what is happening before it starts.
    print(
        f"import-results: checking the records of {args.file} ...",
        file=sys.stderr,
        flush=True,
    )
    engine = make_engine()
    try:
        with transaction(engine) as session:
            report = import_results(
                session,
                args.file,
                university_name_or_id=args.university,
                competition_name=args.competition,
                competition_type=args.competition_type,
                file_format=args.file_format,
                agent_type=args.agent_type,
                append=args.append,
                progress=_ProgressLine(sys.stderr),
            )
    finally:
        engine.dispose()

    print(f"imported {args.file} into competition {args.competition!r}")
    print(f"  records read       {report.records}")
    print(f"  agents created     {report.agents_created}")
    print(f"  matches written    {report.matches_written}")
    print(f"  duplicates (kept)  {report.duplicates}")
    print(f"  ties               {report.ties}")
    print(f"  unscored skipped   {report.skipped_unscored}")
    print(f"  elapsed            {report.elapsed_seconds:.2f} s")
    return 0
