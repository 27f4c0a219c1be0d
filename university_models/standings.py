"""Competition rules and the standings they produce.

A competition's ``rules`` JSON object says how its matches are scored and how
its competitors are ranked. This module reads those rules (refusing values it
cannot apply) and computes a competition's standings, aggregated in SQL over
its completed matches.
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_left
from dataclasses import dataclass
from numbers import Real
from typing import Any

import pandas as pd
from sqlalchemy import JSON, Integer, and_, case, cast, func, literal, select, union_all
from sqlalchemy import type_coerce as coerce
from sqlalchemy.orm import Session

from university_models.errors import InvalidInput, NotFound
from university_models.models import (
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    UniversityAgent,
)

log = logging.getLogger(__name__)

PAIRWISE_TYPES = ("head_to_head", "tournament")
SCORE_ORDERS = ("higher_is_better", "lower_is_better")

#: How an elimination match with equal scores is decided, when the rules say.
ELIMINATION_TIE_BREAKS = ("participant1", "higher_seed")

DEFAULT_POINTS = {"win": 3, "draw": 1, "loss": 0}
DEFAULT_TIE_BREAKS = {
    "head_to_head": ("points", "score_difference", "score_for"),
    "tournament": ("stage", "points", "score_difference", "score_for"),
    "solo": ("average_score",),
    "challenge": ("average_score",),
}

#: Every standings column a rule may rank by, and whether more is better.
#: Score columns flip when the rules say lower scores are better.
TIE_BREAK_DIRECTIONS = {
    "points": "more",
    "wins": "more",
    "losses": "fewer",
    "score_difference": "more_score",
    "score_for": "more_score",
    "score_against": "fewer_score",
    "average_score": "more_score",
    "stage": "more",
}

STANDINGS_COLUMNS = [
    "rank",
    "participant_id",
    "agent_id",
    "agent",
    "seed_ranking",
    "matches",
    "wins",
    "draws",
    "losses",
    "points",
    "score_for",
    "score_against",
    "score_difference",
    "average_score",
    "stage",
]


@dataclass(frozen=True)
class CompetitionRules:
    """The rules of one competition that the services and standings apply."""

    competition_type: str
    legs: int
    score_order: str
    tie_break: str | None
    points: dict[str, float]
    tie_breaks: tuple[str, ...]

    @property
    def lower_is_better(self) -> bool:
        return self.score_order == "lower_is_better"


def _number(value: Any) -> bool:
    return (
        isinstance(value, Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def parse_rules(
    rules: dict[str, Any] | None, competition_type: str
) -> CompetitionRules:
    """Read the ranking and scoring rules out of a competition's ``rules``.

    Rules (the spec is silent; every key is optional, unknown keys are kept
    for other uses such as time limits):

    * ``legs``: 1 (default) or 2; a two-legged round robin plays every pair
      twice with the sides swapped.
    * ``score_order``: ``higher_is_better`` (default) or ``lower_is_better``.
    * ``tie_break``: how an elimination (tournament) match with equal scores
      is decided: ``participant1`` or ``higher_seed``; without it such a
      match needs an explicit winner.
    * ``points``: ``{"win": 3, "draw": 1, "loss": 0}`` by default; any key
      may be given alone, values are finite numbers.
    * ``tie_breaks``: the ranking order, a non-empty list of distinct names
      from ``points``, ``wins``, ``losses``, ``score_difference``,
      ``score_for``, ``score_against``, ``average_score`` and (tournaments
      only) ``stage``. Defaults: points, score difference, score for
      (head to head); stage, points, score difference, score for
      (tournament); average score (solo, challenge).
    """
    rules = rules or {}

    legs = rules.get("legs", 1)
    if legs not in (1, 2) or isinstance(legs, bool):
        raise InvalidInput(f"rules legs {legs!r} is not allowed: use 1 or 2.")

    score_order = rules.get("score_order", "higher_is_better")
    if score_order not in SCORE_ORDERS:
        raise InvalidInput(
            f"rules score_order {score_order!r} is not allowed: use one of "
            f"{', '.join(SCORE_ORDERS)}."
        )

    tie_break = rules.get("tie_break")
    if tie_break is not None and tie_break not in ELIMINATION_TIE_BREAKS:
        raise InvalidInput(
            f"rules tie_break {tie_break!r} is not allowed: use one of "
            f"{', '.join(ELIMINATION_TIE_BREAKS)} or leave it out."
        )

    points = _parse_points(rules.get("points", {}))
    tie_breaks = _parse_tie_breaks(
        rules.get("tie_breaks", DEFAULT_TIE_BREAKS[competition_type]),
        competition_type,
    )
    return CompetitionRules(
        competition_type=competition_type,
        legs=legs,
        score_order=score_order,
        tie_break=tie_break,
        points=points,
        tie_breaks=tie_breaks,
    )


def _parse_points(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise InvalidInput(
            f"rules points {value!r} is not allowed: give an object such as "
            '{"win": 3, "draw": 1, "loss": 0}.'
        )
    unknown = sorted(set(value) - set(DEFAULT_POINTS))
    if unknown:
        raise InvalidInput(
            f"rules points has unknown keys {', '.join(unknown)}: use win, draw "
            "and loss."
        )
    points = dict(DEFAULT_POINTS)
    for key, number in value.items():
        if not _number(number):
            raise InvalidInput(
                f"rules points {key} {number!r} is not a finite number: give one."
            )
        points[key] = number
    return points


def _parse_tie_breaks(value: Any, competition_type: str) -> tuple[str, ...]:
    allowed = [
        name
        for name in TIE_BREAK_DIRECTIONS
        if name != "stage" or competition_type == "tournament"
    ]
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput(
            f"rules tie_breaks {value!r} is not allowed: give a non-empty list "
            f"of {', '.join(allowed)}."
        )
    for name in value:
        if name not in allowed:
            raise InvalidInput(
                f"rules tie_breaks names {name!r}, which a {competition_type} "
                f"competition cannot rank by: use {', '.join(allowed)}."
            )
    if len(set(value)) != len(value):
        raise InvalidInput(
            f"rules tie_breaks {list(value)!r} names a column twice: name each once."
        )
    return tuple(value)


def _bracket_round(dialect: str):
    """``match_config["round"]`` as an integer when it is a JSON integer, else
    NULL: imported matches may carry rounds such as "Jornada 1", which a
    plain cast would refuse (PostgreSQL) or read as 0 (SQLite)."""
    config = CompetitionMatch.match_config
    if dialect == "postgresql":
        is_integer = and_(
            func.json_typeof(coerce(config, JSON)["round"]) == "number",
            coerce(config, JSON)["round"].as_string().regexp_match("^-?[0-9]+$"),
        )
    else:
        is_integer = func.json_type(config, "$.round") == "integer"
    return case(
        (is_integer, cast(coerce(config, JSON)["round"].as_string(), Integer)),
        else_=None,
    )


def _sides(competition: Competition, dialect: str):
    """One row per competitor per completed match, seen from that side."""
    match = CompetitionMatch
    done = and_(match.competition_id == competition.id, match.status == "completed")
    round_number = (
        _bracket_round(dialect)
        if competition.competition_type == "tournament"
        else literal(None, Integer)
    )
    first = select(
        match.participant1_id.label("participant_id"),
        match.participant2_id.label("opponent_id"),
        match.participant1_score.label("score_for"),
        match.participant2_score.label("score_against"),
        match.winner_participant_id.label("winner_id"),
        round_number.label("round"),
    ).where(done)
    second = select(
        match.participant2_id,
        match.participant1_id,
        match.participant2_score,
        match.participant1_score,
        match.winner_participant_id,
        round_number,
    ).where(done, match.participant2_id.is_not(None))
    return union_all(first, second).subquery("sides")


def _aggregate(session: Session, competition: Competition, rules: CompetitionRules):
    sides = _sides(competition, session.get_bind().dialect.name)
    pairwise = sides.c.opponent_id.is_not(None)
    won = and_(pairwise, sides.c.winner_id == sides.c.participant_id)
    drawn = and_(pairwise, sides.c.winner_id.is_(None))
    lost = and_(
        pairwise,
        sides.c.winner_id.is_not(None),
        sides.c.winner_id != sides.c.participant_id,
    )
    wins = func.coalesce(func.sum(case((won, 1), else_=0)), 0)
    draws = func.coalesce(func.sum(case((drawn, 1), else_=0)), 0)
    losses = func.coalesce(func.sum(case((lost, 1), else_=0)), 0)
    points = (
        wins * literal(rules.points["win"])
        + draws * literal(rules.points["draw"])
        + losses * literal(rules.points["loss"])
    )
    # The furthest a competitor got in a bracket: the round of its last match,
    # plus one when it won that match (the champion is one past the final).
    stage = func.coalesce(func.max(sides.c["round"] + case((won, 1), else_=0)), 0)
    score_for = func.coalesce(func.sum(sides.c.score_for), 0.0)
    score_against = func.coalesce(func.sum(sides.c.score_against), 0.0)

    statement = (
        select(
            CompetitionParticipant.id.label("participant_id"),
            UniversityAgent.id.label("agent_id"),
            UniversityAgent.name.label("agent"),
            CompetitionParticipant.seed_ranking,
            func.count(sides.c.participant_id).label("matches"),
            wins.label("wins"),
            draws.label("draws"),
            losses.label("losses"),
            points.label("points"),
            score_for.label("score_for"),
            score_against.label("score_against"),
            (score_for - score_against).label("score_difference"),
            func.avg(sides.c.score_for).label("average_score"),
            stage.label("stage"),
        )
        .join(UniversityAgent, UniversityAgent.id == CompetitionParticipant.agent_id)
        .outerjoin(sides, sides.c.participant_id == CompetitionParticipant.id)
        .where(
            CompetitionParticipant.competition_id == competition.id,
            CompetitionParticipant.participant_type == "competitor",
        )
        .group_by(
            CompetitionParticipant.id,
            UniversityAgent.id,
            UniversityAgent.name,
            CompetitionParticipant.seed_ranking,
        )
    )
    return session.execute(statement).mappings().all()


def drawn_bracket(session: Session, competition: Competition) -> bool:
    """Whether the competition is a tournament whose bracket the service
    drew at its start (its matches carry a bracket ``slot``; an imported
    tournament's rounds are its own)."""
    if competition.competition_type != "tournament":
        return False
    first = session.scalar(
        select(CompetitionMatch.match_config)
        .where(CompetitionMatch.competition_id == competition.id)
        .order_by(CompetitionMatch.match_number, CompetitionMatch.id)
        .limit(1)
    )
    return isinstance(first, dict) and "slot" in first


def bracket_places(entrants: int) -> int:
    """The places of a bracket for ``entrants``: the power of two at or
    above it (the places left over are byes)."""
    return 1 << max(entrants - 1, 0).bit_length()


def _seeded_competitors(competition: Competition):
    return select(CompetitionParticipant.id).where(
        CompetitionParticipant.competition_id == competition.id,
        CompetitionParticipant.participant_type == "competitor",
        CompetitionParticipant.seed_ranking.is_not(None),
    )


def bracket_size(session: Session, competition: Competition) -> int:
    """The places of the tournament's bracket: ``bracket_places`` of its
    seeded competitors (disqualified ones keep their places)."""
    seeded = session.scalar(
        select(func.count()).select_from(_seeded_competitors(competition).subquery())
    )
    return bracket_places(seeded)


def bracket_byes(session: Session, competition: Competition) -> list[str]:
    """The participant ids of the competitors who go through the first round
    of a drawn bracket without playing (a bye), best seed first; empty for
    any other competition.

    Rule (``services.competitions``): the bracket holds every seeded
    competitor in a bracket of the next power of two; the places left over
    are byes, and they fall to the top seeds."""
    if not drawn_bracket(session, competition):
        return []
    seeded = session.scalars(
        _seeded_competitors(competition).order_by(CompetitionParticipant.seed_ranking)
    ).all()
    return list(seeded[: bracket_places(len(seeded)) - len(seeded)])


def _rank_key(row: dict[str, Any], rules: CompetitionRules) -> tuple[float, ...]:
    """A tuple that sorts the better row first; a missing value sorts last."""
    key = []
    for name in rules.tie_breaks:
        direction = TIE_BREAK_DIRECTIONS[name]
        value = row[name]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            key.append(math.inf)
            continue
        more_is_better = (
            direction == "more"
            or (direction == "more_score" and not rules.lower_is_better)
            or (direction == "fewer_score" and rules.lower_is_better)
        )
        key.append(-float(value) if more_is_better else float(value))
    return tuple(key)


def shared_ranks(keys: list[tuple[float, ...]]) -> list[int]:
    """Competition ranks for sort keys (smaller is better): equal keys share a
    rank and the next rank skips, as in 1, 2, 2, 4. (Ranks from rating
    intervals are ``ratings.interval_ranks``.)"""
    ordered = sorted(keys)
    return [1 + bisect_left(ordered, key) for key in keys]


def compute_standings(
    session: Session, competition_id: str, *, university_id: str | None = None
) -> pd.DataFrame:
    """The standings of one competition: one row per competitor.

    Rules: only completed matches count (scheduled and cancelled ones do
    not). A win, draw or loss is a completed match with two participants;
    a draw has no winner. Points use ``rules["points"]`` (default win 3,
    draw 1, loss 0); ``score_for``/``score_against`` sum the competitor's and
    its opponents' scores and ``average_score`` is the mean of its own
    scores. ``stage`` is how far a tournament competitor got (its furthest
    round, plus one for winning it; a bye counts as reaching round 2). Rows
    are ranked by ``rules["tie_breaks"]`` (see ``parse_rules``); rows equal
    on every tie-break share a rank
    (1, 2, 2, 4) and are listed by agent name. Scores count the other way
    when ``rules["score_order"]`` is ``lower_is_better``. With
    ``university_id`` a competition of another university is not found.
    """
    competition = session.get(Competition, competition_id)
    if competition is None or (
        university_id is not None and competition.university_id != university_id
    ):
        raise NotFound(f"No competition has the id {competition_id!r} here.")
    rules = parse_rules(competition.rules, competition.competition_type)

    rows = [dict(row) for row in _aggregate(session, competition, rules)]
    # A bye reaches round 2 without a match: as far as a round-1 winner.
    byes = set(bracket_byes(session, competition))
    for row in rows:
        for name in ("score_for", "score_against", "score_difference"):
            row[name] = float(row[name])
        row["average_score"] = (
            float(row["average_score"]) if row["average_score"] is not None else None
        )
        row["points"] = _plain_number(row["points"])
        if competition.competition_type != "tournament":
            # Rounds of a round robin or a solo competition are not stages.
            row["stage"] = 0
        elif row["participant_id"] in byes:
            row["stage"] = max(row["stage"], 2)

    keys = [_rank_key(row, rules) for row in rows]
    for row, rank in zip(rows, shared_ranks(keys), strict=True):
        row["rank"] = rank
    rows.sort(key=lambda row: (row["rank"], row["agent"], row["participant_id"]))

    frame = pd.DataFrame(rows, columns=STANDINGS_COLUMNS)
    frame["average_score"] = frame["average_score"].astype(float)
    log.debug("standings of competition %s: %d rows", competition_id, len(frame))
    return frame


def _plain_number(value: Any) -> float | int:
    """Points as an int when they are whole (3 * W + D), else a float."""
    value = float(value)
    return int(value) if value.is_integer() else value
