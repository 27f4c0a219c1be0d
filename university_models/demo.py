"""The demo universities: a small, realistic, deterministic data set built
through the services, so that a newcomer's first page shows a living
university and every status of the domain.

Rules (written down in ``docs/domain.md`` under "Demo university"):

* Everything is written through the service layer, so the demo obeys every
  rule a user's own data obeys (quotas, transitions, counters).
* Deterministic for a seed: the names, types, counts, statuses and scores
  come from ``random.Random(seed)`` alone, so two builds with the same seed
  hold the same content. Timestamps are not part of that promise: the
  services stamp the real time of the build, so that the Overview's
  seven-day deltas see the demo's activity as recent.
* Every status of every status column appears (``STATUS_COLUMNS`` in the
  tests): two active universities hold the living data, a small suspended
  and a small archived one show the other university statuses; agents end
  in every status, paths in draft and archived as well as active, a match
  is in play, a competitor is disqualified, observers and judges watch.
* Demo universities carry the marker ``settings["demo"] = true``. A build
  refuses to run while any demo university exists unless ``replace=True``;
  replacing deletes the demo universities only (and everything they own),
  never a university a user made.
"""

from __future__ import annotations

import io
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from university_models.config import published_data_dir
from university_models.db import read_session, transaction, utcnow
from university_models.errors import Conflict
from university_models.importers import import_results
from university_models.models import (
    AGENT_TYPES,
    COMPETITION_TYPES,
    DATA_TYPES,
    GENERATORS,
    SOURCE_TYPES,
    AgentProgress,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    CurriculumLevel,
    CurriculumPath,
    ImprovementProposal,
    TrainingDataCollection,
    University,
    UniversityAgent,
)
from university_models.services.agents import (
    create_agent,
    open_competitions,
    set_agent_status,
)
from university_models.services.competitions import (
    add_participant,
    cancel_competition,
    complete_competition,
    disqualify_participant,
    record_match_result,
    schedule_competition,
    start_competition,
    start_match,
)
from university_models.services.curriculum import (
    add_level,
    create_path,
    enrol_agent,
    record_challenge_result,
    retry_level,
    set_path_status,
)
from university_models.services.proposals import (
    approve_proposal,
    create_proposal,
    finish_implementation,
    reject_proposal,
    reopen_proposal,
    start_implementation,
)
from university_models.services.training_data import (
    anonymize_record,
    collect_training_data,
    reject_record,
    set_privacy_level,
    validate_record,
)
from university_models.services.universities import (
    create_university,
    set_university_status,
)
from university_models.wording import counted_plural, in_words

log = logging.getLogger(__name__)

#: The settings key that marks a university as demo data.
DEMO_MARKER = "demo"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoUniversity:
    """What one demo university is made of."""

    name: str
    owner_email: str
    owner_name: str
    organization: str
    description: str
    agents_per_type: dict[str, int]
    max_agents: int
    max_concurrent_competitions: int
    paths: tuple[DemoPath, ...] = ()
    #: The competition statuses to show, for each of the four types.
    competition_statuses: tuple[str, ...] = ()
    #: Competition names by type, one per status above.
    competition_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    training_records: int = 0
    #: Where the proposals end (``PROPOSAL_ENDINGS`` when None).
    proposal_endings: tuple[str, ...] | None = None
    #: The university's status once built (set last: a suspended or
    #: archived university takes no other write).
    status: str = "active"


@dataclass(frozen=True)
class DemoPath:
    """A curriculum path of the demo: its levels' names, in order."""

    name: str
    difficulty: str
    hours: int
    levels: tuple[str, ...]
    tags: tuple[str, ...]
    #: Minimum competency to enrol (a path prerequisite), or None.
    min_competency: float | None = None
    #: ``active`` paths get learners; a ``draft`` or ``archived`` one is
    #: authored (levels included) and left in that status.
    status: str = "active"


#: Three paths of four to six levels for the Lyceum; the Athenaeum gets the
#: first two under its own names (``ATHENAEUM_PATHS``).
LYCEUM_PATHS = (
    DemoPath(
        "Foundations of Reasoning",
        "beginner",
        30,
        ("Reading a problem", "Step by step", "Checking an answer", "Explaining why"),
        ("reasoning",),
    ),
    DemoPath(
        "Tool Use in Practice",
        "intermediate",
        45,
        (
            "Calling a calculator",
            "Searching well",
            "Running code",
            "Chaining tools",
            "Recovering from tool errors",
        ),
        ("tool_use", "coding"),
    ),
    DemoPath(
        "Research Methods",
        "advanced",
        80,
        (
            "Framing a question",
            "Reading the literature",
            "Designing an evaluation",
            "Running an ablation",
            "Reporting uncertainty",
            "Peer review",
        ),
        ("research", "evaluation"),
        min_competency=0.5,
    ),
)

ATHENAEUM_PATHS = (
    DemoPath(
        "Proof Writing",
        "intermediate",
        40,
        ("Direct proofs", "Induction", "Contradiction", "Formal checking"),
        ("mathematics",),
    ),
    DemoPath(
        "Code Review",
        "beginner",
        25,
        ("Reading a diff", "Spotting bugs", "Suggesting fixes", "Testing a fix"),
        ("coding",),
    ),
    DemoPath(
        "Formal Verification",
        "expert",
        60,
        ("Specifications", "Model checking", "Proof assistants"),
        ("mathematics", "coding"),
        status="draft",
    ),
    DemoPath(
        "Legacy Numerics",
        "intermediate",
        30,
        ("Floating point", "Fortran interop"),
        ("mathematics",),
        status="archived",
    ),
)

#: The one path of each small, inactive demo university.
SMALL_PATHS = (
    DemoPath(
        "Study Skills",
        "beginner",
        20,
        ("Taking notes", "Asking questions", "Summarising", "Reviewing"),
        ("conversation",),
    ),
)

