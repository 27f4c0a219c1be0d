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
* Demo universities carry the marker ``settings["demo"] = true``. A build
  refuses to run while any demo university exists unless ``replace=True``;
  replacing deletes the demo universities only (and everything they own),
  never a university a user made.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from university_models.db import read_session, transaction
from university_models.errors import Conflict
from university_models.models import AGENT_TYPES, University
from university_models.services.agents import create_agent
from university_models.services.universities import create_university

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
) -> DemoSummary:
    """Fill the database with the demo universities (see the module's rules).

    Refused with ``Conflict`` when demo data exists and ``replace`` is
    False. The universities and everything built through the services go in
    one transaction: a failed build leaves no half demo behind.
    """
    report = progress or (lambda line: None)
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
        self._university()
        self._agents()

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
