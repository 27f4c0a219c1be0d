"""Competitions: scheduling, participants, the matches a start generates,
matches in play, results and their corrections, disqualification,
completion and cancellation.

Status changes follow the spec: a competition is ``scheduled``, then
``active``, then ``completed``; ``cancelled`` from scheduled or active. A
match is ``scheduled``, ``active`` once in play (``start_match``),
``completed`` with a result, or ``cancelled``. A participant is
``registered``, ``active`` from the start, ``completed`` at completion, or
``disqualified`` (``disqualify_participant``). Every other change is refused
with ``InvalidTransition`` naming the current status.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from numbers import Real
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from university_models.db import utcnow
from university_models.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
)
from university_models.models import (
    COMPETITION_TYPES,
    PARTICIPANT_TYPES,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    UniversityAgent,
)
from university_models.services.agents import refresh_agent_counters
from university_models.services.training_data import CLOCK_SKEW
from university_models.services.universities import (
    FIELD_WORDS,
    clean_name,
    clean_text,
    json_error_text,
    lock_university_for_write,
    storable_json,
    tidy_name,
    too_deep,
)
from university_models.services.validation import (
    INTEGER_MAX,
    number_text,
    shown_time,
    whole_number,
)
from university_models.standings import (
    PAIRWISE_TYPES,
    CompetitionRules,
    bracket_places,
    bracket_size,
    compute_standings,
    drawn_bracket,
    parse_rules,
)
from university_models.wording import counted

log = logging.getLogger(__name__)

#: The fewest competitors a competition of each type can start with.
MIN_COMPETITORS = {"solo": 1, "challenge": 1, "head_to_head": 2, "tournament": 2}

#: Competitions that hold a slot of ``max_concurrent_competitions``.
OPEN_STATUSES = ("scheduled", "active")

#: Matches that still wait for a result.
UNFINISHED_MATCH_STATUSES = ("scheduled", "active")

#: The largest magnitude of a match score: scores are from -1e9 to 1e9
#: unless the competition's ``rules["score_range"]`` narrows them. Sums and
#: means of a million such scores stay exact enough in a double, and a
#: mistyped 1e308 cannot turn an agent's average into nonsense.
MATCH_SCORE_LIMIT = 1e9

#: The default ``(lowest, highest)`` match score.
DEFAULT_SCORE_RANGE = (-MATCH_SCORE_LIMIT, MATCH_SCORE_LIMIT)

#: How a refusal names each side's score: the Competitions page's words,
#: then the argument's name.
SCORE_WORDS = {
    "participant1_score": "score of the first side (participant1_score)",
    "participant2_score": "score of the second side (participant2_score)",
}


# --- reading and locking -------------------------------------------------


def find_competition(
    session: Session, university_id: str, name: str
) -> Competition | None:
    """The competition of the university called ``name`` (case-insensitive,
    surrounding spaces ignored), or None."""
    return session.scalars(
        select(Competition).where(
            Competition.university_id == university_id,
            func.lower(Competition.name) == func.lower(tidy_name(name)),
        )
    ).one_or_none()


def _in_scope(owner_id: str | None, university_id: str | None) -> bool:
    """Rule (isolation): with ``university_id`` given, a row of another
    university is treated as missing, so its existence is not revealed."""
    return owner_id is not None and university_id in (None, owner_id)


def _where(university_id: str | None) -> str:
    return f" in university {university_id!r}" if university_id else ""


def _lock_competition(
    session: Session, competition_id: str, university_id: str | None = None
) -> Competition:
    """Lock the competition's university for a write, then load the
    competition fresh (another writer may have changed it while we waited).
    With ``university_id``, a competition of another university is
    ``NotFound``."""
    owner_id = session.scalar(
        select(Competition.university_id).where(Competition.id == competition_id)
    )
    if not _in_scope(owner_id, university_id):
        raise NotFound(
            f"No competition has the id {competition_id!r}{_where(university_id)}."
        )
    lock_university_for_write(session, owner_id)
    return session.get(Competition, competition_id, populate_existing=True)


def _match_owner(session: Session, match_id: str, university_id: str | None) -> str:
    """The id of the match's university; with ``university_id``, a match of
    another university is ``NotFound``."""
    owner_id = session.scalar(
        select(Competition.university_id)
        .join(CompetitionMatch, CompetitionMatch.competition_id == Competition.id)
        .where(CompetitionMatch.id == match_id)
    )
    if not _in_scope(owner_id, university_id):
        raise NotFound(f"No match has the id {match_id!r}{_where(university_id)}.")
    return owner_id


def _lock_match(
    session: Session, match_id: str, university_id: str | None = None
) -> CompetitionMatch:
    """Lock the match's university, then load the match and its competition
    fresh. With ``university_id``, a match of another university is
    ``NotFound``."""
    lock_university_for_write(session, _match_owner(session, match_id, university_id))
    match = session.get(CompetitionMatch, match_id, populate_existing=True)
    session.get(Competition, match.competition_id, populate_existing=True)
    return match


def _with_article(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _require_status(competition: Competition, allowed: tuple[str, ...], action: str):
    if competition.status not in allowed:
        raise InvalidTransition(
            f"Competition {competition.name!r} is {competition.status}: it cannot "
            f"{action} (only {_with_article(' or '.join(allowed))} competition "
            "can)."
        )


def _agent_name(session: Session, participant_id: str | None) -> str | None:
    """The name of the agent behind a participant, or None."""
    if participant_id is None:
        return None
    return session.scalar(
        select(UniversityAgent.name)
        .join(
            CompetitionParticipant,
            CompetitionParticipant.agent_id == UniversityAgent.id,
        )
        .where(CompetitionParticipant.id == participant_id)
    )


def _competitors(
    session: Session, competition: Competition, *, playing_only: bool = True
):
    """The competitors in join order (observers and judges do not play);
    without the disqualified ones unless ``playing_only`` is False."""
    query = select(CompetitionParticipant).where(
        CompetitionParticipant.competition_id == competition.id,
        CompetitionParticipant.participant_type == "competitor",
    )
    if playing_only:
        query = query.where(CompetitionParticipant.status != "disqualified")
    return list(
        session.scalars(
            query.order_by(
                CompetitionParticipant.joined_at, CompetitionParticipant.id
            ).execution_options(populate_existing=True)
        )
    )


def _participants(
    session: Session, competition: Competition
) -> list[CompetitionParticipant]:
    """Every participant, read fresh (observers and judges included)."""
    return list(
        session.scalars(
            select(CompetitionParticipant)
            .where(CompetitionParticipant.competition_id == competition.id)
            .execution_options(populate_existing=True)
        )
    )


def _matches(session: Session, competition: Competition) -> list[CompetitionMatch]:
    return list(
        session.scalars(
            select(CompetitionMatch)
            .where(CompetitionMatch.competition_id == competition.id)
            .order_by(CompetitionMatch.match_number)
            .execution_options(populate_existing=True)
        )
    )


# --- checking input ------------------------------------------------------


def _json_object(value: Any, what: str) -> dict[str, Any]:
    """A JSON object given as a dict or as JSON text, as a plain copy.

    Rule: NaN and Infinity are refused (JSON cannot store them)."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except RecursionError:
            raise too_deep(what) from None
        except json.JSONDecodeError as error:
            raise InvalidInput(
                f"{what} is not valid JSON ({json_error_text(error)}): "
                "give a JSON object such as {}."
            ) from error
    if not isinstance(value, dict):
        raise InvalidInput(
            f"{what} must be a JSON object, not {type(value).__name__} {value!r}."
        )
    return storable_json(value, what=what)


