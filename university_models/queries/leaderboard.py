"""The Leaderboard page: agents ranked by their competition results, the
pairwise win rates of one competition, and the lists its filters offer.

Every function is scoped to one university: a competition id from another
university finds nothing.
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from university_models.errors import NotFound
from university_models.models import (
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    UniversityAgent,
)
from university_models.queries.time_buckets import day_range
from university_models.wording import counted

log = logging.getLogger(__name__)

RECORD_COLUMNS = [
    "rank",
    "agent_id",
    "agent",
    "agent_type",
    "specialization",
    "matches",
    "wins",
    "draws",
    "losses",
    "win_rate",
    "average_score",
    "highest_score",
]

WIN_RATE_COLUMNS = [
    "agent",
    "opponent",
    "matches",
    "wins",
    "draws",
    "losses",
    "win_rate",
]


def competition_choices(session: Session, university_id: str) -> pd.DataFrame:
    """The university's competitions for a filter: id, name, competition_type,
    status, newest first (by scheduled start, then creation)."""
    rows = session.execute(
        select(
            Competition.id,
            Competition.name,
            Competition.competition_type,
            Competition.status,
        )
        .where(Competition.university_id == university_id)
        .order_by(
            Competition.scheduled_start.desc().nulls_last(),
            Competition.created_at.desc(),
            Competition.name,
        )
        .limit(1000)
    ).all()
    return pd.DataFrame(rows, columns=["id", "name", "competition_type", "status"])


def specialization_choices(session: Session, university_id: str) -> list[str]:
    """The distinct specializations of the university's agents, by name."""
    return list(
        session.scalars(
            select(UniversityAgent.specialization)
            .where(
                UniversityAgent.university_id == university_id,
                UniversityAgent.specialization.is_not(None),
            )
            .distinct()
            .order_by(UniversityAgent.specialization)
        )
    )


def require_competition(
    session: Session, university_id: str, competition_id: str
) -> Competition:
    """The competition ``competition_id`` of this university, or ``NotFound``.

    Rule: a competition of another university is treated as missing."""
    competition = session.scalars(
        select(Competition).where(
            Competition.id == competition_id,
            Competition.university_id == university_id,
        )
    ).one_or_none()
    if competition is None:
        raise NotFound(
            f"This university has no competition with the id {competition_id!r}; "
            "choose one from the list."
        )
    return competition


def _inclusive_times(
    played_from: date | None, played_to: date | None
) -> tuple[datetime | None, datetime | None]:
    """UTC days, both included, as the inclusive time bounds the ratings
    module takes: the end is the last microsecond of the last day."""
    start, end = day_range(played_from, played_to)
    return start, None if end is None else end - timedelta(microseconds=1)


