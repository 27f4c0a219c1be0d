"""Competitions: the list by status, one competition's participants and
matches, and the rounds and byes of a tournament bracket.

Every function is scoped to one university: a competition id from another
university finds nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from university_models import standings
from university_models.models import (
    COMPETITION_STATUSES,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    UniversityAgent,
)
from university_models.services.competitions import FORFEIT

log = logging.getLogger(__name__)

#: The most rows a table on screen shows at once.
PAGE_SIZE = 50

#: The most matches one detail view loads (a 64-agent round robin is 2,016).
MATCH_LIMIT = 2_500

COMPETITION_COLUMNS = [
    "id",
    "name",
    "competition_type",
    "status",
    "scheduled_start",
    "scheduled_end",
    "actual_start",
    "actual_end",
    "max_participants",
    "participants",
    "matches",
    "completed_matches",
    "winner",
]


def _scope(
    university_id: str,
    *,
    status: str | None,
    competition_type: str | None,
    name_contains: str | None = None,
) -> list[Any]:
    conditions: list[Any] = [Competition.university_id == university_id]
    if status:
        conditions.append(Competition.status == status)
    if competition_type:
        conditions.append(Competition.competition_type == competition_type)
    if name_contains and name_contains.strip():
        # Case-insensitive; % and _ typed by a person are literal.
        conditions.append(
            func.lower(Competition.name).contains(
                name_contains.strip().lower(), autoescape=True
            )
        )
    return conditions


def list_competitions(
    session: Session,
    university_id: str,
    *,
    status: str | None = None,
    competition_type: str | None = None,
    name_contains: str | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> pd.DataFrame:
    """One page of the university's competitions with their participant and
    match counts and winner. ``name_contains`` is a case-insensitive
    substring of the name.

    Order: active first, then scheduled, completed and cancelled (the order
    of COMPETITION_STATUSES with active promoted, since that is what a person
    watches), each by scheduled start, newest first.
    """
    # Counted per competition of the page (correlated), not grouped over
    # every competition of every university before the page is chosen.
    participants = (
        select(func.count())
        .where(CompetitionParticipant.competition_id == Competition.id)
        .correlate(Competition)
        .scalar_subquery()
    )
    matches = (
        select(func.count())
        .where(CompetitionMatch.competition_id == Competition.id)
        .correlate(Competition)
        .scalar_subquery()
    )
    completed_matches = (
        select(func.count())
        .where(
            CompetitionMatch.competition_id == Competition.id,
            CompetitionMatch.status == "completed",
        )
        .correlate(Competition)
        .scalar_subquery()
    )
    winner = aliased(UniversityAgent)
    status_order = case(
        {"active": 0, "scheduled": 1, "completed": 2, "cancelled": 3},
        value=Competition.status,
        else_=len(COMPETITION_STATUSES),
    )
    rows = session.execute(
        select(
            Competition.id,
            Competition.name,
            Competition.competition_type,
            Competition.status,
            Competition.scheduled_start,
            Competition.scheduled_end,
            Competition.actual_start,
            Competition.actual_end,
            Competition.max_participants,
            participants,
            matches,
            completed_matches,
            winner.name,
        )
        .outerjoin(winner, winner.id == Competition.winner_agent_id)
        .where(
            *_scope(
                university_id,
                status=status,
                competition_type=competition_type,
                name_contains=name_contains,
            )
        )
        .order_by(
            status_order,
            Competition.scheduled_start.desc(),
            Competition.created_at.desc(),
            Competition.id,
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return pd.DataFrame(rows, columns=COMPETITION_COLUMNS)


def count_competitions(
    session: Session,
    university_id: str,
    *,
    status: str | None = None,
    competition_type: str | None = None,
    name_contains: str | None = None,
) -> int:
    """How many of the university's competitions match the filters."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Competition)
            .where(
                *_scope(
                    university_id,
                    status=status,
                    competition_type=competition_type,
                    name_contains=name_contains,
                )
            )
        )
    )


def competition_status_counts(session: Session, university_id: str) -> pd.DataFrame:
    """How many competitions the university has in each status (every status
    listed, zero included), in the order of COMPETITION_STATUSES."""
    counts = dict(
        session.execute(
            select(Competition.status, func.count())
            .where(Competition.university_id == university_id)
            .group_by(Competition.status)
        ).all()
    )
    return pd.DataFrame(
        [(status, int(counts.get(status, 0))) for status in COMPETITION_STATUSES],
        columns=["status", "competitions"],
    )


def competition_detail(
    session: Session, university_id: str, competition_id: str
) -> dict[str, Any] | None:
    """One competition's own row (with the winner's name) as a dict; None
    when it is not in this university."""
    winner = aliased(UniversityAgent)
    row = (
        session.execute(
            select(
                Competition.id,
                Competition.name,
                Competition.description,
                Competition.competition_type,
                Competition.status,
                Competition.rules,
                Competition.evaluation_config,
                Competition.benchmark_id,
                Competition.scheduled_start,
                Competition.scheduled_end,
                Competition.actual_start,
                Competition.actual_end,
                Competition.max_participants,
                Competition.results_published,
                winner.name.label("winner"),
            )
            .outerjoin(winner, winner.id == Competition.winner_agent_id)
            .where(
                Competition.university_id == university_id,
                Competition.id == competition_id,
            )
        )
        .mappings()
        .one_or_none()
    )
    return dict(row) if row is not None else None