def _aware(value: Any, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(f"{what} {value!r} is not a date and time: give one.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{what} {shown_time(value)} has no time zone: give it one (UTC)."
        )
    return value


def _not_future(value: datetime, what: str) -> datetime:
    """Rule (the clock-skew rule of collecting training data): a time may be
    at most ``CLOCK_SKEW`` (five minutes) ahead of this machine's clock;
    anything later is refused, since a result dated in the future would
    hold the match's time, the agents' ``last_competed_at`` and the order of
    later results hostage until that moment."""
    latest = utcnow() + CLOCK_SKEW
    if value > latest:
        raise InvalidInput(
            f"{what} {shown_time(value)} is in the future (more than "
            f"{CLOCK_SKEW.total_seconds() / 60:g} minutes after now, "
            f"{shown_time(utcnow())}): give the time it happened."
        )
    return value


def range_text(limits: tuple[float, float]) -> str:
    """Score limits as a person reads them: "0 to 100", "-1,000,000,000 to
    1,000,000,000"."""
    return " to ".join(
        f"{int(bound):,}" if float(bound).is_integer() else f"{bound:g}"
        for bound in limits
    )


def score_range(rules: dict[str, Any] | None) -> tuple[float, float]:
    """The lowest and highest match score a competition's ``rules`` allow.

    Rule: ``rules["score_range"]``, when given, is a list ``[lowest,
    highest]`` of two finite numbers (not booleans) within -1e9 to 1e9,
    lowest strictly below highest; without it scores are from -1e9 to 1e9
    (``MATCH_SCORE_LIMIT``). Refused with ``InvalidInput`` naming the value
    (``schedule_competition`` checks it before a competition is stored)."""
    value = (rules or {}).get("score_range")
    if value is None:
        return DEFAULT_SCORE_RANGE
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(
            isinstance(bound, Real)
            and not isinstance(bound, bool)
            and math.isfinite(float(bound))
            and abs(float(bound)) <= MATCH_SCORE_LIMIT
            for bound in value
        )
        or not float(value[0]) < float(value[1])
    ):
        raise InvalidInput(
            f"rules score_range {value!r} is not allowed: give [lowest, highest], "
            "two numbers from -1,000,000,000 to 1,000,000,000 with the lowest "
            "first, such as [0, 100], or leave it out."
        )
    return float(value[0]), float(value[1])