def match_records(
    session: Session,
    university_id: str,
    *,
    competition_id: str | None = None,
    agent_type: str | None = None,
    specialization: str | None = None,
    played_from: date | None = None,
    played_to: date | None = None,
) -> pd.DataFrame:
    """Every agent with at least one completed match matching the filters:
    matches, wins, draws, losses, win rate, average and highest own score,
    ranked.

    Rules: the same counting as ``refresh_agent_counters`` (a draw is a
    completed two-sided match without a winner; solo matches count in
    ``matches`` and the scores but in neither wins, draws nor losses);
    ``win_rate`` is ``ratings.win_rate`` (a draw is half a win); the date
    range applies to ``completed_at`` (UTC days, both ends included). Rank
    is by win rate, then average score, best first; agents level on both
    share a rank (1, 2, 2, 4); agents without a two-sided match rank after
    the others, by average score. Aggregated once in the database by
    ``university_models.ratings.agent_results``, the aggregate the ratings
    leaderboard reads too."""
    from university_models.ratings import agent_results, win_rate

    start, end = _inclusive_times(played_from, played_to)
    results = agent_results(
        session,
        university_id,
        competition_id=competition_id or None,
        agent_type=agent_type or None,
        specialization=specialization or None,
        played_from=start,
        played_to=end,
    )
    if results.empty:
        return pd.DataFrame(columns=RECORD_COLUMNS)

    # A few rows per agent (one per competition): bounded by the agents, so
    # summing and ranking them here is cheap.
    records = results.groupby(
        ["agent_id", "agent", "agent_type", "specialization"],
        as_index=False,
        dropna=False,
    ).agg(
        matches=("matches", "sum"),
        wins=("wins", "sum"),
        draws=("draws", "sum"),
        losses=("losses", "sum"),
        score_sum=("score_sum", "sum"),
        scored=("scored", "sum"),
        highest_score=("highest_score", "max"),
    )
    records["specialization"] = records["specialization"].astype(object)
    records.loc[records["specialization"].isna(), "specialization"] = None
    records["win_rate"] = win_rate(records["wins"], records["draws"], records["losses"])
    records["average_score"] = records["score_sum"] / records["scored"].where(
        records["scored"] > 0
    )
    records["_rate"] = records["win_rate"].fillna(-1.0)
    records["_average"] = records["average_score"].fillna(float("-inf"))
    records = records.sort_values(
        ["_rate", "_average", "agent"], ascending=[False, False, True]
    )
    starts_group = (records["_rate"] != records["_rate"].shift()) | (
        records["_average"] != records["_average"].shift()
    )
    positions = pd.Series(range(1, len(records) + 1), index=records.index)
    records["rank"] = positions.where(starts_group).ffill().astype(int)
    return records[RECORD_COLUMNS].reset_index(drop=True)


def pairwise_win_rates(
    session: Session, university_id: str, competition_id: str
) -> pd.DataFrame:
    """For one competition, every ordered pair of agents that met: matches,
    wins, draws and losses of ``agent`` against ``opponent`` and its win rate
    (wins plus half the draws, over the matches).

    Rule: aggregated per pair in SQL over completed two-sided matches; both
    orientations are returned so the heatmap is complete."""
    require_competition(session, university_id, competition_id)
    first = aliased(CompetitionParticipant)
    second = aliased(CompetitionParticipant)
    base = (
        select(
            first.agent_id.label("a"),
            second.agent_id.label("b"),
            case(
                (CompetitionMatch.winner_participant_id == first.id, 1), else_=0
            ).label("a_won"),
            case(
                (CompetitionMatch.winner_participant_id == second.id, 1), else_=0
            ).label("b_won"),
        )
        .join(first, first.id == CompetitionMatch.participant1_id)
        .join(second, second.id == CompetitionMatch.participant2_id)
        .where(
            CompetitionMatch.competition_id == competition_id,
            CompetitionMatch.status == "completed",
        )
        .subquery()
    )
    sides = union_all(
        select(
            base.c.a.label("agent_id"),
            base.c.b.label("opponent_id"),
            base.c.a_won.label("won"),
            base.c.b_won.label("lost"),
        ),
        select(
            base.c.b.label("agent_id"),
            base.c.a.label("opponent_id"),
            base.c.b_won.label("won"),
            base.c.a_won.label("lost"),
        ),
    ).subquery()
    agent = aliased(UniversityAgent)
    opponent = aliased(UniversityAgent)
    rows = session.execute(
        select(
            agent.name,
            opponent.name,
            func.count(),
            func.sum(sides.c.won),
            func.sum(literal(1) - sides.c.won - sides.c.lost),
            func.sum(sides.c.lost),
        )
        .join(agent, agent.id == sides.c.agent_id)
        .join(opponent, opponent.id == sides.c.opponent_id)
        .group_by(agent.name, opponent.name)
        .order_by(agent.name, opponent.name)
    ).all()
    pairs = pd.DataFrame(rows, columns=WIN_RATE_COLUMNS[:-1])
    if pairs.empty:
        return pd.DataFrame(columns=WIN_RATE_COLUMNS)
    for column in ("matches", "wins", "draws", "losses"):
        pairs[column] = pairs[column].astype(int)
    pairs["win_rate"] = (pairs["wins"] + pairs["draws"] / 2) / pairs["matches"]
    return pairs


