"""Standings by the competition's rules, aggregated in SQL, on SQLite and
PostgreSQL; checked against a real published season (La Liga 2019/20)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.factories import make_agent, make_university
from tests.test_competitions import (
    make_scene,
    matches_of,
    record,
    started,
    window,
)
from university_models.config import published_data_dir
from university_models.db import read_session, transaction
from university_models.errors import InvalidInput, NotFound
from university_models.models import CompetitionMatch, CompetitionParticipant
from university_models.services.competitions import (
    add_participant,
    cancel_competition,
    record_match_result,
    schedule_competition,
    start_competition,
)
from university_models.standings import compute_standings, parse_rules, shared_ranks

DATA = published_data_dir()


def standings(engine, competition_id: str, **values):
    with read_session(engine) as session:
        return compute_standings(session, competition_id, **values)


def by_agent(frame) -> dict[str, dict]:
    return {row["agent"]: row for row in frame.to_dict("records")}


def play(engine, competition_id: str, results: dict[tuple[str, str], tuple]):
    """Record ``results[(agent1, agent2)] = (score1, score2)`` on the match
    with those sides (names as in ``make_scene``: a0, a1, ...)."""
    with read_session(engine) as session:
        names = {
            p.id: p.agent.name
            for p in session.query(CompetitionParticipant).filter_by(
                competition_id=competition_id
            )
        }
    for match in matches_of(engine, competition_id):
        pair = (names[match.participant1_id], names.get(match.participant2_id))
        if pair in results:
            record(engine, match.id, *results[pair])
        elif pair[::-1] in results:
            second, first = results[pair[::-1]]
            record(engine, match.id, first, second)


# --- the real season -----------------------------------------------------


def test_laliga_2019_20_standings_give_the_published_points(engine):
    season = json.loads((DATA / "laliga-2019-20-matches.json").read_text())["matches"]
    published = json.loads((DATA / "laliga-2019-20-final-points.json").read_text())
    clubs = sorted({m["team1"] for m in season} | {m["team2"] for m in season})
    assert len(season) == 380 and len(clubs) == 20

    with transaction(engine) as session:
        university = make_university(session, name="La Liga")
        agents = {club: make_agent(session, university, name=club) for club in clubs}
        competition = schedule_competition(
            session,
            university.id,
            name="Primera División 2019/20",
            competition_type="head_to_head",
            rules={"legs": 2},
            max_participants=20,
            scheduled_start=datetime(2019, 8, 16, tzinfo=UTC),
            scheduled_end=datetime(2020, 7, 20, tzinfo=UTC),
        )
        participants = {
            add_participant(session, competition.id, agents[club].id).id: club
            for club in clubs
        }
        start_competition(session, competition.id)
        competition_id = competition.id

    # Both legs are generated; each fixture of the season is the match with
    # the same home (participant1) and away side.
    matches = {
        (participants[m.participant1_id], participants[m.participant2_id]): m.id
        for m in matches_of(engine, competition_id)
    }
    assert len(matches) == 380
    with transaction(engine) as session:
        for fixture in season:
            home, away = fixture["score"]["ft"]
            record_match_result(
                session,
                matches[(fixture["team1"], fixture["team2"])],
                participant1_score=home,
                participant2_score=away,
                completed_at=datetime.fromisoformat(fixture["date"]).replace(
                    tzinfo=UTC
                ),
            )

    table = standings(engine, competition_id)
    points = dict(zip(table["agent"], table["points"], strict=True))
    assert points == {club["id"]: club["rating"] for club in published["clubs"]}
    assert (table["matches"] == 38).all()
    assert (table["points"] == 3 * table["wins"] + table["draws"]).all()
    assert table.iloc[0]["agent"] == "Real Madrid"
    assert table.iloc[0]["rank"] == 1
    assert table["score_for"].sum() == table["score_against"].sum()


# --- pairwise rules ------------------------------------------------------


def test_points_follow_the_rules_and_ties_share_a_rank(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, _ = started(
        engine,
        university_id,
        agents,
        rules={"points": {"win": 2, "draw": 1}, "tie_breaks": ["points"]},
    )
    # a0 wins twice; a1, a2 and a3 each beat nobody but draw with each other
    # except a3, who loses to a1.
    play(
        engine,
        competition_id,
        {
            ("a0", "a1"): (2, 0),
            ("a0", "a2"): (1, 0),
            ("a0", "a3"): (0, 0),
            ("a1", "a2"): (1, 1),
            ("a1", "a3"): (3, 1),
            ("a2", "a3"): (2, 2),
        },
    )

    rows = by_agent(standings(engine, competition_id))
    assert {name: row["points"] for name, row in rows.items()} == {
        "a0": 5,
        "a1": 3,
        "a2": 2,
        "a3": 2,
    }
    assert {name: row["rank"] for name, row in rows.items()} == {
        "a0": 1,
        "a1": 2,
        "a2": 3,
        "a3": 3,
    }
    assert (rows["a1"]["wins"], rows["a1"]["draws"], rows["a1"]["losses"]) == (
        1,
        1,
        1,
    )
    assert rows["a1"]["score_for"] == 4.0
    assert rows["a1"]["score_against"] == 4.0


def test_default_tie_breaks_are_points_then_score_difference_then_score_for(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, _ = started(engine, university_id, agents)
    # Each wins once, so all have 3 points; the score difference decides.
    play(
        engine,
        competition_id,
        {("a0", "a1"): (3, 1), ("a1", "a2"): (5, 4), ("a2", "a0"): (2, 1)},
    )

    table = standings(engine, competition_id)
    rows = by_agent(table)
    assert [rows[n]["points"] for n in ("a0", "a1", "a2")] == [3, 3, 3]
    # a0: 4-3 (+1); a1: 6-7 (-1); a2: 6-6 (0).
    assert list(table["agent"]) == ["a0", "a2", "a1"]
    assert list(table["rank"]) == [1, 2, 3]


def test_custom_tie_break_order_is_applied(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, _ = started(
        engine,
        university_id,
        agents,
        rules={"tie_breaks": ["score_for", "points"]},
    )
    play(
        engine,
        competition_id,
        {("a0", "a1"): (1, 0), ("a0", "a2"): (1, 0), ("a1", "a2"): (9, 8)},
    )

    table = standings(engine, competition_id)
    # By score scored first: a1 9, a2 8, a0 2 (though a0 has the most points).
    assert list(table["agent"]) == ["a1", "a2", "a0"]


def test_lower_is_better_flips_the_score_tie_breaks(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(
        engine,
        university_id,
        agents,
        rules={"score_order": "lower_is_better", "tie_breaks": ["score_for"]},
    )
    play(engine, competition_id, {("a0", "a1"): (10, 7)})

    table = standings(engine, competition_id)
    assert list(table["agent"]) == ["a1", "a0"]
    assert by_agent(table)["a1"]["wins"] == 1


def test_competitors_without_results_appear_and_observers_do_not(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, _ = started(engine, university_id, agents[:2])

    table = standings(engine, competition_id)

    assert sorted(table["agent"]) == ["a0", "a1"]
    assert (table["matches"] == 0).all()
    assert (table["points"] == 0).all()
    assert (table["rank"] == 1).all()
    assert table["average_score"].isna().all()


def test_cancelled_matches_do_not_count(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(engine, university_id, agents, rules={"legs": 2})
    first, second = matches_of(engine, competition_id)
    record(engine, first.id, 1, 0)
    with transaction(engine) as session:
        cancel_competition(session, competition_id)

    table = standings(engine, competition_id)
    assert table["matches"].sum() == 2
    assert table["wins"].sum() == 1


# --- solo and tournaments ------------------------------------------------


def test_solo_standings_rank_by_mean_score(engine):
    university_id, agents = make_scene(engine, agents=3)
    competition_id, _ = started(
        engine, university_id, agents, competition_type="challenge"
    )
    scores = iter([0.25, 0.75, 0.75])
    for match in matches_of(engine, competition_id):
        record(engine, match.id, next(scores))

    table = standings(engine, competition_id)
    assert list(table["rank"]) == [1, 1, 3]
    assert list(table["agent"]) == ["a1", "a2", "a0"]
    assert list(table["average_score"]) == [0.75, 0.75, 0.25]
    assert (table["wins"] + table["losses"] + table["draws"] == 0).all()


def test_solo_lower_is_better_ranks_the_lowest_mean_first(engine):
    university_id, agents = make_scene(engine, agents=2)
    competition_id, _ = started(
        engine,
        university_id,
        agents,
        competition_type="solo",
        rules={"score_order": "lower_is_better"},
    )
    scores = iter([30.0, 12.0])
    for match in matches_of(engine, competition_id):
        record(engine, match.id, next(scores))

    assert list(standings(engine, competition_id)["agent"]) == ["a1", "a0"]


def test_tournament_standings_rank_by_stage_with_shared_ranks(engine):
    university_id, agents = make_scene(engine, agents=4)
    competition_id, _ = started(
        engine,
        university_id,
        agents,
        seeds=[1, 2, 3, 4],
        competition_type="tournament",
    )
    for match in matches_of(engine, competition_id):
        record(engine, match.id, 1, 0)
    final = matches_of(engine, competition_id)[-1]
    record(engine, final.id, 0, 1)

    rows = by_agent(standings(engine, competition_id))
    assert {n: (r["rank"], r["stage"]) for n, r in rows.items()} == {
        "a1": (1, 3),
        "a0": (2, 2),
        "a2": (3, 1),
        "a3": (3, 1),
    }


def test_tournament_matches_with_named_rounds_rank_by_points(engine):
    """Imported matches may name their rounds ("Final"); such a round is no
    stage, and the standings fall back to the next tie-breaks."""
    university_id, agents = make_scene(engine, agents=3)
    competition_id, participants = started(
        engine, university_id, agents[:2], competition_type="tournament"
    )
    final = matches_of(engine, competition_id)[0]
    record(engine, final.id, 3, 1)
    with transaction(engine) as session:
        session.add(
            CompetitionMatch(
                competition_id=competition_id,
                match_number=2,
                participant1_id=participants[1],
                participant2_id=participants[0],
                match_config={"round": "Replay"},
                participant1_score=0,
                participant2_score=2,
                winner_participant_id=participants[0],
                status="completed",
            )
        )

    table = standings(engine, competition_id)

    assert list(table["agent"]) == ["a0", "a1"]
    assert list(table["stage"]) == [2, 1]
    assert list(table["points"]) == [6, 0]


# --- rules and scope -----------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "competition_type", "message"),
    [
        ({"tie_breaks": []}, "head_to_head", "non-empty list"),
        ({"tie_breaks": ["stage"]}, "head_to_head", "'stage'"),
        ({"tie_breaks": ["points", "points"]}, "head_to_head", "twice"),
        ({"points": {"bonus": 1}}, "head_to_head", "unknown keys bonus"),
        ({"points": {"win": float("nan")}}, "head_to_head", "win nan"),
        ({"score_order": "best"}, "solo", "'best'"),
        ({"tie_break": "coin"}, "tournament", "'coin'"),
        ({"legs": True}, "head_to_head", "legs True"),
    ],
)
def test_parse_rules_refuses_rules_it_cannot_apply(rules, competition_type, message):
    with pytest.raises(InvalidInput, match=message):
        parse_rules(rules, competition_type)


def test_parse_rules_defaults():
    rules = parse_rules({}, "head_to_head")
    assert rules.points == {"win": 3, "draw": 1, "loss": 0}
    assert rules.tie_breaks == ("points", "score_difference", "score_for")
    assert parse_rules(None, "tournament").tie_breaks == (
        "stage",
        "points",
        "score_difference",
        "score_for",
    )
    assert parse_rules({}, "solo").tie_breaks == ("average_score",)


def test_shared_ranks_skip_after_a_tie():
    assert shared_ranks([(1,), (2,), (2,), (3,)]) == [1, 2, 2, 4]


def test_standings_are_scoped_to_the_university(engine):
    university_id, agents = make_scene(engine, agents=2)
    other_id, _ = make_scene(engine, agents=0)
    competition_id, _ = started(engine, university_id, agents, **window())

    assert len(standings(engine, competition_id, university_id=university_id)) == 2
    with pytest.raises(NotFound, match=competition_id):
        standings(engine, competition_id, university_id=other_id)
    with pytest.raises(NotFound):
        standings(engine, "no-such-competition")