#: The demo universities. Two active ones make isolation visible: the same
#: kinds of rows, different content, never mixed.
DEMO_UNIVERSITIES = (
    DemoUniversity(
        name="Lyceum Demo University",
        owner_email="dean@lyceum.demo.example.org",
        owner_name="Demo Dean of the Lyceum",
        organization="Lyceum Demo Foundation",
        description=(
            "Demo data: a general-purpose university training assistants in "
            "reasoning, tool use and conversation."
        ),
        agents_per_type={
            "student": 10,
            "instructor": 3,
            "researcher": 4,
            "specialist": 4,
        },
        max_agents=60,
        max_concurrent_competitions=10,
        paths=LYCEUM_PATHS,
        competition_statuses=("completed", "cancelled", "active", "scheduled"),
        competition_names={
            "solo": (
                "Solo Reasoning Sprint",
                "Solo Tool Drill",
                "Solo Summaries",
                "Solo Speed Round",
            ),
            "head_to_head": (
                "Debate League",
                "Fact-Check Duels",
                "Translation Duels",
                "Code Golf Duels",
            ),
            "tournament": (
                "Spring Cup",
                "Summer Knockout",
                "Autumn Bracket",
                "Winter Open",
            ),
            "challenge": (
                "Math Olympiad Challenge",
                "SQL Puzzle Challenge",
                "Regex Gauntlet",
                "Proof Marathon",
            ),
        },
        training_records=72,
    ),
    DemoUniversity(
        name="Athenaeum Demo Institute",
        owner_email="rector@athenaeum.demo.example.org",
        owner_name="Demo Rector of the Athenaeum",
        organization="Athenaeum Demo Trust",
        description=(
            "Demo data: a research institute whose agents specialise in "
            "mathematics and code."
        ),
        agents_per_type={
            "student": 6,
            "instructor": 2,
            "researcher": 3,
            "specialist": 3,
        },
        max_agents=60,
        max_concurrent_competitions=8,
        paths=ATHENAEUM_PATHS,
        competition_statuses=("completed", "active"),
        competition_names={
            "solo": ("Lemma Sprint", "Refactoring Sprint"),
            "head_to_head": ("Conjecture Duels", "Bug Hunt Duels"),
            "tournament": ("Institute Cup", "Theorem Knockout"),
            "challenge": ("Integral Challenge", "Type Checker Challenge"),
        },
        training_records=48,
    ),
    # Two small universities show the other university statuses; their
    # rows are built first, then the status is set.
    DemoUniversity(
        name="Collegium Demo School",
        owner_email="head@collegium.demo.example.org",
        owner_name="Demo Head of the Collegium",
        organization="Collegium Demo Society",
        description="Demo data: a small school, suspended (it accepts no changes).",
        agents_per_type={
            "student": 2,
            "instructor": 1,
            "researcher": 1,
            "specialist": 1,
        },
        max_agents=10,
        max_concurrent_competitions=2,
        paths=SMALL_PATHS,
        training_records=8,
        proposal_endings=("pending", "approved", "rejected"),
        status="suspended",
    ),
    DemoUniversity(
        name="Old Academy Demo",
        owner_email="registrar@old-academy.demo.example.org",
        owner_name="Demo Registrar of the Old Academy",
        organization="Old Academy Demo Trust",
        description="Demo data: a former academy, archived (kept, read-only).",
        agents_per_type={
            "student": 2,
            "instructor": 1,
            "researcher": 1,
            "specialist": 1,
        },
        max_agents=10,
        max_concurrent_competitions=2,
        paths=SMALL_PATHS,
        training_records=8,
        proposal_endings=("completed", "rejected"),
        status="archived",
    ),
)

#: Names the demo agents draw from, one list per type; the seed picks.
AGENT_NAMES = {
    "student": (
        "Ada",
        "Basil",
        "Cora",
        "Dario",
        "Elin",
        "Farah",
        "Gideon",
        "Hana",
        "Ivo",
        "Juno",
        "Kaito",
        "Lena",
        "Milo",
        "Nadia",
        "Orin",
        "Priya",
        "Quill",
        "Rhea",
        "Soren",
        "Tova",
    ),  # fmt: skip
    "instructor": (
        "Professor Euler",
        "Professor Noether",
        "Professor Turing",
        "Professor Hopper",
        "Professor Lovelace",
    ),  # fmt: skip
    "researcher": (
        "Dr. Shannon",
        "Dr. Curie",
        "Dr. Ramanujan",
        "Dr. Franklin",
        "Dr. Hamilton",
        "Dr. Meitner",
    ),  # fmt: skip
    "specialist": (
        "SQL Smith",
        "Regex Wright",
        "Proof Keeper",
        "Lint Warden",
        "Chart Maker",
        "Doc Scribe",
    ),  # fmt: skip
}

SPECIALIZATIONS = {
    "student": ("reasoning", "conversation", "tool_use", "mathematics", "coding"),
    "instructor": ("curriculum design", "assessment"),
    "researcher": ("evaluation", "alignment", "retrieval"),
    "specialist": ("databases", "text processing", "formal proofs", "code review"),
}

MODELS = ("gpt-4o-mini", "claude-3-haiku", "llama-3-8b-instruct", "mistral-7b")
TOOLS = ("python", "search", "calculator", "sql", "browser")


#: What the demo's training records talk about.
TOPICS = (
    "binary search",
    "unit conversion",
    "SQL joins",
    "regular expressions",
    "proof by induction",
    "rate limiting",
    "date arithmetic",
    "retrieval",
)

#: Personal data some records carry, for anonymization to replace. Reserved
#: example domains, documentation IP ranges and fictional numbers only.
CONTACTS = (
    "Write to jane.doe@example.org.",
    "Call me on +44 20 7946 0958.",
    "My server is 203.0.113.42.",
    "Card 4111 1111 1111 1111 expires soon.",
    "Use the key sk-demo1234567890abcdefghijklmnop.",
    "Reach Sam at sam.smith@example.com or +1 202 555 0143.",
)