def competition_standings(
    session: Session, university_id: str, competition_id: str
) -> pd.DataFrame:
    """The standings of one competition of this university (see
    ``university_models.standings.compute_standings``).

    Rule: scoped: a competition of another university is ``NotFound``."""
    from university_models.standings import compute_standings

    require_competition(session, university_id, competition_id)
    return compute_standings(session, competition_id, university_id=university_id)


#: Bootstrap resamples behind the rating intervals of the page and the CSV
#: export (the ratings module's default): one number, so both agree.
BOOTSTRAP_ROUNDS = 200

#: Completed matches in scope up to which the Leaderboard page (and the
#: agent profile, which shares its cached answer) computes the intervals
#: without being asked.
INTERVALS_BY_DEFAULT_UP_TO = 50_000


def leaderboard_arguments(
    *,
    competition_id: str | None = None,
    agent_type: str | None = None,
    specialization: str | None = None,
    played_from: date | None = None,
    played_to: date | None = None,
    intervals: bool = True,
) -> dict[str, Any]:
    """The keyword arguments of ``rated_leaderboard`` as the pages pass them
    to the cache, always built here, in one order, so that the Leaderboard
    page and an agent profile asking for the same leaderboard share one
    cached answer (one fit and bootstrap per university, not one per
    profile)."""
    return {
        "bootstrap_rounds": BOOTSTRAP_ROUNDS if intervals else 0,
        "competition_id": competition_id,
        "agent_type": agent_type,
        "specialization": specialization,
        "played_from": played_from,
        "played_to": played_to,
    }


def intervals_by_default(version: tuple) -> bool:
    """Whether a page computes the intervals without being asked: up to
    ``INTERVALS_BY_DEFAULT_UP_TO`` completed matches in scope (the first
    element of ``results_version``)."""
    return version[0] <= INTERVALS_BY_DEFAULT_UP_TO


#: The columns of ``rated_leaderboard``, in order.
RATED_COLUMNS = [
    "rank",
    "agent_id",
    "agent",
    "agent_type",
    "specialization",
    "rating",
    "rating_lower",
    "rating_upper",
    "matches",
    "rated_matches",
    "wins",
    "draws",
    "losses",
    "win_rate",
    "points",
    "average_score",
    "highest_score",
    "component",
    "group",
    "interval_note",
]

#: The ``group`` label of agents without a rating.
UNRATED_GROUP = "no rating"

#: How a page shows the open side of a rating interval (an infinite bound:
#: see ``university_models.ratings.bootstrap_intervals``).
UNBOUNDED = "unbounded"


def results_version(
    session: Session, university_id: str, *, competition_id: str | None = None
) -> tuple:
    """What changes whenever the completed results in scope change (see
    ``university_models.ratings.results_version``); the page puts it in the
    cache key of the ratings so a recorded result shows at once."""
    from university_models.ratings import results_version as version

    return tuple(version(session, university_id, competition_id))


def rated_leaderboard(
    session: Session,
    university_id: str,
    *,
    competition_id: str | None = None,
    agent_type: str | None = None,
    specialization: str | None = None,
    played_from: date | None = None,
    played_to: date | None = None,
    bootstrap_rounds: int | None = None,
) -> pd.DataFrame:
    """The ratings leaderboard (``university_models.ratings.leaderboard``:
    rating with its 95% interval, ranks shared within each comparison
    group, points, each agent's type, specialization, win rate and highest
    score) with the ``group`` label of ``group_labels``.

    Rules: the date range is UTC days, both ends included; the intervals
    use ``BOOTSTRAP_ROUNDS`` resamples unless told otherwise. Pages cache it
    with ``results_version`` as the freshness of the key. The matches are
    aggregated once (``ratings.agent_results``) and counted per pair once
    (``ratings.pair_counts``)."""
    from university_models.ratings import leaderboard

    start, end = _inclusive_times(played_from, played_to)
    board = leaderboard(
        session,
        university_id,
        competition_id=competition_id or None,
        agent_type=agent_type or None,
        specialization=specialization or None,
        played_from=start,
        played_to=end,
        bootstrap_rounds=(
            BOOTSTRAP_ROUNDS if bootstrap_rounds is None else bootstrap_rounds
        ),
    )
    if board.empty:
        return pd.DataFrame(columns=RATED_COLUMNS)
    board["group"] = group_labels(board["component"])
    rated = board[RATED_COLUMNS]
    rated.attrs = dict(board.attrs)
    return rated


