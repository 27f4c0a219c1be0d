"""``export REPORT --university NAME [filters] [--out FILE]``: a CSV report.

Without ``--out`` the CSV goes to standard output as it is read, page by
page; with ``--out`` it is written to ``FILE.part`` and renamed to ``FILE``
once complete, so a failed export never leaves a truncated file that looks
finished. The row count and the file name go to standard error.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from university_models.db import make_engine, read_session
from university_models.errors import InvalidInput
from university_models.exports import (
    REPORT_FILTERS,
    REPORTS,
    ExportFilters,
    csv_chunks,
    export_file_name,
    filter_labels,
    find_competition,
    find_path,
)
from university_models.services.universities import find_university
from university_models.wording import counted


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a day; write it as YYYY-MM-DD (a UTC day)"
        ) from None


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a CSV report of one university",
        description=(
            "Write every matching row of a report as CSV (UTF-8, a header row, "
            "ISO 8601 UTC times). Filters that a report does not take are refused."
        ),
    )
    parser.add_argument(
        "report", choices=REPORTS, metavar="REPORT", help=", ".join(REPORTS)
    )
    parser.add_argument("--university", required=True, metavar="NAME")
    parser.add_argument(
        "--competition", metavar="NAME", help="leaderboard, matches: one competition"
    )
    parser.add_argument("--path", metavar="NAME", help="progress: one curriculum path")
    parser.add_argument(
        "--agent-type", metavar="TYPE", help="leaderboard, progress, training-data"
    )
    parser.add_argument(
        "--specialization", metavar="TEXT", help="leaderboard, progress"
    )
    parser.add_argument(
        "--status",
        metavar="STATUS",
        help="progress, training-data, proposals, matches: the report's status",
    )
    parser.add_argument("--data-type", metavar="TYPE", help="training-data")
    parser.add_argument("--source-type", metavar="TYPE", help="training-data")
    parser.add_argument(
        "--from", dest="date_from", type=_day, metavar="DAY", help="first UTC day"
    )
    parser.add_argument(
        "--to", dest="date_to", type=_day, metavar="DAY", help="last UTC day, included"
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write to FILE (a folder: the file is named after the report and "
        "its filters); default: standard output",
    )
    parser.set_defaults(handler=_export)


#: Each export filter: the option a person types, and where argparse keeps it.
FILTER_OPTIONS = {
    "competition_id": ("--competition", "competition"),
    "path_id": ("--path", "path"),
    "agent_type": ("--agent-type", "agent_type"),
    "specialization": ("--specialization", "specialization"),
    "status": ("--status", "status"),
    "data_type": ("--data-type", "data_type"),
    "source_type": ("--source-type", "source_type"),
    "date_from": ("--from", "date_from"),
    "date_to": ("--to", "date_to"),
}


def _refuse_options_the_report_does_not_take(args: argparse.Namespace) -> None:
    """Rule (``exports.check_filters``, in the words of the command line):
    each report takes its own filters; an option it does not take is
    refused before anything is read, naming the ones it does take."""
    allowed = REPORT_FILTERS[args.report]
    extra = [
        option
        for name, (option, attribute) in FILTER_OPTIONS.items()
        if getattr(args, attribute) is not None and name not in allowed
    ]
    if extra:
        takes = ", ".join(FILTER_OPTIONS[name][0] for name in allowed) or "no filter"
        raise InvalidInput(
            f"The {args.report} report takes {takes}, not {', '.join(extra)}: "
            "leave those out."
        )


def _export(args: argparse.Namespace) -> int:
    _refuse_options_the_report_does_not_take(args)
    engine = make_engine()
    with read_session(engine) as session:
        university = find_university(session, args.university)
        filters = ExportFilters(
            competition_id=(
                find_competition(session, university.id, args.competition).id
                if args.competition
                else None
            ),
            path_id=find_path(session, university.id, args.path).id
            if args.path
            else None,
            agent_type=args.agent_type,
            specialization=args.specialization,
            status=args.status,
            data_type=args.data_type,
            source_type=args.source_type,
            date_from=args.date_from,
            date_to=args.date_to,
        )
        written = [0]

        def count(rows: int) -> None:
            written[0] = rows

        chunks = csv_chunks(
            session, args.report, university.id, filters, progress=count
        )

        if args.out is None:
            # The CSV is UTF-8 whatever the terminal's encoding, as a file is.
            for chunk in chunks:
                sys.stdout.buffer.write(chunk.encode("utf-8"))
            sys.stdout.buffer.flush()
            print(
                f"{counted(written[0], 'row')} of the {args.report} report",
                file=sys.stderr,
            )
            return 0

        target = Path(args.out)
        if target.is_dir():
            labels = filter_labels(session, university.id, filters)
            target = target / export_file_name(args.report, university.name, labels)
        if not target.parent.is_dir():
            raise InvalidInput(
                f"The folder {str(target.parent)!r} does not exist; create it or "
                "choose another --out."
            )
        partial = target.with_name(target.name + ".part")
        try:
            with partial.open("w", encoding="utf-8", newline="") as out:
                for chunk in chunks:
                    out.write(chunk)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    print(
        f"wrote {counted(written[0], 'row')} of the {args.report} report to {target}",
        file=sys.stderr,
    )
    return 0