#: How often the demo draws each data type and source after its first
#: records (in the order of DATA_TYPES and SOURCE_TYPES): agents mostly
#: reason and converse, and most records come from competitions.
DEMO_DATA_TYPE_WEIGHTS = (3, 5, 1, 2)
DEMO_SOURCE_WEIGHTS = (5, 3, 1, 2)

#: The review steps the demo's training records go through, in turn: a
#: third stay pending, the others are validated and/or anonymized, some of
#: those shared or made public (flawed records are mostly rejected instead).
REVIEW_CYCLE = (
    (),
    ("validate",),
    ("anonymize",),
    ("validate", "anonymize", "shared"),
    (),
    ("validate",),
    ("validate", "anonymize"),
    ("anonymize", "public"),
    (),
)

REJECTION_REASONS = (
    "Incomplete: the answer stops halfway.",
    "Off topic for the curriculum.",
    "Duplicate of an earlier record.",
    "The tool call failed; nothing to learn from.",
)

#: Where each demo proposal ends; together they cover every validation and
#: implementation status (a reopened one is pending again with a history, a
#: retried one failed once before it was implemented).
PROPOSAL_ENDINGS = (
    "pending",
    "reopened",
    "rejected",
    "rejected",
    "approved",
    "in_progress",
    "failed",
    "completed",
    "retried",
    "in_progress",
)

PROPOSAL_IDEAS = (
    (
        "Add worked examples to the reasoning levels",
        "Agents that saw a worked example before a challenge scored higher.",
    ),
    (
        "Retry failed tool calls once",
        "Most failed tool-use records end on a transient timeout.",
    ),
    (
        "Shorter conversation turns",
        "Long answers are more often rejected in review as off topic.",
    ),
    (
        "Check answers before concluding",
        "Reasoning records without a verification step fail more often.",
    ),
    (
        "Pair weak students with a researcher",
        "Head-to-head results improve after sparring with stronger agents.",
    ),
    (
        "Raise the passing score of level 1",
        "Level 1 is passed by almost everyone and predicts little.",
    ),
)

IMPLEMENTATION_NOTES = (
    "Change the level's theoretical content and re-run the next cohort.",
    "Update the agents' configuration (tools) and compare a week of results.",
    "Add a check to the evaluation config and monitor the rejection rate.",
)

#: How a simulated learner's run on a path ends; every progress status
#: appears because the learners cycle through these.
ENDINGS = ("in_progress", "failed", "not_started", "retried", "path_done")


@dataclass
class DemoSummary:
    """What a build wrote: the university names and, per university, the
    number of rows of each kind."""

    seed: int
    universities: list[str] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def demo_university_ids(session: Session) -> list[str]:
    """The ids of the universities marked as demo data.

    The marker lives in the JSON settings, which SQLite and PostgreSQL query
    differently; the number of universities is small, so the marker is read
    in Python from (id, settings) pairs.
    """
    rows = session.execute(select(University.id, University.settings)).all()
    return [id_ for id_, settings in rows if (settings or {}).get(DEMO_MARKER) is True]


def has_any_university(session: Session) -> bool:
    """Whether the database holds any university at all."""
    return session.scalar(select(func.count()).select_from(University)) > 0


def delete_demo_universities(session: Session) -> int:
    """Delete every demo university with everything it owns; returns how
    many. Universities without the marker are never touched.

    One ``DELETE`` per university: the database cascades remove its rows in
    the same statement (see ``services.retention.archive_university``).
    """
    ids = demo_university_ids(session)
    for university_id in ids:
        session.execute(delete(University).where(University.id == university_id))
    log.info("deleted %d demo universities", len(ids))
    return len(ids)


def build_demo(
    engine: Engine,
    *,
    seed: int = 0,
    replace: bool = False,
    progress: Progress | None = None,
    data_dir: Path | None = None,
) -> DemoSummary:
    """Fill the database with the demo universities (see the module's rules)
    and import the real result sets of ``data_dir`` (default
    ``config.published_data_dir()``) into them.

    Refused with ``Conflict`` when demo data exists and ``replace`` is
    False. Everything goes in one transaction, replacing included: a failed
    build leaves the database as it was. A missing data folder or file only
    skips that import, with a warning (``DemoSummary.skipped``).
    """
    report = progress or (lambda line: None)
    data_dir = published_data_dir() if data_dir is None else Path(data_dir)
    with read_session(engine) as session:
        existing = demo_university_ids(session)
    if existing and not replace:
        raise Conflict(
            f"The database already holds {len(existing)} demo universities: "
            "run the demo with --replace to rebuild them (only demo "
            "universities are deleted)."
        )

    summary = DemoSummary(seed=seed)
    rng = random.Random(seed)
    with transaction(engine) as session:
        if existing:
            deleted = delete_demo_universities(session)
            report(f"deleted {deleted} demo universities")
        for spec in DEMO_UNIVERSITIES:
            builder = _UniversityBuilder(session, spec, rng, report)
            builder.build()
            summary.universities.append(spec.name)
            summary.counts[spec.name] = builder.counts
        for real in REAL_RESULTS:
            _import_real_results(session, real, data_dir, summary, report)
    report(f"demo ready: {', '.join(summary.universities)}")
    return summary


def load_demo_if_empty(
    engine: Engine, *, seed: int = 0, progress: Progress | None = None
) -> DemoSummary | None:
    """Build the demo only when the database has no university at all
    (``make run`` calls this); returns None when it skipped."""
    with read_session(engine) as session:
        if has_any_university(session):
            return None
    return build_demo(engine, seed=seed, progress=progress)


@dataclass(frozen=True)
class RealResults:
    """A published result set the demo imports through the importer."""

    university: str
    competition: str
    file_name: str
    description: str


#: Real results (``university_models/published_data``, see its README) shown
#: in the demo.
REAL_RESULTS = (
    RealResults(
        university="Lyceum Demo University",
        competition="Arena-Hard judgments (2024)",
        file_name="arena-hard-battles.jsonl",
        description="1,348 pairwise LLM judgments from lmarena/arena-hard-auto",
    ),
    RealResults(
        university="Athenaeum Demo Institute",
        competition="La Liga 2019/20",
        file_name="laliga-2019-20-matches.json",
        description="the 380 matches of the 2019/20 Spanish first division",
    ),
)