def group_labels(component: pd.Series) -> pd.Series:
    """A readable label per row for the comparison group of a leaderboard
    row: ``"group 1 (20 agents)"``, numbered from 1 in the leaderboard's
    order (largest first), and ``UNRATED_GROUP`` for agents without a
    rating.

    Rule: ranks are shared within a group only, so a page or a report that
    shows ranks shows the group next to them."""
    sizes = component.value_counts()
    labels = [
        UNRATED_GROUP
        if pd.isna(number)
        else f"group {int(number) + 1} ({counted(int(sizes[number]), 'agent')})"
        for number in component
    ]
    return pd.Series(labels, index=component.index, dtype=object)


def bound_label(value: Any) -> str | None:
    """A rating bound as a person reads it: whole rating points,
    ``UNBOUNDED`` for an open side (+inf or -inf: the results do not bound
    the rating that way), None without an interval (NaN)."""
    if value is None or pd.isna(value):
        return None
    if math.isinf(value):
        return UNBOUNDED
    return f"{value:.0f}"


def interval_markers(chart: pd.DataFrame) -> list[str]:
    """The plotly marker of each agent of the ratings chart, as
    ``chart_heading``'s note reads them: a triangle pointing to the one side
    its interval leaves open (``triangle-right`` above, ``triangle-left``
    below), a diamond when both sides are open, else a circle."""
    markers = []
    for lower, upper in zip(chart["rating_lower"], chart["rating_upper"], strict=True):
        open_above, open_below = upper == np.inf, lower == -np.inf
        if open_above and open_below:
            markers.append("diamond")
        elif open_above:
            markers.append("triangle-right")
        elif open_below:
            markers.append("triangle-left")
        else:
            markers.append("circle")
    return markers


def chart_heading(
    chart: pd.DataFrame, *, intervals: bool, group: str | None = None
) -> tuple[str, str | None]:
    """The title of the ratings chart of ``chart``'s agents (of ``group``
    when the page shows one group of several) and, when some of them have
    no finite interval, a line saying what is drawn instead.

    Rules: the chart draws a bar to each finite bound, a triangle pointing
    to an open side (+inf or -inf, see docs/ratings.md) and the rating alone
    without an interval (NaN: too few matches, wins only one way, or the
    intervals turned off). So the title promises "their 95% intervals" only
    when every agent has both bounds finite, and otherwise counts those that
    have."""
    title = f"Top {counted(len(chart), 'rating')}"
    where = f" in {group}" if group else ""
    if not intervals:
        return title + where, None
    lower = chart["rating_lower"].astype(float)
    upper = chart["rating_upper"].astype(float)
    bounded = int((np.isfinite(lower) & np.isfinite(upper)).sum())
    if bounded == len(chart):
        theirs = "its 95% interval" if len(chart) == 1 else "their 95% intervals"
        return f"{title} with {theirs}{where}", None
    title += where + (f", {bounded} with a 95% interval" if bounded else "")
    notes = []
    if (open_sides := int((np.isinf(lower) | np.isinf(upper)).sum())) > 0:
        both = " and ◆ both" if (np.isinf(lower) & np.isinf(upper)).any() else ""
        notes.append(
            f"{counted(open_sides, 'agent').capitalize()} with a side the results "
            "do not bound: a triangle points that way (▶ unbounded above, ◀ unbounded "
            f"below{both}) and a bar goes only to a finite bound."
        )
    if (without := len(chart) - bounded - open_sides) > 0:
        notes.append(
            f"No 95% interval for {counted(without, 'agent')} (see the interval "
            "column): only the rating is drawn."
        )
    return title, " ".join(notes)