def competition_participants(
    session: Session, university_id: str, competition_id: str
) -> pd.DataFrame:
    """The competition's participants, by seed (unseeded last), then name."""
    rows = session.execute(
        select(
            CompetitionParticipant.id,
            CompetitionParticipant.agent_id,
            UniversityAgent.name,
            CompetitionParticipant.participant_type,
            CompetitionParticipant.seed_ranking,
            CompetitionParticipant.status,
            CompetitionParticipant.final_score,
            CompetitionParticipant.ranking,
        )
        .join(Competition, Competition.id == CompetitionParticipant.competition_id)
        .join(UniversityAgent, UniversityAgent.id == CompetitionParticipant.agent_id)
        .where(
            Competition.university_id == university_id,
            Competition.id == competition_id,
        )
        .order_by(
            CompetitionParticipant.seed_ranking.is_(None),
            CompetitionParticipant.seed_ranking,
            UniversityAgent.name,
        )
    ).all()
    return pd.DataFrame(
        rows,
        columns=[
            "participant_id",
            "agent_id",
            "agent",
            "participant_type",
            "seed_ranking",
            "status",
            "final_score",
            "ranking",
        ],
    )


MATCH_COLUMNS = [
    "id",
    "match_number",
    "round",
    "participant1_id",
    "agent1",
    "participant2_id",
    "agent2",
    "participant1_score",
    "participant2_score",
    "winner",
    "status",
    "completed_at",
    "forfeit",
]


def _round_of(match_config: Any) -> int | None:
    """The bracket round a match belongs to, as the competition services
    write it into ``match_config["round"]``; None when there is none."""
    if isinstance(match_config, dict):
        value = match_config.get("round")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def competition_matches(
    session: Session,
    university_id: str,
    competition_id: str,
    *,
    status: str | None = None,
    limit: int = MATCH_LIMIT,
) -> pd.DataFrame:
    """The competition's matches by number, with both agents' names, scores,
    the winner's name, the bracket round (``match_config["round"]``) and
    whether it was forfeited (``match_config["forfeit"]``); the JSON is read
    in Python because JSON paths differ between engines, over at most
    ``limit`` rows."""
    first = aliased(CompetitionParticipant)
    second = aliased(CompetitionParticipant)
    won = aliased(CompetitionParticipant)
    agent1 = aliased(UniversityAgent)
    agent2 = aliased(UniversityAgent)
    winner = aliased(UniversityAgent)
    query = (
        select(
            CompetitionMatch.id,
            CompetitionMatch.match_number,
            CompetitionMatch.match_config,
            CompetitionMatch.participant1_id,
            agent1.name,
            CompetitionMatch.participant2_id,
            agent2.name,
            CompetitionMatch.participant1_score,
            CompetitionMatch.participant2_score,
            winner.name,
            CompetitionMatch.status,
            CompetitionMatch.completed_at,
        )
        .join(Competition, Competition.id == CompetitionMatch.competition_id)
        .join(first, first.id == CompetitionMatch.participant1_id)
        .join(agent1, agent1.id == first.agent_id)
        .outerjoin(second, second.id == CompetitionMatch.participant2_id)
        .outerjoin(agent2, agent2.id == second.agent_id)
        .outerjoin(won, won.id == CompetitionMatch.winner_participant_id)
        .outerjoin(winner, winner.id == won.agent_id)
        .where(
            Competition.university_id == university_id,
            Competition.id == competition_id,
        )
        .order_by(CompetitionMatch.match_number, CompetitionMatch.id)
        .limit(limit)
    )
    if status:
        query = query.where(CompetitionMatch.status == status)
    records = [
        (row[0], row[1], _round_of(row[2]), *row[3:], _forfeited(row[2]))
        for row in session.execute(query).all()
    ]
    return pd.DataFrame(records, columns=MATCH_COLUMNS)


def _forfeited(match_config: Any) -> bool:
    """Whether the match was forfeited to the side still playing (a
    disqualification), as ``services.competitions`` marks it."""
    return isinstance(match_config, dict) and bool(match_config.get(FORFEIT))


def bracket_rounds(matches: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """Split a tournament's matches (from ``competition_matches``) into its
    rounds, in round order, for drawing the bracket one column per round.
    Matches without a round are left out; an empty dict means no bracket."""
    with_round = matches.dropna(subset=["round"])
    return {
        int(number): group.reset_index(drop=True)
        for number, group in with_round.groupby("round", sort=True)
    }


def bracket_byes(
    session: Session, university_id: str, competition_id: str
) -> list[str]:
    """The names of the tournament's competitors who go through the first
    round without playing (a bye), best seed first (``standings.bracket_byes``
    has the rule); empty for a competition of another university or one
    without a drawn bracket. A bye's first match appears only once its
    opponent is decided, so without this the best seeds would be missing
    from the bracket."""
    competition = session.get(Competition, competition_id)
    if competition is None or competition.university_id != university_id:
        return []
    byes = standings.bracket_byes(session, competition)
    if not byes:
        return []
    names = dict(
        session.execute(
            select(CompetitionParticipant.id, UniversityAgent.name)
            .join(
                UniversityAgent, UniversityAgent.id == CompetitionParticipant.agent_id
            )
            .where(CompetitionParticipant.id.in_(byes))
        ).all()
    )
    return [names[participant_id] for participant_id in byes]