def laliga_pairwise_records(matches_json: dict) -> list[dict]:
    """The La Liga file's matches flattened into the importer's pairwise
    records: ``agent_a``/``agent_b`` are the home and away clubs,
    ``score_a``/``score_b`` the full-time goals (``score.ft``), with the
    round and the date. A match without a full-time score is left out."""
    records = []
    for match in matches_json.get("matches", []):
        full_time = (match.get("score") or {}).get("ft")
        if not full_time or len(full_time) != 2:
            log.warning("La Liga match %s without a full-time score skipped", match)
            continue
        records.append(
            {
                "agent_a": match["team1"],
                "agent_b": match["team2"],
                "score_a": full_time[0],
                "score_b": full_time[1],
                "round": _round_number(match.get("round")),
                "played_at": match.get("date"),
            }
        )
    return records


def _round_number(value) -> int | None:
    """The number in a round name such as ``"Jornada 12"`` (12), or None.

    Standings read a match's round as a number, so the club names' league
    rounds are kept as numbers, not as Spanish labels."""
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return int(digits) if digits else None


def _import_real_results(
    session: Session,
    real: RealResults,
    data_dir: Path,
    summary: DemoSummary,
    report: Progress,
) -> None:
    """Import one real result set into its demo university, or skip it with
    a warning when its file is missing."""
    path = data_dir / real.file_name
    if not path.is_file():
        log.warning("demo: %s not found, %s skipped", path, real.competition)
        summary.skipped.append(f"{real.competition}: no file at {path}")
        report(f"skipped {real.competition}: no file at {path}")
        return

    if real.file_name.startswith("laliga"):
        # The file nests the score; the importer reads flat records, so
        # the matches are flattened here and streamed as JSON Lines.
        with open(path, encoding="utf-8") as handle:
            records = laliga_pairwise_records(json.load(handle))
        lines = "".join(json.dumps(record) + "\n" for record in records)
        source = io.BytesIO(lines.encode("utf-8"))
        file_name = "laliga-2019-20-pairwise.jsonl"
    else:
        source, file_name = path, str(path)

    import_report = import_results(
        session,
        source,
        university_name_or_id=real.university,
        competition_name=real.competition,
        competition_type="head_to_head",
        file_name=file_name,
        agent_type="specialist",
    )
    counts = summary.counts.setdefault(real.university, {})
    counts["imported matches"] = (
        counts.get("imported matches", 0) + import_report.matches_written
    )
    # The summary counts the university's agents, the imported ones too.
    counts["agents"] = counts.get("agents", 0) + import_report.agents_created
    report(
        f"{real.university}: imported {real.competition} ({real.description}): "
        f"{import_report.matches_written} matches, "
        f"{import_report.agents_created} agents created"
    )