def match_score(
    value: Any,
    *,
    what: str,
    limits: tuple[float, float] = DEFAULT_SCORE_RANGE,
) -> float:
    """``value`` as a float; ``InvalidInput`` naming ``what`` (a noun phrase:
    "score of the first side (participant1_score)") and the value
    otherwise.

    Rule: a match score is a finite number (not a boolean, NaN or an
    infinity) from ``limits[0]`` to ``limits[1]`` inclusive: the
    competition's ``score_range`` (``score_range``), by default -1e9 to 1e9.
    ``record_match_result`` and the results importer check scores here."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InvalidInput(
            f"The {what} {value!r} is not a number: give a finite score from "
            f"{range_text(limits)}."
        )
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(
            f"The {what} {number_text(value)} is not a finite number: give a "
            f"score from {range_text(limits)}."
        )
    if not limits[0] <= number <= limits[1]:
        where = (
            "the competition's score_range"
            if limits != DEFAULT_SCORE_RANGE
            else "the range of a match score"
        )
        raise InvalidInput(
            f"The {what} {number_text(value)} is outside {range_text(limits)} "
            f"({where}): give a score within it."
        )
    return number


# --- scheduling ----------------------------------------------------------


def schedule_competition(
    session: Session,
    university_id: str,
    *,
    name: str,
    competition_type: str,
    rules: dict[str, Any] | str | None = None,
    evaluation_config: dict[str, Any] | str | None = None,
    scheduled_start: datetime,
    scheduled_end: datetime,
    max_participants: int = 10,
    description: str | None = None,
    benchmark_id: str | None = None,
    records_history: bool = False,
) -> Competition:
    """Schedule a competition in a university.

    Rules: the name is trimmed, non-empty, at most 255 characters, one line
    without control characters (``clean_name``) and unique in the
    university ignoring case (the importer and the CLI find competitions by
    name; a taken name is ``Conflict``, as for university, agent and path
    names); the description is free text whose only control characters are
    tabs and line breaks, the benchmark id one line of at most 255
    characters. The type is one of ``COMPETITION_TYPES``; ``rules`` and
    ``evaluation_config`` are JSON objects (dicts or JSON text, default
    ``{}``), the rules must be ones ``parse_rules`` can apply and their
    ``score_range``, when given, one ``score_range`` accepts.
    The window has time-zone aware ends, start strictly before end.
    ``max_participants`` (competitors) is a whole number from 1 to
    2,147,483,647 (``whole_number``). Quota: at no moment of the new
    window may the scheduled or active competitions running then (a missing
    start or end counts as open-ended; windows that only touch do not
    overlap), plus the new one, exceed the university's
    ``max_concurrent_competitions``; the refusal names the busiest moment
    and the competitions running at it (``_busiest_moment``). With
    ``records_history=True`` the quota is not checked (every other rule
    is): the competition records matches played elsewhere and its caller
    completes it in the same transaction (``importers.import_results``), so
    it never runs and never takes a concurrent-competition slot.
    """
    university = lock_university_for_write(session, university_id)

    name = clean_name(name, what="competition name")
    description = clean_text(description, what="competition description")
    benchmark_id = clean_text(
        benchmark_id, what="benchmark id", max_length=255, single_line=True
    )
    if competition_type not in COMPETITION_TYPES:
        raise InvalidInput(
            f"Competition type {competition_type!r} is unknown: use one of "
            f"{', '.join(COMPETITION_TYPES)}."
        )
    rules = _json_object(rules, "rules")
    parse_rules(rules, competition_type)
    score_range(rules)
    evaluation_config = _json_object(evaluation_config, "evaluation_config")

    start = _aware(scheduled_start, "scheduled_start")
    end = _aware(scheduled_end, "scheduled_end")
    if not start < end:
        raise InvalidInput(
            f"The start {shown_time(start)} is not before the end "
            f"{shown_time(end)}: move the end after the start."
        )
    max_participants = whole_number(
        max_participants, what="competitor limit (max_participants)"
    )

    existing = find_competition(session, university_id, name)
    if existing is not None:
        raise Conflict(
            f"University {university.name!r} already has a competition called "
            f"{existing.name!r}: choose another name."
        )

    overlapping = session.scalars(
        select(Competition)
        .where(
            Competition.university_id == university_id,
            Competition.status.in_(OPEN_STATUSES),
            (Competition.scheduled_start.is_(None))
            | (Competition.scheduled_start < end),
            (Competition.scheduled_end.is_(None)) | (Competition.scheduled_end > start),
        )
        .order_by(Competition.scheduled_start, Competition.name)
    ).all()
    moment, running = _busiest_moment(overlapping, start, end)
    if (
        not records_history
        and len(running) + 1 > university.max_concurrent_competitions
    ):
        names = ", ".join(repr(other.name) for other in running)
        raise QuotaExceeded(
            f"University {university.name!r} allows "
            f"{university.max_concurrent_competitions} concurrent competitions and "
            f"{len(running)} already run at {shown_time(moment)} ({names}), within "
            f"the window {shown_time(start)} to {shown_time(end)}: move the window "
            f"or raise its {FIELD_WORDS['max_concurrent_competitions']}."
        )

    competition = Competition(
        university_id=university_id,
        name=name,
        description=description,
        competition_type=competition_type,
        rules=rules,
        evaluation_config=evaluation_config,
        benchmark_id=benchmark_id,
        scheduled_start=start,
        scheduled_end=end,
        max_participants=max_participants,
        status="scheduled",
    )
    session.add(competition)
    session.flush()
    log.info("scheduled %s competition %s in %s", competition_type, name, university_id)
    return competition


def _busiest_moment(
    competitions: list[Competition], start: datetime, end: datetime
) -> tuple[datetime, list[Competition]]:
    """The moment of the window ``[start, end)`` at which most of these
    competitions run, and those competitions (in the order given).

    Every competition given overlaps the window; each is clipped to it (a
    missing start or end reaches the window's edge). The count only rises
    where a competition starts, so the busiest moment is one of the clipped
    starts; windows are half-open, so one ending as another starts does not
    run with it. Quadratic, but over the few open competitions of one
    university's window."""
    clipped = [
        (
            max(start, other.scheduled_start or start),
            min(end, other.scheduled_end or end),
            other,
        )
        for other in competitions
    ]
    busiest: tuple[datetime, list[Competition]] = (start, [])
    for moment, _, _ in clipped:
        running = [other for begins, ends, other in clipped if begins <= moment < ends]
        if len(running) > len(busiest[1]):
            busiest = (moment, running)
    return busiest


def add_participant(
    session: Session,
    competition_id: str,
    agent_id: str,
    *,
    participant_type: str = "competitor",
    seed_ranking: int | None = None,
    university_id: str | None = None,
) -> CompetitionParticipant:
    """Enter an agent into a scheduled competition.

    Rules: only while the competition is scheduled; the agent belongs to
    the competition's university (an agent of another university is
    ``NotFound`` with the message of a missing one: isolation) and is not
    archived; each agent once per competition; at most ``max_participants``
    competitors (observers and judges do not count and do not play, nor
    does a disqualified competitor); ``seed_ranking`` is a whole number from
    1 to 2,147,483,647, unique in the competition, and only competitors
    have one.
    With ``university_id``, a competition of another university is
    ``NotFound``.
    """
    competition = _lock_competition(session, competition_id, university_id)
    _require_status(competition, ("scheduled",), "take new participants")

    if participant_type not in PARTICIPANT_TYPES:
        raise InvalidInput(
            f"Participant type {participant_type!r} is unknown: use one of "
            f"{', '.join(PARTICIPANT_TYPES)}."
        )
    agent = session.get(UniversityAgent, agent_id)
    if agent is None or agent.university_id != competition.university_id:
        raise NotFound(
            f"No agent has the id {agent_id!r} in the university of "
            f"{competition.name!r}: enter one of its own agents."
        )
    if agent.status == "archived":
        raise InvalidInput(
            f"Agent {agent.name!r} is archived: set it active before entering it."
        )

    participants = _participants(session, competition)
    if any(other.agent_id == agent_id for other in participants):
        raise InvalidInput(
            f"Agent {agent.name!r} already takes part in {competition.name!r}: "
            "each agent enters once."
        )
    competitors = [
        p
        for p in participants
        if p.participant_type == "competitor" and p.status != "disqualified"
    ]
    if participant_type == "competitor" and (
        len(competitors) >= competition.max_participants
    ):
        raise QuotaExceeded(
            f"Competition {competition.name!r} already has "
            f"{len(competitors)} of {competition.max_participants} competitors: "
            "raise max_participants or enter the agent as an observer."
        )

    if seed_ranking is not None:
        if participant_type != "competitor":
            raise InvalidInput(
                f"A {participant_type} does not play, so it has no seed: leave "
                f"seed_ranking {seed_ranking!r} out."
            )
        seed_ranking = whole_number(seed_ranking, what="seed (seed_ranking)")
        if any(other.seed_ranking == seed_ranking for other in participants):
            raise InvalidInput(
                f"Seed {seed_ranking} is already taken in {competition.name!r}: "
                "give each competitor its own seed."
            )

    participant = CompetitionParticipant(
        competition_id=competition.id,
        agent_id=agent_id,
        participant_type=participant_type,
        seed_ranking=seed_ranking,
        status="registered",
        joined_at=utcnow(),
    )
    session.add(participant)
    session.flush()
    return participant


# --- starting: generating the matches ------------------------------------


def start_competition(
    session: Session,
    competition_id: str,
    *,
    started_at: datetime | None = None,
    university_id: str | None = None,
) -> Competition:
    """Start a scheduled competition and generate its matches.

    Rules: only a scheduled competition starts; not when the university
    already has ``max_concurrent_competitions`` active; with at least one
    competitor (solo, challenge) or two (head to head, tournament). The
    matches: solo and challenge one per competitor without an opponent;
    head to head a round robin (``round_robin_rounds``), twice with the sides
    swapped when ``rules["legs"]`` is 2; tournament a single-elimination
    bracket (``bracket_positions``): unseeded competitors first get the seeds
    after the highest given seed, in join order, so that the bracket is
    recorded in the data (all are renumbered 1..n in that order when those
    seeds would pass 2,147,483,647: ``_assign_missing_seeds``); byes go to
    the top seeds; a later-round match is created once both of its feeders
    are decided. Competitors disqualified
    before the start take no part (no match, no seed). Participants become
    active, ``actual_start`` is set (``started_at``, default now, not in
    the future beyond ``CLOCK_SKEW``). With
    ``university_id``, a competition of another university is ``NotFound``.
    """
    competition = _lock_competition(session, competition_id, university_id)
    _require_status(competition, ("scheduled",), "start")
    rules = parse_rules(competition.rules, competition.competition_type)
    started_at = (
        _not_future(_aware(started_at, "started_at"), "started_at")
        if started_at
        else utcnow()
    )

    university = competition.university
    active = session.scalars(
        select(Competition.name).where(
            Competition.university_id == competition.university_id,
            Competition.status == "active",
        )
    ).all()
    if len(active) >= university.max_concurrent_competitions:
        raise QuotaExceeded(
            f"University {university.name!r} already has {len(active)} active "
            f"competitions ({', '.join(map(repr, sorted(active)))}), its "
            f"{FIELD_WORDS['max_concurrent_competitions']}: complete or cancel "
            "one first, or raise the quota."
        )

    competitors = _competitors(session, competition)
    needed = MIN_COMPETITORS[competition.competition_type]
    if len(competitors) < needed:
        raise InvalidInput(
            f"Competition {competition.name!r} has {len(competitors)} competitors "
            f"and a {competition.competition_type} competition needs at least "
            f"{needed}: add competitors first."
        )

    if competition.competition_type in ("solo", "challenge"):
        for number, competitor in enumerate(competitors, start=1):
            _add_match(session, competition, number, competitor, None, {"round": 1})
    elif competition.competition_type == "head_to_head":
        _generate_round_robin(session, competition, competitors, rules)
    else:
        for withdrawn in _competitors(session, competition, playing_only=False):
            if withdrawn.status == "disqualified":
                # Disqualified before the start: no place in the bracket.
                withdrawn.seed_ranking = None
        _assign_missing_seeds(competitors)
        session.flush()
        _reconcile_bracket(session, competition)

    for participant in _participants(session, competition):
        if participant.status != "disqualified":
            participant.status = "active"
    competition.actual_start = started_at
    competition.status = "active"
    session.flush()
    log.info("started competition %s", competition.id)
    return competition


def _add_match(
    session: Session,
    competition: Competition,
    number: int,
    first: CompetitionParticipant,
    second: CompetitionParticipant | None,
    config: dict[str, Any],
) -> CompetitionMatch:
    match = CompetitionMatch(
        competition_id=competition.id,
        match_number=number,
        participant1_id=first.id,
        participant2_id=second.id if second is not None else None,
        match_config=config,
        status="scheduled",
    )
    session.add(match)
    return match


def round_robin_rounds(count: int) -> list[list[tuple[int, int]]]:
    """The rounds of a single round robin between ``count`` entrants, by the
    circle method: every pair meets once and nobody plays twice in a round.
    Pairs are indexes ``(home, away)``.

    Rule (home and away balance): every entrant's home count differs from
    its away count by at most 1; with an odd field they are equal. An odd
    field of n puts the entrants on a circle of n and in round r pairs
    ``r + i`` (home) with ``r - i`` (away) for i = 1 .. (n - 1) / 2, while
    entrant r rests: an entrant is home against the entrants an even step
    behind it and away against the others, (n - 1) / 2 of each. An even
    field keeps entrant 0 off the circle of the other n - 1, meeting the
    one that would rest, home in rounds 1, 3, 5, ... and away in the others.
    """
    if count < 2:
        return []
    odd = count % 2 == 1
    circle = count if odd else count - 1
    # With an even field entrant 0 stands in the middle of the circle.
    first = 0 if odd else 1
    rounds = []
    for number in range(circle):
        pairs = []
        if not odd:
            resting = number + first
            pairs.append((0, resting) if number % 2 == 0 else (resting, 0))
        for step in range(1, (circle - 1) // 2 + 1):
            home = (number + step) % circle + first
            away = (number - step) % circle + first
            pairs.append((home, away))
        rounds.append(pairs)
    return rounds


def _generate_round_robin(
    session: Session,
    competition: Competition,
    competitors: list[CompetitionParticipant],
    rules: CompetitionRules,
) -> None:
    rounds = round_robin_rounds(len(competitors))
    number = 0
    for leg in range(1, rules.legs + 1):
        for round_index, pairs in enumerate(rounds):
            round_number = (leg - 1) * len(rounds) + round_index + 1
            for home, away in pairs:
                if leg == 2:
                    home, away = away, home
                number += 1
                _add_match(
                    session,
                    competition,
                    number,
                    competitors[home],
                    competitors[away],
                    {"round": round_number, "leg": leg},
                )


def bracket_positions(size: int) -> list[int]:
    """Seed numbers in bracket order for a bracket of ``size`` (a power of
    two): seed 1 meets the last seed, and the top two seeds can only meet in
    the final (8: 1, 8, 4, 5, 2, 7, 3, 6)."""
    positions = [1]
    while len(positions) < size:
        total = 2 * len(positions) + 1
        positions = [seed for top in positions for seed in (top, total - top)]
    return positions


def _assign_missing_seeds(competitors: list[CompetitionParticipant]) -> None:
    """Give the unseeded competitors the seeds after the highest given seed,
    in join order.

    Rule: when those seeds would pass 2,147,483,647 (the largest the
    database stores; a seed may be that large), every competitor is
    renumbered 1..n in the same order instead: the bracket depends only on
    the order of the seeds, so it is the same bracket."""
    given = [p.seed_ranking for p in competitors if p.seed_ranking is not None]
    unseeded = [p for p in competitors if p.seed_ranking is None]
    if max(given, default=0) + len(unseeded) > INTEGER_MAX:
        order = _seeded([p for p in competitors if p.seed_ranking is not None])
        for number, participant in enumerate(order + unseeded, start=1):
            participant.seed_ranking = number
        return
    next_seed = max(given, default=0)
    for participant in unseeded:
        next_seed += 1
        participant.seed_ranking = next_seed


def _seeded(competitors: list[CompetitionParticipant]) -> list[CompetitionParticipant]:
    return sorted(competitors, key=lambda p: p.seed_ranking)


def _slot_key(match: CompetitionMatch) -> tuple[int, int] | None:
    config = match.match_config or {}
    if "round" in config and "slot" in config:
        return int(config["round"]), int(config["slot"])
    return None


#: The ``match_config`` key that marks a match won by forfeit.
FORFEIT = "forfeit"


class _Empty:
    """The outcome of a bracket slot that nobody comes out of."""

    def __repr__(self) -> str:
        return "EMPTY"


#: A slot of the bracket that sends nobody on (see ``_slot_outcome``).
EMPTY = _Empty()


def _bracket_entrants(
    session: Session, competition: Competition
) -> tuple[int, list[CompetitionParticipant | None]]:
    """The bracket's size and its first-round places in bracket order (None
    for a bye). The bracket holds every competitor with a seed, those
    disqualified after the start included: they keep their places."""
    competitors = _seeded(
        [
            p
            for p in _competitors(session, competition, playing_only=False)
            if p.seed_ranking is not None
        ]
    )
    size = bracket_places(len(competitors))
    entrants = [
        competitors[seed - 1] if seed <= len(competitors) else None
        for seed in bracket_positions(size)
    ]
    return size, entrants


def _slot_outcome(
    round_number: int,
    slot: int,
    entrants: list[CompetitionParticipant | None],
    by_slot: dict[tuple[int, int], CompetitionMatch],
    disqualified: frozenset[str] = frozenset(),
):
    """Who comes out of slot ``slot`` of ``round_number``: a participant id,
    ``EMPTY`` when nobody does, or None while it is undecided.

    A completed match (a forfeit included) sends its winner on; a match
    cancelled because both of its sides were disqualified sends nobody. A
    first-round place without a match is a
    bye (its entrant goes on at once); a later slot without a match is
    decided only when one of its feeders is ``EMPTY`` (the other then goes
    on without playing)."""
    match = by_slot.get((round_number, slot))
    if match is not None:
        if match.status == "completed":
            return match.winner_participant_id
        if match.status == "cancelled":
            sides = (match.participant1_id, match.participant2_id)
            staying = [side for side in sides if side not in disqualified]
            if len(staying) == 1:
                return staying[0]
            if not staying:
                return EMPTY
        return None
    if round_number == 1:
        first, second = entrants[2 * slot], entrants[2 * slot + 1]
        survivor = first or second
        return survivor.id if survivor is not None else EMPTY
    feeders = [
        _slot_outcome(
            round_number - 1, 2 * slot + side, entrants, by_slot, disqualified
        )
        for side in (0, 1)
    ]
    if None in feeders:
        return None
    if feeders[0] is EMPTY:
        return feeders[1]
    if feeders[1] is EMPTY:
        return feeders[0]
    return None


def _void(match: CompetitionMatch) -> None:
    """Back to ``scheduled``: no scores, no winner, not started, not
    forfeited."""
    match.status = "scheduled"
    match.participant1_score = None
    match.participant2_score = None
    match.winner_participant_id = None
    match.started_at = None
    match.completed_at = None
    if FORFEIT in (match.match_config or {}):
        match.match_config = {
            key: value for key, value in match.match_config.items() if key != FORFEIT
        }


def _forfeit_if_disqualified(
    match: CompetitionMatch, disqualified: frozenset[str]
) -> bool:
    """Settle an unplayed match that a disqualified competitor would play;
    whether it did.

    Rule: its opponent wins by forfeit (the match is ``completed`` without
    scores, ``match_config["forfeit"]`` is true, ``completed_at`` now);
    without an opponent who may play (a solo match, or both sides
    disqualified) it is ``cancelled`` instead and counts for nobody."""
    sides = [side for side in (match.participant1_id, match.participant2_id) if side]
    if match.status not in UNFINISHED_MATCH_STATUSES or not set(sides) & disqualified:
        return False
    staying = [side for side in sides if side not in disqualified]
    if not staying:
        match.status = "cancelled"
        match.started_at = None
        return True
    match.status = "completed"
    match.participant1_score = None
    match.participant2_score = None
    match.winner_participant_id = staying[0]
    match.completed_at = utcnow()
    match.match_config = {**(match.match_config or {}), FORFEIT: True}
    return True


def _reconcile_bracket(session: Session, competition: Competition) -> set[str]:
    """Make the bracket's matches agree with the results; returns the ids of
    the participants of every match voided or removed (their counters
    change).

    Rules: a first-round match exists for every place where two entrants
    meet (created at the start). A later-round match exists exactly when
    both of its feeders are decided and each sends a participant on: it is
    created then, numbered with the lowest match number not in use (so
    numbers stay 1..n without gaps), and removed when a corrected result
    leaves a feeder undecided again. When its entrants are no longer its
    feeders' winners (a corrected result changed one), the new winner takes
    the old one's place and the match is voided back to ``scheduled`` (its
    scores, winner and times cleared); the matches further down that it
    decided are then removed in turn, so the bracket never keeps a result
    played by someone who should not have been there. A match that is to be
    played by a disqualified competitor is settled at once
    (``_forfeit_if_disqualified``): its opponent wins by forfeit and goes
    on."""
    size, entrants = _bracket_entrants(session, competition)
    disqualified = frozenset(
        p.id
        for p in _competitors(session, competition, playing_only=False)
        if p.status == "disqualified"
    )
    rounds = size.bit_length() - 1
    matches = _matches(session, competition)
    by_slot = {key: m for m in matches if (key := _slot_key(m)) is not None}
    in_use = {m.match_number for m in matches}
    touched: set[str] = set()

    def next_number() -> int:
        number = 1
        while number in in_use:
            number += 1
        in_use.add(number)
        return number

    for slot in range(size // 2):
        first, second = entrants[2 * slot], entrants[2 * slot + 1]
        if first is not None and second is not None and (1, slot) not in by_slot:
            config = {
                "round": 1,
                "slot": slot,
                "rounds": rounds,
                "seeds": [first.seed_ranking, second.seed_ranking],
            }
            by_slot[(1, slot)] = _add_match(
                session, competition, next_number(), first, second, config
            )

    for round_number in range(2, rounds + 1):
        for slot in range(size // 2**round_number):
            feeders = [
                _slot_outcome(
                    round_number - 1, 2 * slot + side, entrants, by_slot, disqualified
                )
                for side in (0, 1)
            ]
            playable = all(f is not None and f is not EMPTY for f in feeders)
            match = by_slot.get((round_number, slot))
            if match is None:
                if playable:
                    by_slot[(round_number, slot)] = match = CompetitionMatch(
                        competition_id=competition.id,
                        match_number=next_number(),
                        participant1_id=feeders[0],
                        participant2_id=feeders[1],
                        match_config={
                            "round": round_number,
                            "slot": slot,
                            "rounds": rounds,
                        },
                        status="scheduled",
                    )
                    session.add(match)
                    if _forfeit_if_disqualified(match, disqualified):
                        touched.update((match.participant1_id, match.participant2_id))
                continue
            sides = [match.participant1_id, match.participant2_id]
            if not playable:
                # A feeder is undecided again: this match should not exist.
                touched.update(side for side in sides if side)
                in_use.discard(match.match_number)
                del by_slot[(round_number, slot)]
                session.delete(match)
                continue
            if sides != feeders:
                touched.update(side for side in sides if side)
                match.participant1_id, match.participant2_id = feeders
                _void(match)
            if _forfeit_if_disqualified(match, disqualified):
                touched.update(feeders)
    session.flush()
    # The competition's loaded list of matches may hold removed ones.
    session.expire(competition, ["matches"])
    return touched


# --- results ------------------------------------------------------------


def record_match_result(
    session: Session,
    match_id: str,
    *,
    participant1_score: float,
    participant2_score: float | None = None,
    winner_participant_id: str | None = None,
    completed_at: datetime | None = None,
    university_id: str | None = None,
    expected_reopens: list[ReopenedMatch] | None = None,
) -> CompetitionMatch:
    """Record (or correct) the result of a match.

    Rules: only in an active competition (a completed one takes corrections
    only, below), and not on a cancelled match.
    Scores are finite numbers from -1e9 to 1e9, or within the competition's
    ``rules["score_range"]`` when it has one (``match_score``, refusing with
    the side and the value); a match with an opponent needs both, a solo
    match only the first (and has no winner). The winner is the side with
    the better score (higher, or lower when ``rules["score_order"]`` is
    ``lower_is_better``). An explicit ``winner_participant_id`` must be one
    of the two sides and may not contradict the scores: it decides a match
    with equal scores (a judge's decision, a shoot-out). Equal scores
    without one are a draw in a round robin; a tournament (elimination)
    match cannot end drawn: its ``rules["tie_break"]`` decides
    (``participant1``: the first side; ``higher_seed``: the better seed),
    else the result is refused. ``completed_at`` (aware, default now, at
    most ``CLOCK_SKEW`` ahead of now: see ``_not_future``, and not before
    the match's ``started_at`` when it was started) is kept on the match.
    A match in play (``active``) takes its result like a scheduled one; a
    match won by forfeit (``disqualify_participant``) takes none.
    With ``university_id``, a match of another university is ``NotFound``.

    Corrections: recording again on a completed match corrects it, and
    everything derived follows. A correction that keeps the winner changes
    that match only. In a tournament bracket, one that changes the winner
    reopens the bracket behind it (``_reconcile_bracket``): the new winner
    takes the old winner's place in the next-round match, which is voided
    back to ``scheduled`` if it was played or in play, and the matches
    created further down from it are removed, to be created again as the
    replayed results decide them. The counters of every agent of the
    corrected, voided and removed matches are recomputed. A correction
    keeps the match's ``completed_at`` unless a new one is given. In a
    completed competition corrections are allowed when they reopen nothing
    (a completed competition never gets back an unplayed match): a
    tournament correction that would change who plays a later match is
    refused (``InvalidTransition``, naming it); otherwise the competitors'
    ``ranking``, ``final_score`` and the competition's ``winner_agent_id``
    are recomputed as ``complete_competition`` sets them. The returned
    match's ``reopened`` lists the later matches whose results (or play)
    the correction discarded (``ReopenedMatch``; ``correction_reopens``
    gives the same list before anything is written). With
    ``expected_reopens`` (what a person was asked to confirm, from
    ``correction_reopens``), a correction that would now reopen other
    matches or other results (someone recorded one since the question) is
    refused (``Conflict``) and nothing is written.
    """
    match = _lock_match(session, match_id, university_id)
    competition = session.get(Competition, match.competition_id)
    first, second, winner, completed_at = _checked_result(
        session,
        match,
        competition,
        participant1_score=participant1_score,
        participant2_score=participant2_score,
        winner_participant_id=winner_participant_id,
        completed_at=completed_at,
    )
    correcting_completed = (
        competition.status == "completed" and match.status == "completed"
    )
    # Read before the write: what the correction is about to discard.
    reopened = _reopened_by(session, match, competition, winner)
    if expected_reopens is not None and list(reopened) != list(expected_reopens):
        raise Conflict(
            f"Correcting match {match.match_number} of {competition.name!r} would "
            f"now reopen {_reopens_words(reopened)}, not what you confirmed: a "
            "result was recorded meanwhile. Look at the matches again, then "
            "correct it again."
        )

    corrected = match.status == "completed"
    match.participant1_score = first
    match.participant2_score = second
    match.winner_participant_id = winner
    match.completed_at = completed_at
    match.status = "completed"
    session.flush()

    touched = {match.participant1_id, match.participant2_id} - {None}
    if _slot_key(match) is not None and competition.status == "active":
        # Only bracket matches advance a bracket: an imported tournament's
        # matches have no slot, and no bracket to fill in.
        touched |= _reconcile_bracket(session, competition)
    _refresh_participants(session, touched)
    if correcting_completed:
        _rank_competitors(session, competition)
    match.reopened = reopened
    log.info(
        "%s result of match %s: %s to %s; reopened %s",
        "corrected" if corrected else "recorded",
        match.id,
        first,
        second,
        [later.match_id for later in reopened],
    )
    return match


@dataclass(frozen=True)
class ReopenedMatch:
    """A later match that a correction reopens, as it stands before the
    correction: played (``completed``, with its scores) or in play
    (``active``). ``removed``: the match is deleted, to be created again
    once the bracket decides who plays it (every reopened match but the
    corrected match's own next one, which is voided and kept)."""

    match_id: str
    match_number: int
    status: str
    agent1: str | None
    agent2: str | None
    participant1_score: float | None
    participant2_score: float | None
    removed: bool = False


def correction_reopens(
    session: Session,
    match_id: str,
    *,
    participant1_score: Any,
    participant2_score: Any = None,
    winner_participant_id: str | None = None,
    completed_at: datetime | None = None,
    university_id: str | None = None,
) -> list[ReopenedMatch]:
    """The later matches whose results (or play) recording this result on
    ``match_id`` would discard, by match number; nothing is written or
    locked, so a page can ask before ``record_match_result``.

    Rule (``record_match_result``'s corrections): only a correction that
    changes the winner of a bracket match of an active tournament reopens
    anything: the next-round match it feeds and every match further down
    from it. Of those, the played ones (not walkovers, which are settled
    again by themselves) and the ones in play are listed; an unplayed one
    loses nothing. A first result, a correction that keeps the winner, and
    a round-robin, solo or challenge result reopen nothing (an empty list).
    The refusals are those of ``record_match_result``, with the same
    messages, so a refused result is refused here already. With
    ``university_id``, a match of another university is ``NotFound``."""
    _match_owner(session, match_id, university_id)
    match = session.get(CompetitionMatch, match_id, populate_existing=True)
    competition = session.get(Competition, match.competition_id)
    _, _, winner, _ = _checked_result(
        session,
        match,
        competition,
        participant1_score=participant1_score,
        participant2_score=participant2_score,
        winner_participant_id=winner_participant_id,
        completed_at=completed_at,
    )
    return list(_reopened_by(session, match, competition, winner))


def _reopens_words(reopened: tuple[ReopenedMatch, ...]) -> str:
    """The reopened matches as a refusal names them: "match 3 (played 0 – 2)"."""
    if not reopened:
        return "no played match"
    return " and ".join(
        f"match {later.match_number} ("
        + (
            f"played {number_text(later.participant1_score)} – "
            f"{number_text(later.participant2_score)})"
            if later.status == "completed"
            else "in play)"
        )
        for later in reopened
    )


def _reopened_by(
    session: Session,
    match: CompetitionMatch,
    competition: Competition,
    winner: str | None,
) -> tuple[ReopenedMatch, ...]:
    """What giving ``match`` (still as stored) the winner ``winner``
    discards; see ``correction_reopens`` for the rule."""
    if (
        competition.status != "active"
        or match.status != "completed"
        or match.winner_participant_id == winner
    ):
        return ()

    reopened = []
    following = _next_round_match(session, match)
    later = following
    while later is not None:
        played = later.status == "completed" and not (later.match_config or {}).get(
            FORFEIT
        )
        if played or later.status == "active":
            reopened.append(
                ReopenedMatch(
                    match_id=later.id,
                    match_number=later.match_number,
                    status=later.status,
                    agent1=_agent_name(session, later.participant1_id),
                    agent2=_agent_name(session, later.participant2_id),
                    participant1_score=later.participant1_score,
                    participant2_score=later.participant2_score,
                    removed=later is not following,
                )
            )
        later = _next_round_match(session, later)
    return tuple(reopened)


def _checked_result(
    session: Session,
    match: CompetitionMatch,
    competition: Competition,
    *,
    participant1_score: Any,
    participant2_score: Any,
    winner_participant_id: str | None,
    completed_at: datetime | None,
) -> tuple[float, float | None, str | None, datetime]:
    """The scores, winner and ``completed_at`` a result would be stored
    with, after every refusal of ``record_match_result`` (whose rules these
    are); nothing is written."""
    correcting_completed = (
        competition.status == "completed" and match.status == "completed"
    )
    if not correcting_completed:
        _require_status(competition, ("active",), "take results")
    if match.status == "cancelled":
        raise InvalidTransition(
            f"Match {match.match_number} of {competition.name!r} is cancelled: it "
            "takes no result."
        )
    if (match.match_config or {}).get(FORFEIT):
        loser = next(
            side
            for side in (match.participant1_id, match.participant2_id)
            if side != match.winner_participant_id
        )
        raise InvalidTransition(
            f"Match {match.match_number} of {competition.name!r} was won by "
            f"forfeit when {_agent_name(session, loser)!r} was disqualified: it "
            "was never played and takes no result."
        )
    rules = parse_rules(competition.rules, competition.competition_type)
    if completed_at is not None:
        completed_at = _not_future(_aware(completed_at, "completed_at"), "completed_at")
    elif match.status == "completed" and match.completed_at is not None:
        completed_at = match.completed_at
    else:
        completed_at = utcnow()

    if match.started_at is not None and completed_at < match.started_at:
        raise InvalidInput(
            f"completed_at {shown_time(completed_at)} is before match "
            f"{match.match_number} of {competition.name!r} started "
            f"({shown_time(match.started_at)}): give a later time."
        )

    limits = score_range(competition.rules)
    first = match_score(
        participant1_score, what=SCORE_WORDS["participant1_score"], limits=limits
    )
    if match.participant2_id is None:
        if participant2_score is not None or winner_participant_id is not None:
            raise InvalidInput(
                f"Match {match.match_number} of {competition.name!r} has no "
                "opponent: give only participant1_score."
            )
        second = None
        winner = None
    else:
        if participant2_score is None:
            raise InvalidInput(
                f"Match {match.match_number} of {competition.name!r} has two "
                "participants: give participant2_score too."
            )
        second = match_score(
            participant2_score, what=SCORE_WORDS["participant2_score"], limits=limits
        )
        winner = _winner(
            session, match, competition, rules, first, second, winner_participant_id
        )

    winner_changes = (
        match.status == "completed" and match.winner_participant_id != winner
    )
    if correcting_completed and winner_changes:
        next_match = _next_round_match(session, match)
        if next_match is not None:
            raise InvalidTransition(
                f"Competition {competition.name!r} is completed: correcting match "
                f"{match.match_number} would change its winner and so who plays "
                f"match {next_match.match_number}, which a completed competition "
                "cannot reopen. Keep the winner, or correct only the scores."
            )

    return first, second, winner, completed_at


def _refresh_participants(session: Session, participant_ids: set[str]) -> None:
    """Recompute the counters of the agents behind these participants.

    Agents are refreshed in id order so that two transactions touching the
    same agents lock their rows in the same order."""
    agent_ids = session.scalars(
        select(CompetitionParticipant.agent_id).where(
            CompetitionParticipant.id.in_(participant_ids)
        )
    ).all()
    for agent_id in sorted(set(agent_ids)):
        refresh_agent_counters(session, agent_id)


def _winner(
    session: Session,
    match: CompetitionMatch,
    competition: Competition,
    rules: CompetitionRules,
    first: float,
    second: float,
    explicit: str | None,
) -> str | None:
    sides = (match.participant1_id, match.participant2_id)
    names = " and ".join(repr(_agent_name(session, side)) for side in sides)
    if explicit is not None and explicit not in sides:
        # Another participant of this competition is named; anything else
        # stays an id (it may not exist, or belong to another university).
        other = session.scalar(
            select(CompetitionParticipant.id).where(
                CompetitionParticipant.id == explicit,
                CompetitionParticipant.competition_id == competition.id,
            )
        )
        who = repr(_agent_name(session, other)) if other else repr(explicit)
        raise InvalidInput(
            f"Winner {who} does not play match {match.match_number} of "
            f"{competition.name!r}: give one of its two participants ({names})."
        )

    by_score = None
    if first != second:
        first_better = (first > second) != rules.lower_is_better
        by_score = sides[0] if first_better else sides[1]
    if explicit is not None:
        if by_score is not None and explicit != by_score:
            raise InvalidInput(
                f"Winner {_agent_name(session, explicit)!r} has the worse score "
                f"({first:g} to {second:g}) in match {match.match_number} of "
                f"{competition.name!r} ({names}): fix the scores or the winner."
            )
        return explicit
    if by_score is not None:
        return by_score
    if competition.competition_type != "tournament":
        return None

    if rules.tie_break == "participant1":
        return sides[0]
    if rules.tie_break == "higher_seed":
        seeds = {
            p.id: p.seed_ranking
            for p in (match.participant1, match.participant2)
            if p is not None
        }
        if None not in seeds.values():
            return min(sides, key=lambda side: seeds[side])
    raise InvalidInput(
        f"Match {match.match_number} of {competition.name!r} is an elimination "
        f"match and cannot end drawn ({first:g} to {second:g}): give "
        "winner_participant_id or set rules tie_break (higher_seed needs both "
        "sides seeded)."
    )


def _next_round_match(
    session: Session, match: CompetitionMatch
) -> CompetitionMatch | None:
    """The next-round bracket match fed by ``match``, if it exists."""
    key = _slot_key(match)
    if key is None:
        return None
    round_number, slot = key
    for other in _matches(session, match.competition):
        if _slot_key(other) == (round_number + 1, slot // 2):
            return other
    return None


# --- matches in play and disqualification ------------------------------


def start_match(
    session: Session,
    match_id: str,
    *,
    started_at: datetime | None = None,
    university_id: str | None = None,
) -> CompetitionMatch:
    """Put a scheduled match in play: ``scheduled`` -> ``active``.

    Rules: only in an active competition and only a ``scheduled`` match
    (``InvalidTransition`` naming its status otherwise); ``started_at``
    (aware, default now, not in the future beyond ``CLOCK_SKEW``) is kept
    on the match, and its result may not be dated before it. A match in
    play counts for nobody until its result is recorded
    (``record_match_result``); it is voided back to ``scheduled`` when a
    correction changes who plays it, cancelled when a side is disqualified
    or the competition is cancelled or completed with ``force``. With
    ``university_id``, a match of another university is ``NotFound``.
    """
    match = _lock_match(session, match_id, university_id)
    competition = session.get(Competition, match.competition_id)
    _require_status(competition, ("active",), "put matches in play")
    if match.status != "scheduled":
        raise InvalidTransition(
            f"Match {match.match_number} of {competition.name!r} is "
            f"{match.status}: only a scheduled match can start."
        )
    started_at = (
        _not_future(_aware(started_at, "started_at"), "started_at")
        if started_at
        else utcnow()
    )

    match.status = "active"
    match.started_at = started_at
    session.flush()
    log.info("match %s of competition %s in play", match.id, competition.id)
    return match


def disqualify_participant(
    session: Session, participant_id: str, *, university_id: str | None = None
) -> CompetitionParticipant:
    """Disqualify a competitor of a scheduled or active competition.

    Rules: only a competitor (observers and judges do not play) that is not
    already disqualified, and only while the competition is scheduled or
    active (``InvalidTransition`` otherwise). The participant becomes
    ``disqualified`` for good. Its results so far stand (and keep counting,
    as every completed match does). Its unplayed matches (``scheduled`` or
    in play) are forfeited: the opponent wins without scores (the match is
    ``completed``, ``match_config["forfeit"]`` is true), which counts as a
    win and a loss in the counters and the standings, and in a tournament
    sends the opponent on to the next round; a later-round match it would
    still reach is forfeited the same way when it is created. A match
    without an opponent who may play (solo, challenge, or both sides
    disqualified) is cancelled instead and counts for nobody. Disqualified
    before the start, it takes no part at all (no match, no seed). At
    completion it stays disqualified, without a rank or a final score, and
    never wins. The counters of its agent and of its opponents are
    recomputed. It no longer holds a
    ``max_participants`` place nor keeps its agent from being archived.
    With ``university_id``, a participant of another university is
    ``NotFound``.
    """
    competition_id = session.scalar(
        select(CompetitionParticipant.competition_id).where(
            CompetitionParticipant.id == participant_id
        )
    )
    owner_id = (
        session.scalar(
            select(Competition.university_id).where(Competition.id == competition_id)
        )
        if competition_id
        else None
    )
    if not _in_scope(owner_id, university_id):
        raise NotFound(
            f"No participant has the id {participant_id!r}{_where(university_id)}."
        )
    competition = _lock_competition(session, competition_id)
    participant = session.get(
        CompetitionParticipant, participant_id, populate_existing=True
    )
    name = _agent_name(session, participant.id)
    _require_status(competition, OPEN_STATUSES, "disqualify participants")
    if participant.participant_type != "competitor":
        raise InvalidInput(
            f"{name!r} is a {participant.participant_type} of {competition.name!r} "
            "and does not play: only a competitor can be disqualified."
        )
    if participant.status == "disqualified":
        raise InvalidTransition(
            f"{name!r} is already disqualified from {competition.name!r}."
        )

    participant.status = "disqualified"
    disqualified = frozenset(
        p.id
        for p in _competitors(session, competition, playing_only=False)
        if p.status == "disqualified"
    ) | {participant.id}
    touched = {participant.id}
    for match in _matches(session, competition):
        sides = {match.participant1_id, match.participant2_id} - {None}
        if participant.id in sides and _forfeit_if_disqualified(match, disqualified):
            touched |= sides
    session.flush()
    if competition.status == "active" and competition.competition_type == (
        "tournament"
    ):
        # Walkovers: the opponents go on and the next rounds fill in.
        touched |= _reconcile_bracket(session, competition)

    _refresh_participants(session, touched)
    log.info("disqualified %s from competition %s", participant.id, competition.id)
    return participant


# --- completing and cancelling -------------------------------------------


def complete_competition(
    session: Session,
    competition_id: str,
    *,
    force: bool = False,
    completed_at: datetime | None = None,
    university_id: str | None = None,
) -> Competition:
    """Complete an active competition and rank its competitors.

    Rules: only an active competition completes. While matches wait for a
    result it is refused, naming how many, unless ``force=True``, which
    cancels them (they then count for nobody). Each competitor gets its
    ``ranking`` from ``compute_standings`` (ties share a rank: 1, 2, 2, 4),
    its ``final_score`` (points for head to head and tournament, mean score
    for solo and challenge), status completed and ``completed_at``; observers
    and judges are completed without a rank. A disqualified competitor
    stays ``disqualified``, without a rank or final score, and the others
    are ranked among themselves (``_rank_competitors``).
    ``winner_agent_id`` is the one competitor ranked first, None when the
    first rank is shared; in a drawn tournament bracket it is the winner of
    the final, None when the final was not played (a bracket completed
    early, its unplayed matches cancelled). Sets
    ``actual_end`` (``completed_at``, default now, not in the future beyond
    ``CLOCK_SKEW``). With ``university_id``,
    a competition of another university is ``NotFound``.
    """
    competition = _lock_competition(session, competition_id, university_id)
    _require_status(competition, ("active",), "complete")
    completed_at = (
        _not_future(_aware(completed_at, "completed_at"), "completed_at")
        if completed_at
        else utcnow()
    )

    unfinished = [
        match
        for match in _matches(session, competition)
        if match.status in UNFINISHED_MATCH_STATUSES
    ]
    if unfinished and not force:
        one = len(unfinished) == 1
        raise InvalidTransition(
            f"Competition {competition.name!r} has "
            f"{counted(len(unfinished), 'unfinished match', 'unfinished matches')}: "
            f"record {'its result' if one else 'their results'} first, or "
            f"complete with force to cancel {'it' if one else 'them'}."
        )
    for match in unfinished:
        match.status = "cancelled"
    session.flush()

    for participant in _participants(session, competition):
        if participant.status != "disqualified":
            participant.status = "completed"
            participant.completed_at = completed_at
    _rank_competitors(session, competition)
    competition.actual_end = completed_at
    competition.status = "completed"
    session.flush()
    log.info("completed competition %s", competition.id)
    return competition


def _rank_competitors(session: Session, competition: Competition) -> None:
    """Set each competitor's ``ranking`` and ``final_score`` and the
    competition's ``winner_agent_id`` from ``compute_standings`` (see
    ``complete_competition`` for the rules); at completion and after a
    correction in a completed competition.

    Rule: a disqualified competitor gets neither a rank nor a final score;
    the others are ranked among themselves (the standings' shared ranks,
    each lowered by the number of disqualified competitors ranked strictly
    above it), so the winner is never a disqualified competitor."""
    session.flush()
    standings = compute_standings(session, competition.id)
    pairwise = competition.competition_type in PAIRWISE_TYPES
    # The champion of a drawn bracket won its final: one stage past the
    # last round. A bracket completed before its final has no winner.
    champion_stage = (
        bracket_size(session, competition).bit_length()
        if drawn_bracket(session, competition)
        else None
    )
    participants = {p.id: p for p in _participants(session, competition)}
    out = {pid for pid, p in participants.items() if p.status == "disqualified"}
    out_ranks = [
        int(row.rank) for row in standings.itertuples() if row.participant_id in out
    ]
    leaders = []
    for row in standings.itertuples():
        participant = participants.get(row.participant_id)
        if participant is None:
            continue
        if participant.id in out:
            participant.final_score = None
            participant.ranking = None
            continue
        score = row.points if pairwise else row.average_score
        participant.final_score = None if math.isnan(score) else float(score)
        participant.ranking = int(row.rank) - sum(r < row.rank for r in out_ranks)
        if participant.ranking == 1 and (
            champion_stage is None or row.stage >= champion_stage
        ):
            leaders.append(participant.agent_id)

    competition.winner_agent_id = leaders[0] if len(leaders) == 1 else None
    session.flush()


def cancel_competition(
    session: Session, competition_id: str, *, university_id: str | None = None
) -> Competition:
    """Cancel a scheduled or active competition.

    Rules: a completed or cancelled competition cannot be cancelled. Its
    unfinished matches are cancelled; recorded results stay (they still
    count in the agents' counters, as every completed match does). An
    active competition gets ``actual_end``. With ``university_id``, a
    competition of another university is ``NotFound``.
    """
    competition = _lock_competition(session, competition_id, university_id)
    _require_status(competition, OPEN_STATUSES, "be cancelled")

    for match in _matches(session, competition):
        if match.status in UNFINISHED_MATCH_STATUSES:
            match.status = "cancelled"
    if competition.status == "active":
        competition.actual_end = utcnow()
    competition.status = "cancelled"
    session.flush()
    log.info("cancelled competition %s", competition.id)
    return competition