class _UniversityBuilder:
    """Builds one demo university through the services, step by step."""

    def __init__(
        self, session: Session, spec: DemoUniversity, rng: random.Random, report
    ) -> None:
        self.session = session
        self.spec = spec
        self.rng = rng
        self.report = report
        self.counts: dict[str, int] = {}
        self.university: University | None = None
        self.agents: dict[str, list] = {agent_type: [] for agent_type in AGENT_TYPES}

    def build(self) -> None:
        self.now = utcnow()
        self._university()
        self._agents()
        self._curriculum()
        self._competitions()
        self._training_data()
        self._proposals()
        self._agent_statuses()
        self._settle_history()
        if self.spec.status != "active":
            # Last: a suspended or archived university takes no other write.
            set_university_status(self.session, self.university.id, self.spec.status)
            self.report(f"{self.spec.name}: {self.spec.status}")

    def _university(self) -> None:
        spec = self.spec
        self.university = create_university(
            self.session,
            name=spec.name,
            owner_email=spec.owner_email,
            owner_display_name=spec.owner_name,
            organization=spec.organization,
            description=spec.description,
            settings={DEMO_MARKER: True},
            max_agents=spec.max_agents,
            max_concurrent_competitions=spec.max_concurrent_competitions,
        )
        self.report(f"{spec.name}: university created")

    def _agents(self) -> None:
        rng = self.rng
        for agent_type, count in self.spec.agents_per_type.items():
            names = rng.sample(AGENT_NAMES[agent_type], k=count)
            for name in names:
                agent = create_agent(
                    self.session,
                    self.university.id,
                    name=name,
                    agent_type=agent_type,
                    specialization=rng.choice(SPECIALIZATIONS[agent_type]),
                    description=f"Demo {agent_type}.",
                    configuration={
                        "llm": {
                            "model": rng.choice(MODELS),
                            "temperature": round(rng.uniform(0.0, 1.0), 2),
                        },
                        "tools": sorted(rng.sample(TOOLS, k=rng.randint(1, 3))),
                        "memory": {"window": rng.choice((8, 16, 32))},
                    },
                )
                self.agents[agent_type].append(agent)
        self.counts["agents"] = sum(len(a) for a in self.agents.values())
        self.report(f"{self.spec.name}: {self.counts['agents']} agents")

    # --- curriculum ---------------------------------------------------------

    def _curriculum(self) -> None:
        built = [(demo_path, *self._path(demo_path)) for demo_path in self.spec.paths]
        for demo_path, path, _levels in built:
            if demo_path.status != "active":
                # Authored, levels included, then drafted back or retired.
                set_path_status(self.session, path.id, demo_path.status)
        # Learners study the active paths only.
        self.paths = [
            (demo_path, path, levels)
            for demo_path, path, levels in built
            if demo_path.status == "active"
        ]
        self.counts["curriculum paths"] = len(built)
        self.counts["levels"] = sum(len(levels) for *_, levels in built)

        learners = self.agents["student"] + self.agents["researcher"]
        results = 0
        for index, agent in enumerate(learners if self.paths else []):
            path_number = index % len(self.paths)
            ending = ENDINGS[index % len(ENDINGS)]
            skill = self.rng.uniform(0.65, 0.95)
            clock = self.now - timedelta(days=self.rng.uniform(4, 40))
            demo_path = self.paths[path_number][0]
            if demo_path.min_competency:
                # The path asks for competency: earn it on the first path.
                _, path, levels = self.paths[0]
                results_before, clock = self._study(
                    agent, path, levels, "path_done", skill, clock
                )
                results += results_before
            _, path, levels = self.paths[path_number]
            done, clock = self._study(agent, path, levels, ending, skill, clock)
            results += done
        self.counts["challenge results"] = results
        self.report(
            f"{self.spec.name}: "
            f"{counted_plural(self.counts['curriculum paths'], 'curriculum paths')}, "
            f"{counted_plural(len(learners), 'learners')}, "
            f"{counted_plural(results, 'challenge results')}"
        )

    def _path(self, demo_path: DemoPath):
        rng = self.rng
        prerequisites = []
        if demo_path.min_competency:
            prerequisites.append({"min_competency": demo_path.min_competency})
        path = create_path(
            self.session,
            self.university.id,
            name=demo_path.name,
            description=f"Demo path: {demo_path.name.lower()}.",
            difficulty_level=demo_path.difficulty,
            estimated_duration_hours=demo_path.hours,
            prerequisites=prerequisites,
            tags=list(demo_path.tags),
        )
        levels = []
        for number, level_name in enumerate(demo_path.levels, start=1):
            challenges = [
                {
                    "id": f"{number}.{i}",
                    "prompt": f"{level_name}: exercise {i}",
                    "kind": rng.choice(("short answer", "multi-step", "tool task")),
                }
                for i in range(1, rng.randint(2, 4) + 1)
            ]
            last = number == len(demo_path.levels)
            levels.append(
                add_level(
                    self.session,
                    path.id,
                    name=level_name,
                    description=f"Level {number} of {demo_path.name}.",
                    learning_objectives=[f"{level_name} without help"],
                    challenges=challenges,
                    passing_score=round(0.6 + 0.05 * ((number - 1) // 2), 2),
                    time_limit_minutes=30 + 15 * number,
                    # The last level asks for proven competency, so some
                    # learners visibly wait in front of it.
                    required_competency_score=0.82 if last else 0.0,
                )
            )
        return path, levels

    def _next_time(self, clock: datetime) -> datetime:
        """The time of a learner's next result: a few hours later, never in
        the future."""
        later = clock + timedelta(hours=self.rng.uniform(1, 16))
        return min(later, self.now - timedelta(minutes=1))

    def _record(self, agent, level, index: int, score: float, clock: datetime):
        clock = self._next_time(clock)
        record_challenge_result(
            self.session,
            agent.id,
            level.id,
            challenge_index=index,
            score=round(min(1.0, max(0.0, score)), 3),
            minutes=self.rng.randint(5, level.time_limit_minutes),
            recorded_at=clock,
        )
        return clock

    def _study(self, agent, path, levels, ending: str, skill: float, clock):
        """Enrol ``agent`` in ``path`` and play its results until ``ending``;
        returns (results recorded, the learner's clock)."""
        rng = self.rng
        enrol_agent(self.session, agent.id, path.id)
        if ending == "path_done":
            finish = len(levels)
        else:
            finish = rng.randint(0, len(levels) - 2)
        recorded = 0

        for position, level in enumerate(levels):
            if agent.current_curriculum_level_id != level.id:
                break  # held back by a gate: the reason shows on its page
            if position == finish and ending != "path_done":
                if ending == "in_progress":
                    for index in range(rng.randint(1, level.challenge_count - 1)):
                        clock = self._record(agent, level, index, skill, clock)
                        recorded += 1
                elif ending in ("failed", "retried"):
                    for index in range(level.challenge_count):
                        low = rng.uniform(0.1, level.passing_score - 0.15)
                        clock = self._record(agent, level, index, low, clock)
                        recorded += 1
                    if ending == "retried":
                        retry_level(self.session, agent.id, level.id)
                        clock = self._pass(agent, level, skill, clock)
                        recorded += level.challenge_count
                break
            clock = self._pass(agent, level, skill, clock)
            recorded += level.challenge_count
        return recorded, clock

    def _pass(self, agent, level, skill: float, clock: datetime) -> datetime:
        """Record a passing result for every challenge of ``level``; returns
        the learner's clock."""
        for index in range(level.challenge_count):
            score = max(level.passing_score + 0.02, self.rng.gauss(skill, 0.07))
            clock = self._record(agent, level, index, score, clock)
        return clock

    # --- competitions -------------------------------------------------------

    def _competitions(self) -> None:
        rng = self.rng
        self.skill = {
            agent.id: rng.uniform(0.35, 0.95)
            for agents in self.agents.values()
            for agent in agents
        }
        plan = [
            (competition_type, status, number)
            for competition_type in COMPETITION_TYPES
            for number, status in enumerate(self.spec.competition_statuses)
        ]
        # Oldest first, so that the finished ones no longer count against
        # max_concurrent_competitions when the later ones are scheduled.
        order = {"completed": 0, "cancelled": 1, "active": 2, "scheduled": 3}
        plan.sort(key=lambda item: (order[item[1]], item[2]))

        matches = 0
        self.competitions = []
        for position, (competition_type, status, number) in enumerate(plan):
            name = self.spec.competition_names[competition_type][number]
            competition = self._competition(name, competition_type, status, position)
            self.competitions.append(competition)
            matches += self._match_count(competition)
        self._disqualification_and_match_in_play()
        self.counts["competitions"] = len(self.competitions)
        self.counts["matches"] = matches
        self.report(
            f"{self.spec.name}: {len(self.competitions)} competitions, "
            f"{matches} matches"
        )

    def _disqualification_and_match_in_play(self) -> None:
        """In the first active head-to-head competition a competitor with
        matches still to play is disqualified (they are forfeited to its
        opponents); then the first waiting match of an active competition
        is put in play."""
        active = [c for c in self.competitions if c.status == "active"]
        league = next((c for c in active if c.competition_type == "head_to_head"), None)
        self.disqualified_agent_id = None
        if league is not None:
            waiting = self._waiting_matches(league)
            if waiting:
                cheat = self.session.get(
                    CompetitionParticipant, waiting[-1].participant2_id
                )
                disqualify_participant(self.session, cheat.id)
                self.disqualified_agent_id = cheat.agent_id
        for competition in active:
            waiting = self._waiting_matches(competition)
            if waiting:
                start_match(self.session, waiting[0].id)
                return

    def _waiting_matches(self, competition) -> list:
        return list(
            self.session.scalars(
                select(CompetitionMatch)
                .where(
                    CompetitionMatch.competition_id == competition.id,
                    CompetitionMatch.status == "scheduled",
                )
                .order_by(CompetitionMatch.match_number)
            )
        )

    def _agent_statuses(self) -> None:
        """Agents end in every status: one archived (the disqualified one
        when nothing else holds it, else an instructor, who never competes),
        the first two still competing in an active competition ``competing``,
        the first two studying a level ``training``, one more ``idle``; the
        others stay ``active``."""
        session = self.session
        everyone = sorted(
            (a for agents in self.agents.values() for a in agents),
            key=lambda agent: agent.name,
        )
        by_id = {agent.id: agent for agent in everyone}
        candidates = [by_id.get(self.disqualified_agent_id)] + [
            a for a in everyone if a.agent_type == "instructor"
        ]
        retired = next(
            (
                agent
                for agent in candidates
                if agent is not None and not open_competitions(session, agent.id)
            ),
            None,
        )
        chosen = {retired.id} if retired else set()
        if retired is not None:
            set_agent_status(session, retired.id, "archived")

        active_ids = [c.id for c in self.competitions if c.status == "active"]
        competing = session.scalars(
            select(CompetitionParticipant.agent_id)
            .where(
                CompetitionParticipant.competition_id.in_(active_ids),
                CompetitionParticipant.participant_type == "competitor",
                CompetitionParticipant.status == "active",
            )
            .distinct()
        ).all()
        studying = session.scalars(
            select(AgentProgress.agent_id)
            .join(UniversityAgent, UniversityAgent.id == AgentProgress.agent_id)
            .where(
                UniversityAgent.university_id == self.university.id,
                AgentProgress.curriculum_level_id
                == UniversityAgent.current_curriculum_level_id,
                AgentProgress.status == "in_progress",
            )
        ).all()
        for status, wanted, limit in (
            ("competing", set(competing), 2),
            ("training", set(studying), 2),
            ("idle", set(by_id), 1),
        ):
            picked = [a for a in everyone if a.id in wanted and a.id not in chosen]
            for agent in picked[:limit]:
                set_agent_status(session, agent.id, status)
                chosen.add(agent.id)

    def _match_count(self, competition) -> int:
        return self.session.scalar(
            select(func.count()).where(
                CompetitionMatch.competition_id == competition.id
            )
        )

    def _competition(self, name: str, competition_type: str, status: str, position):
        rng = self.rng
        now = self.now
        if status == "completed":
            start = now - timedelta(days=40 - 5 * position, hours=rng.randint(0, 12))
            end = start + timedelta(days=3)
        elif status == "cancelled":
            start = now - timedelta(days=12 - position % 4, hours=rng.randint(0, 12))
            end = start + timedelta(days=2)
        elif status == "active":
            start = now - timedelta(days=2, hours=rng.randint(0, 12))
            end = now + timedelta(days=3)
        else:
            start = now + timedelta(days=3 + position % 5, hours=rng.randint(0, 12))
            end = start + timedelta(days=2)

        rules: dict = {}
        if competition_type == "tournament":
            rules = {"tie_break": "higher_seed"}
        elif competition_type == "head_to_head" and rng.random() < 0.5:
            rules = {"legs": 2}
        if competition_type in ("head_to_head", "tournament"):
            size = rng.randint(4, 6)
        else:
            size = rng.randint(5, 8)
        competitors = rng.sample(self._players(), k=size)
        competition = schedule_competition(
            self.session,
            self.university.id,
            name=name,
            competition_type=competition_type,
            rules=rules,
            evaluation_config={
                "judge": rng.choice(("exact match", "rubric", "pairwise judge")),
                "samples": rng.choice((20, 50, 100)),
            },
            scheduled_start=start,
            scheduled_end=end,
            max_participants=size + rng.randint(0, 3),
            description=f"Demo {in_words(competition_type)} competition.",
            benchmark_id=f"demo-{competition_type}-{position + 1}",
        )

        by_skill = sorted(competitors, key=lambda agent: -self.skill[agent.id])
        for seed, agent in enumerate(by_skill, start=1):
            add_participant(
                self.session,
                competition.id,
                agent.id,
                seed_ranking=seed if competition_type == "tournament" else None,
            )
        # Instructors never compete: they judge pairwise play and observe
        # solo and challenge runs.
        instructors = [a for a in self.agents["instructor"] if a not in competitors]
        if instructors:
            add_participant(
                self.session,
                competition.id,
                rng.choice(instructors).id,
                participant_type=(
                    "judge"
                    if competition_type in ("head_to_head", "tournament")
                    else "observer"
                ),
            )

        if status == "scheduled":
            return competition
        if status == "cancelled" and position % 2 == 0:
            cancel_competition(self.session, competition.id)
            return competition

        start_competition(self.session, competition.id, started_at=start)
        if status == "completed":
            self._play(competition, start, end, share=1.0)
            complete_competition(self.session, competition.id, completed_at=end)
        elif status == "active":
            self._play(competition, start, now, share=0.5)
        else:
            self._play(competition, start, end, share=0.3)
            cancel_competition(self.session, competition.id)
        return competition

    def _players(self) -> list:
        """Agents that compete: everyone but the instructors, who judge."""
        return [
            agent
            for agent_type in ("student", "researcher", "specialist")
            for agent in self.agents[agent_type]
        ]

    def _play(self, competition, start: datetime, end: datetime, share: float):
        """Record results for ``share`` of the competition's matches, in
        match order, at times spread over the window; a tournament plays
        round after round as its next matches appear."""
        rng = self.rng
        seats = {
            participant.id: participant.agent_id
            for participant in self.session.scalars(
                select(CompetitionParticipant).where(
                    CompetitionParticipant.competition_id == competition.id
                )
            )
        }
        played = 0
        while True:
            waiting = self.session.scalars(
                select(CompetitionMatch)
                .where(
                    CompetitionMatch.competition_id == competition.id,
                    CompetitionMatch.status == "scheduled",
                )
                .order_by(CompetitionMatch.match_number)
            ).all()
            total = self._match_count(competition)
            if not waiting or played >= share * total:
                return
            for match in waiting:
                if played >= share * total:
                    return
                when = start + (end - start) * rng.uniform(0.05, 0.95)
                first = self._score(competition, seats[match.participant1_id])
                if match.participant2_id is None:
                    record_match_result(
                        self.session,
                        match.id,
                        participant1_score=first,
                        completed_at=when,
                    )
                else:
                    second = self._score(competition, seats[match.participant2_id])
                    record_match_result(
                        self.session,
                        match.id,
                        participant1_score=first,
                        participant2_score=second,
                        completed_at=when,
                    )
                played += 1

    def _score(self, competition, agent_id: str) -> float:
        """A result drawn around the agent's skill: a score in [0, 1] for
        solo and challenge, points out of 10 (draws happen) for pairwise."""
        skill = self.skill[agent_id]
        if competition.competition_type in ("solo", "challenge"):
            return round(min(1.0, max(0.0, self.rng.gauss(skill, 0.1))), 3)
        return float(min(10, max(0, round(self.rng.gauss(skill * 10, 1.5)))))

    # --- training data ------------------------------------------------------

    def _training_data(self) -> None:
        rng = self.rng
        writers = self._players()
        competitions = [c for c in self.competitions if c.status != "scheduled"]
        records = []
        pairs = len(DATA_TYPES) * len(SOURCE_TYPES)
        for number in range(self.spec.training_records):
            # The first records go through every pair of type and source once;
            # after them the seed draws, some far more often than others, so
            # that the sources-by-types heatmap has something to show.
            if number < pairs:
                data_type = DATA_TYPES[number % len(DATA_TYPES)]
                source_type = SOURCE_TYPES[number // len(DATA_TYPES)]
            else:
                data_type = rng.choices(DATA_TYPES, DEMO_DATA_TYPE_WEIGHTS)[0]
                source_type = rng.choices(SOURCE_TYPES, DEMO_SOURCE_WEIGHTS)[0]
            source_id = None
            if source_type == "competition" and competitions:
                source_id = rng.choice(competitions).id
            # The first records are flawless, once and twice flawed, so
            # that quality spreads whatever the seed.
            flaws = number if number < 3 else rng.choices((0, 1, 2), (60, 25, 15))[0]
            record = collect_training_data(
                self.session,
                self.university.id,
                agent_id=rng.choice(writers).id,
                source_type=source_type,
                data_type=data_type,
                raw_data=_raw_document(rng, data_type, flaws=flaws),
                source_id=source_id,
                metadata={"demo": True, "batch": number // 25 + 1},
                collected_at=self.now - timedelta(days=rng.uniform(0, 30)),
            )
            records.append(record)

        # Review along a fixed cycle, so that every status and privacy level
        # appears whatever the seed; most flawed records are rejected.
        for number, record in enumerate(records):
            step = REVIEW_CYCLE[number % len(REVIEW_CYCLE)]
            flawed = record.quality_score < 1.0
            if flawed and (number < 3 or rng.random() < 0.6):
                reason = rng.choice(REJECTION_REASONS)
                reject_record(self.session, record.id, reason)
                continue
            if "validate" in step:
                validate_record(self.session, record.id)
            if "anonymize" in step:
                anonymize_record(self.session, record.id)
            for level in ("shared", "public"):
                if level in step:
                    set_privacy_level(self.session, record.id, level)
        self.training_records = records
        self.counts["training records"] = len(records)
        self.report(f"{self.spec.name}: {len(records)} training records")

    # --- proposals ----------------------------------------------------------

    def _proposals(self) -> None:
        rng = self.rng
        sources = [
            r for r in self.training_records if r.validation_status != "rejected"
        ]
        owner = self.spec.owner_email
        reviewers = (owner, "reviewer@demo.example.org", "system")
        proposals = []
        for number, ending in enumerate(self.spec.proposal_endings or PROPOSAL_ENDINGS):
            title, description = PROPOSAL_IDEAS[
                (number + rng.randrange(len(PROPOSAL_IDEAS))) % len(PROPOSAL_IDEAS)
            ]
            generated_by = GENERATORS[number % len(GENERATORS)]
            source = (
                rng.choice(sources).id
                if generated_by == "professor_agent" and sources
                else None
            )
            proposal = create_proposal(
                self.session,
                self.university.id,
                title=f"{title} ({number + 1})",
                description=description,
                implementation_details=rng.choice(IMPLEMENTATION_NOTES),
                expected_improvement=round(rng.uniform(0.01, 0.15), 3),
                source_data_collection_id=source,
                generated_by=generated_by,
            )
            self._decide_proposal(proposal.id, ending, rng.choice(reviewers))
            proposals.append(proposal)
        self.counts["proposals"] = len(proposals)
        self.report(f"{self.spec.name}: {len(proposals)} improvement proposals")

    def _decide_proposal(self, proposal_id: str, ending: str, reviewer: str) -> None:
        """Take a pending proposal along the transitions to ``ending``."""
        session = self.session
        if ending == "pending":
            return
        if ending in ("rejected", "reopened"):
            reject_proposal(
                session,
                proposal_id,
                decided_by=reviewer,
                reason="The expected gain is not backed by the data yet.",
            )
            if ending == "reopened":
                reopen_proposal(
                    session,
                    proposal_id,
                    decided_by=reviewer,
                    reason="New validated records support it.",
                )
            return

        approve_proposal(session, proposal_id, decided_by=reviewer)
        if ending == "approved":
            return
        start_implementation(session, proposal_id)
        if ending == "in_progress":
            return
        if ending == "retried":
            finish_implementation(session, proposal_id, succeeded=False)
            start_implementation(session, proposal_id)
            ending = "completed"
        finish_implementation(session, proposal_id, succeeded=ending == "completed")

    # --- history --------------------------------------------------------------

    def _settle_history(self) -> None:
        """Move the times the services stamped at build time back into the
        weeks of history the demo tells.

        Rule: the services stamp the moment of the call (``utcnow``) where
        they take no time, and the demo builds its history in one
        transaction; left so, every agent, path, competition and decision
        would be minutes old and the Overview's seven-day changes would
        count the whole demo as new. So, before anything else of the history:
        the university 90 days ago, its paths and levels 75, its agents 55
        to 60; a competition three days before it was due to start (its
        participants an hour later); a review decision one to 72 hours after
        its record was collected; a proposal some hours after the record it
        came from (else 5 to 25 days ago), each decision of its history some
        hours after the one before, never later than a minute ago. Times the
        services took from the demo (results, matches, collection) stay."""
        rng = self.rng
        session = self.session
        university_id = self.university.id
        latest = self.now - timedelta(minutes=1)

        def hours_after(moment: datetime, low: float, high: float) -> datetime:
            return min(moment + timedelta(hours=rng.uniform(low, high)), latest)

        self.university.created_at = self.now - timedelta(days=90)
        for path in session.scalars(
            select(CurriculumPath).where(CurriculumPath.university_id == university_id)
        ):
            path.created_at = self.now - timedelta(days=75)
            for level in session.scalars(
                select(CurriculumLevel).where(
                    CurriculumLevel.curriculum_path_id == path.id
                )
            ):
                level.created_at = path.created_at
        for agent in session.scalars(
            select(UniversityAgent).where(
                UniversityAgent.university_id == university_id
            )
        ):
            agent.created_at = self.now - timedelta(days=rng.uniform(55, 60))

        for competition in session.scalars(
            select(Competition).where(Competition.university_id == university_id)
        ):
            due = competition.scheduled_start or self.now
            created = min(due, self.now) - timedelta(days=3)
            competition.created_at = created
            for participant in competition.participants:
                participant.joined_at = created + timedelta(hours=1)

        for record in session.scalars(
            select(TrainingDataCollection).where(
                TrainingDataCollection.university_id == university_id,
                TrainingDataCollection.validated_at.is_not(None),
            )
        ):
            record.validated_at = hours_after(record.collected_at, 1, 72)

        for proposal in session.scalars(
            select(ImprovementProposal).where(
                ImprovementProposal.university_id == university_id
            )
        ):
            self._settle_proposal(proposal, hours_after)

    def _settle_proposal(
        self, proposal: ImprovementProposal, hours_after: Callable
    ) -> None:
        """A proposal's created, decided and implemented times, in order."""
        source = proposal.source_record
        if source is not None:
            moment = hours_after(source.collected_at, 1, 24)
        else:
            moment = self.now - timedelta(days=self.rng.uniform(5, 25))
        proposal.created_at = moment

        history = []
        for entry in proposal.validation_results or []:
            moment = hours_after(moment, 2, 36)
            history.append({**entry, "at": moment.isoformat()})
        proposal.validation_results = history
        if proposal.validated_at is not None:
            # The last approval or rejection (a reopening clears it).
            proposal.validated_at = datetime.fromisoformat(history[-1]["at"])
        if proposal.implemented_at is not None:
            proposal.implemented_at = hours_after(moment, 12, 96)


def _raw_document(rng: random.Random, data_type: str, *, flaws: int) -> dict:
    """A training record's raw data of ``data_type`` with ``flaws`` (0 to 2)
    defects of the kind the quality checks look for, so that the quality
    scores spread. Some carry personal data, so that anonymization has
    something to replace."""
    topic = rng.choice(TOPICS)
    contact = rng.choice(CONTACTS) if rng.random() < 0.4 else ""
    if data_type == "conversation":
        messages = [
            {"role": "user", "content": f"Can you help me with {topic}? {contact}"},
            {"role": "assistant", "content": f"Yes: here is how {topic} works."},
            {"role": "user", "content": "Thanks, and an example?"},
            {"role": "assistant", "content": f"An example of {topic} follows."},
        ][: rng.choice((2, 4))]
        if flaws >= 1:
            messages.append({"role": "user", "content": " "})
        if flaws >= 2:
            messages[0]["role"] = "assistant"
        return {"messages": messages}

    if data_type == "reasoning":
        steps = [f"Step {i}: consider {topic}." for i in range(1, rng.randint(3, 5))]
        document = {
            "question": f"Why does {topic} matter? {contact}".strip(),
            "steps": steps,
            "conclusion": f"{topic.capitalize()} matters because it generalises.",
        }
        if flaws >= 1:
            document.pop("conclusion")
        if flaws >= 2:
            document["steps"] = steps[:1] + [""]
        return document

    if data_type == "tool_use":
        arguments = {"query": topic}
        if contact:
            arguments["note"] = contact
        document = {
            "tool": rng.choice(TOOLS),
            "arguments": arguments,
            "result": f"3 results about {topic}",
        }
        if flaws >= 1:
            document["error"] = "timeout after 30 s"
            document.pop("result")
        if flaws >= 2:
            document["arguments"] = topic
        return document

    document = {
        "problem": f"Implement {topic} and test it. {contact}".strip(),
        "solution": f"def solve():  # {topic}\n    return 42",
        "tests": [{"name": f"test_{i}", "passed": True} for i in range(3)],
    }
    if flaws >= 1:
        document["tests"][-1]["passed"] = False
    if flaws >= 2:
        document.pop("solution")
    return document
