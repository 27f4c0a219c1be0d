"""Ratings: the Bradley-Terry fit from pair counts, bootstrap intervals,
shared ranks, and the leaderboard over a university's matches on SQLite and
PostgreSQL."""

from __future__ import annotations

import functools
import io
import itertools
import json
import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2
from sqlalchemy import event, select
from streamlit.testing.v1 import AppTest
from threadpoolctl import threadpool_info

from tests.factories import make_agent, make_university
from university_models import ratings, ui
from university_models.config import PROJECT_ROOT
from university_models.db import read_session, transaction
from university_models.errors import InvalidInput
from university_models.importers import import_results
from university_models.models import CompetitionMatch, University, UniversityAgent
from university_models.queries.leaderboard import (
    UNRATED_GROUP,
    match_records,
    rated_leaderboard,
)
from university_models.ratings import (
    ANCHOR,
    LEADERBOARD_COLUMNS,
    MIN_BOOTSTRAP_ROUNDS,
    MIN_MATCHES_FOR_INTERVAL,
    NO_INTERVAL_NOTE,
    ORDERED_ONLY_NOTE,
    UNBOUNDED_ABOVE_NOTE,
    UNBOUNDED_BELOW_NOTE,
    UNBOUNDED_NOTE,
    bootstrap_intervals,
    comparison_groups,
    fit_ratings,
    interval_ranks,
    leaderboard,
    pair_counts,
    results_version,
)
from university_models.services.agents import update_agent
from university_models.services.competitions import (
    add_participant,
    disqualify_participant,
    find_competition,
    record_match_result,
    schedule_competition,
    start_competition,
)


def pairs(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["agent_a", "agent_b", "wins_a", "wins_b", "ties"]
    )


def by_agent(frame: pd.DataFrame, column: str = "rating") -> dict:
    return dict(zip(frame["agent"], frame[column], strict=True))


def counts_of(matches: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Pair counts of (a, b, outcome) matches, one row per ordered pair in
    first-seen order, as a database might return them."""
    table: dict[tuple[str, str], list[int]] = {}
    for a, b, outcome in matches:
        cell = table.setdefault((a, b), [0, 0, 0])
        cell[{"a": 0, "b": 1, "tie": 2}[outcome]] += 1
    return pairs(*[(a, b, *cell) for (a, b), cell in table.items()])


# --- the fit ---------------------------------------------------------------


def test_rating_difference_follows_the_elo_scale_of_the_win_odds():
    # 10 wins to 1: odds 10, which the Elo scale puts 400 points apart.
    ratings = by_agent(fit_ratings(pairs(("a", "b", 100, 10, 0))))

    assert ratings["a"] - ratings["b"] == pytest.approx(400.0, abs=0.5)
    assert (ratings["a"] + ratings["b"]) / 2 == pytest.approx(ANCHOR)


def test_a_tie_counts_as_half_a_win_for_each_side():
    with_ties = fit_ratings(pairs(("a", "b", 2, 0, 2), ("b", "c", 1, 1, 0)))
    as_wins = fit_ratings(pairs(("a", "b", 3, 1, 0), ("b", "c", 1, 1, 0)))

    for agent, rating in by_agent(as_wins).items():
        assert by_agent(with_ties)[agent] == pytest.approx(rating, abs=1e-9)


def test_all_tie_data_gives_every_agent_the_anchor():
    ratings = fit_ratings(pairs(("a", "b", 0, 0, 5), ("b", "c", 0, 0, 3)))

    assert np.allclose(ratings["rating"], ANCHOR, atol=1e-9)


def test_an_unbeaten_agent_gets_a_finite_rating_above_the_rest():
    ratings = by_agent(fit_ratings(pairs(("a", "b", 3, 0, 0), ("b", "c", 2, 1, 0))))

    assert all(math.isfinite(value) for value in ratings.values())
    assert ratings["a"] > ratings["b"] > ratings["c"]


def test_swapped_sides_and_repeated_pairs_give_the_same_ratings():
    one_row = fit_ratings(pairs(("a", "b", 5, 2, 1), ("b", "c", 3, 3, 0)))
    split = fit_ratings(
        pairs(
            ("b", "a", 2, 5, 0),
            ("a", "b", 0, 0, 1),
            ("c", "b", 1, 2, 0),
            ("b", "c", 1, 2, 0),
        )
    )

    for agent, rating in by_agent(one_row).items():
        assert by_agent(split)[agent] == pytest.approx(rating, abs=1e-9)


def ordered_pairs(names: list[str]):
    """Two different agents, drawn without a filter: filtering equal names
    out made hypothesis's health check fail now and then."""
    return st.sampled_from(list(itertools.permutations(names, 2)))


outcomes = st.lists(
    st.tuples(
        ordered_pairs(["ann", "bob", "cy", "dee", "eve"]),
        st.sampled_from(["a", "b", "tie"]),
    ).map(lambda drawn: (*drawn[0], drawn[1])),
    min_size=1,
    max_size=60,
)


@settings(max_examples=30, deadline=None)
@given(matches=outcomes, seed=st.integers(0, 10_000))
def test_ratings_do_not_depend_on_the_order_of_the_matches(matches, seed):
    shuffled = list(matches)
    random.Random(seed).shuffle(shuffled)

    first = fit_ratings(counts_of(matches))
    second = fit_ratings(counts_of(shuffled))

    assert list(first["agent"]) == list(second["agent"])
    assert np.allclose(first["rating"], second["rating"], rtol=0, atol=1e-9)
    assert first["rating"].notna().all()

    # Agents numbered in another order get the same strengths too. Only
    # where a group is anchored may move: a group that is not strongly
    # connected is centred on its largest part, and between parts of equal
    # size the alphabetically first wins, so names that sort the other way
    # may shift the whole group by one constant.
    names = sorted({name for a, b, _ in matches for name in (a, b)})
    renamed = {name: f"{len(names) - n:02d}-{name}" for n, name in enumerate(names)}
    relabelled = fit_ratings(
        counts_of([(renamed[a], renamed[b], outcome) for a, b, outcome in shuffled])
    )
    again = by_agent(relabelled)
    for _, group in first.groupby("component"):
        shifts = [again[renamed[row.agent]] - row.rating for row in group.itertuples()]
        assert max(shifts) - min(shifts) < 1e-9


def test_disconnected_groups_are_reported_and_each_centred_on_the_anchor():
    counts = pairs(("a", "b", 6, 2, 0), ("c", "d", 1, 4, 0), ("d", "e", 2, 2, 1))

    ratings = fit_ratings(counts)
    groups = comparison_groups(counts)

    assert groups == [["c", "d", "e"], ["a", "b"]]
    assert np.isfinite(ratings["rating"]).all()
    for number, members in enumerate(groups):
        group = ratings[ratings["agent"].isin(members)]
        assert set(group["component"]) == {number}
        assert group["rating"].mean() == pytest.approx(ANCHOR, abs=1e-6)


def test_fit_ratings_lists_rows_by_group_then_rating_never_across_groups():
    # The fault: rows were sorted by rating over all groups, though ratings
    # of groups that never met are on different scales.
    counts = pairs(("a", "b", 9, 1, 0), ("c", "d", 5, 4, 0), ("d", "e", 4, 5, 0))

    ratings = fit_ratings(counts)

    # a (about 1190) is rated higher than anyone of the larger group, yet
    # listed after it: the larger group first, each by its own ratings.
    assert list(ratings["component"]) == [0, 0, 0, 1, 1]
    assert set(ratings["agent"][:3]) == {"c", "d", "e"}
    assert ratings["rating"][:3].is_monotonic_decreasing
    assert list(ratings["agent"][3:]) == ["a", "b"]
    assert ratings["rating"].iloc[3] > ratings["rating"].iloc[0]
    # One numbering for every caller: the leaderboard's groups are these.
    assert comparison_groups(counts) == [["c", "d", "e"], ["a", "b"]]


def test_a_group_that_never_lost_to_the_other_stays_finite():
    # Two groups, one of them unbeaten against nobody outside it: nothing
    # ties the groups together, and nothing must blow up.
    counts = pairs(("a", "b", 9, 0, 0), ("c", "d", 0, 0, 4))

    ratings = by_agent(fit_ratings(counts))

    assert all(math.isfinite(value) for value in ratings.values())
    assert ratings["c"] == pytest.approx(ANCHOR)


def test_pair_counts_that_cannot_be_fitted_are_refused():
    with pytest.raises(InvalidInput, match="paired with itself"):
        fit_ratings(pairs(("a", "a", 1, 0, 0)))
    with pytest.raises(InvalidInput, match="not negative"):
        fit_ratings(pairs(("a", "b", -1, 0, 0)))
    with pytest.raises(InvalidInput, match="missing"):
        fit_ratings(pd.DataFrame({"agent_a": ["a"], "agent_b": ["b"]}))


def test_no_pairs_give_no_ratings():
    assert fit_ratings(pairs()).empty
    assert bootstrap_intervals(pairs()).empty


# --- intervals and ranks ---------------------------------------------------


def test_bootstrap_intervals_are_reproducible_and_contain_the_rating():
    counts = pairs(("a", "b", 30, 10, 4), ("b", "c", 12, 12, 2), ("a", "c", 20, 5, 0))

    first = bootstrap_intervals(counts, rounds=150, seed=7)
    again = bootstrap_intervals(counts, rounds=150, seed=7)
    ratings = fit_ratings(counts).merge(first, on="agent")

    pd.testing.assert_frame_equal(first, again)
    assert (ratings["rating_lower"] <= ratings["rating"]).all()
    assert (ratings["rating"] <= ratings["rating_upper"]).all()
    assert (ratings["rating_upper"] - ratings["rating_lower"] > 1.0).all()


def test_intervals_narrow_as_matches_grow():
    few = bootstrap_intervals(pairs(("a", "b", 6, 4, 0)), rounds=100)
    many = bootstrap_intervals(pairs(("a", "b", 600, 400, 0)), rounds=100)

    width = lambda frame: (frame["rating_upper"] - frame["rating_lower"]).iloc[0]  # noqa: E731
    assert width(many) < width(few) / 3


def test_fewer_than_a_hundred_resamples_are_refused():
    with pytest.raises(InvalidInput, match="at least 100"):
        bootstrap_intervals(pairs(("a", "b", 1, 1, 0)), rounds=99)


def test_a_group_with_too_few_matches_gets_no_interval_but_a_note():
    counts = pairs(("a", "b", 3, 2, 0), ("c", "d", 8, 4, 0))

    intervals = bootstrap_intervals(counts, rounds=100).set_index("agent")

    assert intervals.loc[["a", "b"], "rating_lower"].isna().all()
    assert intervals.loc[["a", "b"], "rating_upper"].isna().all()
    assert intervals.loc["a", "interval_note"] == (
        f"{NO_INTERVAL_NOTE} (5 in this group, at least "
        f"{MIN_MATCHES_FOR_INTERVAL} needed)"
    )
    assert intervals.loc[["c", "d"], "rating_lower"].notna().all()
    assert intervals.loc[["c", "d"], "interval_note"].isna().all()


def test_a_group_that_only_drew_gets_no_zero_width_interval():
    # Every resample of 12 draws is 12 draws: the bootstrap would say
    # 1000 to 1000, which reads as certainty.
    intervals = bootstrap_intervals(pairs(("a", "b", 0, 0, 12)), rounds=100)

    assert intervals["rating_lower"].isna().all()
    assert intervals["rating_upper"].isna().all()
    assert (intervals["interval_note"].str.contains("every resample")).all()


def test_a_groups_intervals_depend_only_on_its_own_matches():
    alone = pairs(("a", "b", 9, 5, 1), ("b", "c", 6, 6, 2))
    with_other = pairs(("a", "b", 9, 5, 1), ("b", "c", 6, 6, 2), ("x", "y", 7, 4, 0))
    other_grown = pairs(("a", "b", 9, 5, 1), ("b", "c", 6, 6, 2), ("x", "y", 70, 40, 3))

    first = bootstrap_intervals(alone, rounds=100).set_index("agent")
    second = bootstrap_intervals(with_other, rounds=100).set_index("agent")
    third = bootstrap_intervals(other_grown, rounds=100).set_index("agent")

    for frame in (second, third):
        pd.testing.assert_frame_equal(frame.loc[["a", "b", "c"]], first)
    # The other group's own intervals did change with its matches.
    assert second.loc["x", "rating_lower"] != third.loc["x", "rating_lower"]


def pool_matches(names: list[str]):
    return st.lists(
        st.tuples(ordered_pairs(names), st.sampled_from(["a", "b"])).map(
            lambda drawn: (*drawn[0], drawn[1])
        ),
        min_size=10,
        max_size=30,
    )


@settings(max_examples=25, deadline=None)
@given(
    own=pool_matches(["ann", "bob", "cy"]),
    other=pool_matches(["xi", "yo", "zu"]),
)
def test_another_groups_matches_never_change_a_groups_intervals(own, other):
    alone = bootstrap_intervals(counts_of(own), rounds=100).set_index("agent")
    together = bootstrap_intervals(counts_of(own + other), rounds=100)
    together = together.set_index("agent").loc[alone.index]

    pd.testing.assert_frame_equal(together, alone, check_exact=False, atol=1e-9)


#: A strongly connected core: b, c and d each won and lost against the others.
CORE = [("b", "c", 6, 4, 1), ("c", "d", 5, 5, 0), ("b", "d", 7, 3, 0)]


def likelihood_gap(results: int) -> float:
    """Rating points above (below) its opponent at which ``results`` wins
    (losses) in a row have a log-likelihood 1.92 (chi-square(1) 95% / 2)
    below certainty: the likelihood-ratio bound of an unbeaten (winless)
    agent against one fixed opponent."""
    probability = math.exp(-chi2.ppf(0.95, 1) / 2 / results)
    return 400.0 * math.log10(probability / (1.0 - probability))


def rated(counts: pd.DataFrame) -> pd.DataFrame:
    intervals = bootstrap_intervals(counts, rounds=100)
    return fit_ratings(counts).merge(intervals, on="agent").set_index("agent")


def test_an_unbeaten_agent_is_unbounded_above_with_a_likelihood_lower_bound():
    # The fault: an unbeaten agent's rating is set by the ridge alone (it
    # grew with every win: 1879 after 10, 2859 after 100,000), and its
    # resamples only repeated that, so a 30-0 record got an interval a few
    # points wide.
    for wins in (5, 30, 100_000):
        board = rated(pairs(("a", "b", wins, 0, 0), *CORE))

        assert board.loc["a", "rating_upper"] == math.inf
        assert board.loc["a", "interval_note"] == UNBOUNDED_ABOVE_NOTE
        assert board.loc["a", "rating_lower"] - board.loc["b", "rating"] == (
            pytest.approx(likelihood_gap(wins), abs=1e-6)
        )
        core = board.loc[["b", "c", "d"]]
        assert core["interval_note"].isna().all()
        assert np.isfinite(core[["rating_lower", "rating_upper"]]).all().all()


def test_a_winless_agent_is_unbounded_below_with_a_likelihood_upper_bound():
    board = rated(pairs(*CORE, ("z", "d", 0, 12, 0)))

    assert board.loc["z", "rating_lower"] == -math.inf
    assert board.loc["z", "interval_note"] == UNBOUNDED_BELOW_NOTE
    assert board.loc["d", "rating"] - board.loc["z", "rating_upper"] == (
        pytest.approx(likelihood_gap(12), abs=1e-6)
    )


def test_an_agent_that_only_beat_an_unbounded_agent_is_bounded_through_its_bound():
    # x beat only a, which is itself unbeaten: x's lower bound stands on
    # a's lower bound, not on a's arbitrary rating; y only lost to a, and
    # nothing bounds it either way.
    board = rated(
        pairs(("a", "b", 30, 0, 0), *CORE, ("x", "a", 3, 0, 0), ("a", "y", 4, 0, 0))
    )

    assert board.loc["x", "rating_upper"] == math.inf
    assert board.loc["x", "rating_lower"] == pytest.approx(
        board.loc["a", "rating_lower"] + likelihood_gap(3), abs=1e-6
    )
    assert board.loc["y", "rating_lower"] == -math.inf
    assert board.loc["y", "rating_upper"] == math.inf
    assert board.loc["y", "interval_note"] == UNBOUNDED_NOTE


def test_the_core_keeps_its_ratings_whatever_an_unbeaten_agents_record():
    # The group is centred on its core: an unbounded rating no longer
    # drags the mean, and with it every other rating of the group.
    few = rated(pairs(("a", "b", 10, 0, 0), *CORE))
    many = rated(pairs(("a", "b", 100_000, 0, 0), *CORE))

    for agent in "bcd":
        assert many.loc[agent, "rating"] == pytest.approx(
            few.loc[agent, "rating"], abs=0.5
        )
    assert few.loc[["b", "c", "d"], "rating"].mean() == pytest.approx(ANCHOR)


def test_a_group_whose_wins_only_go_one_way_gets_no_interval():
    # A pure order (here a 30-0 record, and a chain) bounds no gap at all.
    for counts in (
        pairs(("a", "b", 30, 0, 0)),
        pairs(("a", "b", 12, 0, 0), ("b", "c", 9, 0, 0)),
    ):
        board = rated(counts)

        assert board["rating_lower"].isna().all()
        assert board["rating_upper"].isna().all()
        assert (board["interval_note"] == ORDERED_ONLY_NOTE).all()
        assert board["rating"].is_monotonic_decreasing


def test_interval_ranks_count_an_open_side_as_unbounded():
    # a unbounded above, z below: nobody is clearly ahead of a, and z is
    # clearly ahead of nobody.
    lower = pd.Series([1540.0, 960.0, 830.0, -math.inf])
    upper = pd.Series([math.inf, 1190.0, 1070.0, 648.0])

    assert list(interval_ranks(lower, upper)) == [1, 2, 2, 4]


def test_agents_whose_intervals_overlap_share_a_rank():
    lower = pd.Series([1100.0, 1080.0, 950.0, 700.0])
    upper = pd.Series([1200.0, 1150.0, 1090.0, 800.0])

    # 1 and 2 overlap; 3 is below 1's lower bound only; 4 below everyone.
    assert list(interval_ranks(lower, upper)) == [1, 1, 2, 4]


# --- the leaderboard over a university ------------------------------------


def import_text(engine, university_id, text, *, name, kind, file_name, append=False):
    with transaction(engine) as session:
        return import_results(
            session,
            io.BytesIO(text.encode("utf-8")),
            university_name_or_id=university_id,
            competition_name=name,
            competition_type=kind,
            file_name=file_name,
            append=append,
        )


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


@pytest.fixture
def university_id(engine) -> str:
    with transaction(engine) as session:
        university = make_university(session, name="Ratings U")
        make_agent(session, university, name="solo-only", agent_type="student")
        return university.id


def league(engine, university_id) -> None:
    """ann beats bob 3-1 and draws once (when is unknown), bob beats cy
    twice in 2025, cy beats ann once in 2026; a solo competition where
    solo-only and ann are scored."""
    rows = (
        [{"agent_a": "ann", "agent_b": "bob", "winner": "agent_a"}] * 3
        + [{"agent_a": "bob", "agent_b": "ann", "winner": "agent_a"}]
        + [{"agent_a": "ann", "agent_b": "bob", "winner": "tie"}]
        + [
            {
                "agent_a": "bob",
                "agent_b": "cy",
                "score_a": 2,
                "score_b": 1,
                "played_at": "2025-06-01T00:00:00Z",
            }
        ]
        * 2
        + [
            {
                "agent_a": "cy",
                "agent_b": "ann",
                "winner": "agent_a",
                "played_at": "2026-06-01T00:00:00Z",
            }
        ]
    )
    import_text(
        engine,
        university_id,
        jsonl(rows),
        name="League",
        kind="head_to_head",
        file_name="league.jsonl",
    )
    import_text(
        engine,
        university_id,
        "agent,challenge,score\nsolo-only,1,0.8\nsolo-only,2,0.6\nann,1,0.2\n",
        name="Tasks",
        kind="solo",
        file_name="tasks.csv",
    )


def test_pair_counts_are_aggregated_per_ordered_pair_in_the_database(
    engine, university_id
):
    league(engine, university_id)

    with read_session(engine) as session:
        counts = pair_counts(session, university_id)

    # By agent name, not id: ids are random, names are what the results say.
    table = {
        (row.agent_a, row.agent_b): (row.wins_a, row.wins_b, row.ties)
        for row in counts.itertuples()
    }
    assert table == {
        ("ann", "bob"): (3, 0, 1),
        ("bob", "ann"): (1, 0, 0),
        ("bob", "cy"): (2, 0, 0),
        ("cy", "ann"): (1, 0, 0),
    }


def test_leaderboard_has_ratings_records_points_and_solo_agents_last(
    engine, university_id
):
    league(engine, university_id)

    with read_session(engine) as session:
        board = leaderboard(session, university_id, bootstrap_rounds=100)

    assert list(board.columns) == LEADERBOARD_COLUMNS
    rows = {row.agent: row for row in board.itertuples()}
    assert (rows["ann"].wins, rows["ann"].draws, rows["ann"].losses) == (3, 1, 2)
    assert rows["ann"].matches == 7  # six pairwise and one solo task
    # The rating is fitted on the pairwise ones only; unrated agents have 0.
    assert (rows["ann"].rated_matches, rows["solo-only"].rated_matches) == (6, 0)
    assert rows["ann"].points == 3 * 3 + 1
    assert (rows["bob"].wins, rows["bob"].draws, rows["bob"].losses) == (3, 1, 3)
    assert rows["cy"].points == 3
    assert rows["solo-only"].average_score == pytest.approx(0.7)
    assert math.isnan(rows["solo-only"].rating)
    # The solo agent has no rating and comes after the three rated agents,
    # first of the agents without a rating.
    assert rows["solo-only"].rank == 1
    assert list(board["agent"])[-1] == "solo-only"
    # Eight pairwise matches are too few for an interval: none, and a note.
    for name in ("ann", "bob", "cy"):
        assert math.isnan(rows[name].rating_lower)
        assert rows[name].interval_note.startswith(NO_INTERVAL_NOTE)
    assert rows["solo-only"].interval_note is None
    assert board["rating"].dropna().mean() == pytest.approx(ANCHOR)


def test_leaderboard_filters_by_competition_type_and_time(engine, university_id):
    league(engine, university_id)

    with read_session(engine) as session:
        tasks = find_competition(session, university_id, "Tasks")
        only_tasks = leaderboard(
            session, university_id, competition_id=tasks.id, bootstrap_rounds=0
        )
        students = leaderboard(
            session, university_id, agent_type="student", bootstrap_rounds=0
        )
        in_2025 = leaderboard(
            session,
            university_id,
            played_to=datetime(2025, 12, 31, tzinfo=UTC),
            bootstrap_rounds=0,
        )

    assert sorted(only_tasks["agent"]) == ["ann", "solo-only"]
    assert only_tasks["rating"].isna().all()
    assert list(students["agent"]) == ["solo-only"]
    # Only the matches known to be played by then: not the undated ones.
    assert sorted(in_2025["agent"]) == ["bob", "cy"]
    cy = in_2025.set_index("agent").loc["cy"]
    assert (cy.wins, cy.losses) == (0, 2)


def test_leaderboard_reports_separate_comparison_groups(engine, university_id):
    rows = [{"agent_a": "p", "agent_b": "q", "winner": "model_a"}] * 2 + [
        {"agent_a": "r", "agent_b": "s", "winner": "tie"}
    ]
    import_text(
        engine,
        university_id,
        jsonl(rows),
        name="Split",
        kind="head_to_head",
        file_name="split.jsonl",
    )

    with read_session(engine) as session:
        board = leaderboard(session, university_id, bootstrap_rounds=100)

    assert sorted(board.attrs["groups"]) == [["p", "q"], ["r", "s"]]
    assert np.isfinite(board["rating"]).all()
    # Groups of equal size in the order of their first agent's name; each
    # is ranked on its own.
    rows = board.set_index("agent")
    assert list(board["agent"]) == ["p", "q", "r", "s"]
    assert [rows.loc[name, "component"] for name in "pqrs"] == [0, 0, 1, 1]
    assert [rows.loc[name, "rank"] for name in "pqrs"] == [1, 2, 1, 1]
    # Three matches are too few for an interval: none is shown, and why.
    assert board["rating_lower"].isna().all()
    assert rows.loc["p", "interval_note"].startswith("too few matches")


def rout(winner: str, loser: str, wins: int, losses: int) -> list[dict]:
    return [{"agent_a": winner, "agent_b": loser, "winner": "agent_a"}] * wins + [
        {"agent_a": winner, "agent_b": loser, "winner": "agent_b"}
    ] * losses


def test_agents_of_different_comparison_groups_are_ranked_within_their_own_group(
    engine, university_id
):
    # The fault: a strong group's top agent (far above 1000) pushed the top
    # agent of another group, centred on 1000 separately, down to rank 2.
    strong = rout("ace", "mid", 18, 2) + rout("mid", "low", 18, 2)
    strong += rout("ace", "low", 18, 2)
    import_text(
        engine,
        university_id,
        jsonl(strong),
        name="Strong",
        kind="head_to_head",
        file_name="strong.jsonl",
    )
    import_text(
        engine,
        university_id,
        jsonl(rout("rhea", "sol", 12, 8)),
        name="Other",
        kind="head_to_head",
        file_name="other.jsonl",
    )

    with read_session(engine) as session:
        board = leaderboard(session, university_id, bootstrap_rounds=100)

    rows = board.set_index("agent")
    # Ordered by group (the larger first), then rank; unrated last.
    assert list(board["agent"]) == ["ace", "mid", "low", "rhea", "sol"]
    assert list(board["component"].iloc[:5]) == [0, 0, 0, 1, 1]
    # rhea is below ace's whole interval, yet first of her own group.
    assert rows.loc["rhea", "rating_upper"] < rows.loc["ace", "rating_lower"]
    assert rows.loc["rhea", "rank"] == 1
    assert rows.loc["ace", "rank"] == 1
    assert rows.loc["low", "rank"] > 1
    # Each group's ranks are the shared ranks of its own intervals alone.
    for _, group in board.groupby("component"):
        expected = interval_ranks(group["rating_lower"], group["rating_upper"])
        assert list(group["rank"]) == list(expected)
    assert board["interval_note"].isna().all()


def test_leaderboard_ranks_an_unbeaten_agent_first_with_an_open_interval(
    engine, university_id
):
    strong = rout("ace", "mid", 24, 16) + rout("mid", "low", 24, 16)
    strong += rout("ace", "low", 26, 14) + rout("champ", "ace", 30, 0)
    import_text(
        engine,
        university_id,
        jsonl(strong),
        name="Strong",
        kind="head_to_head",
        file_name="strong.jsonl",
    )

    with read_session(engine) as session:
        board = rated_leaderboard(session, university_id, bootstrap_rounds=100)

    rows = board.set_index("agent")
    assert list(board["agent"][:4]) == ["champ", "ace", "mid", "low"]
    assert rows.loc["champ", "rating_upper"] == math.inf
    assert rows.loc["champ", "interval_note"] == UNBOUNDED_ABOVE_NOTE
    assert rows.loc["champ", "rank"] == 1
    # 30 wins in a row put champ clearly above ace, by the likelihood bound.
    assert rows.loc["champ", "rating_lower"] == pytest.approx(
        rows.loc["ace", "rating"] + likelihood_gap(30), abs=1e-6
    )
    assert rows.loc["ace", "rank"] == 2
    group = board[board["group"] == "group 1 (4 agents)"]
    expected = interval_ranks(group["rating_lower"], group["rating_upper"])
    assert list(group["rank"]) == list(expected)


def test_importing_into_one_group_leaves_another_groups_intervals_alone(
    engine, university_id
):
    league_rows = rout("ann", "bob", 8, 4) + rout("bob", "cy", 7, 5)
    import_text(
        engine,
        university_id,
        jsonl(league_rows),
        name="League",
        kind="head_to_head",
        file_name="league.jsonl",
    )
    import_text(
        engine,
        university_id,
        jsonl(rout("rhea", "sol", 7, 5)),
        name="Other",
        kind="head_to_head",
        file_name="other.jsonl",
    )
    with read_session(engine) as session:
        before = leaderboard(session, university_id, bootstrap_rounds=100)

    import_text(
        engine,
        university_id,
        jsonl(rout("sol", "rhea", 9, 3)),
        name="Other",
        kind="head_to_head",
        file_name="more.jsonl",
        append=True,
    )
    with read_session(engine) as session:
        after = leaderboard(session, university_id, bootstrap_rounds=100)

    columns = ["rating", "rating_lower", "rating_upper", "rank"]
    untouched = ["ann", "bob", "cy"]
    pd.testing.assert_frame_equal(
        after.set_index("agent").loc[untouched, columns],
        before.set_index("agent").loc[untouched, columns],
        check_exact=False,
        atol=1e-9,
        rtol=0,
    )
    assert (
        after.set_index("agent").loc["sol", "rating"]
        > before.set_index("agent").loc["sol", "rating"]
    )


def test_rated_leaderboard_labels_each_agents_group_for_the_page_and_export(
    engine, university_id
):
    league(engine, university_id)
    import_text(
        engine,
        university_id,
        jsonl(rout("rhea", "sol", 3, 1)),
        name="Other",
        kind="head_to_head",
        file_name="other.jsonl",
    )

    with read_session(engine) as session:
        board = rated_leaderboard(session, university_id, bootstrap_rounds=0)

    labels = dict(zip(board["agent"], board["group"], strict=True))
    assert labels == {
        "ann": "group 1 (3 agents)",
        "bob": "group 1 (3 agents)",
        "cy": "group 1 (3 agents)",
        "rhea": "group 2 (2 agents)",
        "sol": "group 2 (2 agents)",
        "solo-only": UNRATED_GROUP,
    }
    assert list(board["group"]) == sorted(
        board["group"], key=list(labels.values()).index
    )


def test_rated_leaderboard_reads_the_matches_once_per_aggregate_without_an_or_join(
    engine, university_id
):
    # The fault: the page's leaderboard aggregated the matches three times
    # (records joined "participant1 OR participant2", which no index
    # serves, then the same per-agent counts again, then the pairs): 23 to
    # 51 seconds on 1.1 million matches.
    league(engine, university_id)
    statements: list[str] = []

    def seen(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with read_session(engine) as session:
            board = rated_leaderboard(session, university_id, bootstrap_rounds=0)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    over_matches = [text for text in statements if "competition_matches" in text]
    assert len(over_matches) == 2  # one per-agent aggregate, one per pair
    assert not any(" OR " in text.upper() for text in over_matches)
    # Win rate and highest score come from that one aggregate, and agree
    # with the records the exports count.
    rows = board.set_index("agent")
    # Three wins and a draw (half a win) in six two-sided matches.
    assert rows.loc["ann", "win_rate"] == pytest.approx((3 + 0.5) / 6)
    assert rows.loc["bob", "highest_score"] == pytest.approx(2.0)
    assert rows.loc["solo-only", "highest_score"] == pytest.approx(0.8)
    assert math.isnan(rows.loc["solo-only", "win_rate"])
    with read_session(engine) as session:
        records = match_records(session, university_id).set_index("agent")
    columns = ["matches", "wins", "draws", "losses", "win_rate", "highest_score"]
    pd.testing.assert_frame_equal(
        records.loc[rows.index, columns], rows[columns], check_dtype=False
    )


def test_agent_profile_reuses_the_leaderboard_pages_cached_ratings(
    engine, university_id, monkeypatch
):
    # The fault: the profile called ratings.leaderboard itself, with other
    # arguments than the Leaderboard page (so another cache entry): a fit
    # and 200 resamples, 1.4 to 1.8 seconds, for every profile opened.
    league(engine, university_id)
    with read_session(engine) as session:
        ann_id = session.scalars(
            select(UniversityAgent.id).where(UniversityAgent.name == "ann")
        ).one()
    monkeypatch.setattr(
        "university_models.queries.leaderboard.BOOTSTRAP_ROUNDS",
        MIN_BOOTSTRAP_ROUNDS,
    )
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    fits: list[dict] = []

    @functools.wraps(ratings.leaderboard)
    def counted(*args, **kwargs):
        fits.append(kwargs)
        return counted.__wrapped__(*args, **kwargs)

    monkeypatch.setattr("university_models.ratings.leaderboard", counted)
    ui.engine.clear()
    ui.clear_caches()
    try:
        app = AppTest.from_file(str(PROJECT_ROOT / "streamlit_app.py"))
        app.default_timeout = 60
        app.query_params["university"] = university_id
        app.switch_page("pages/leaderboard.py").run()
        assert not app.exception
        assert len(fits) == 1

        app.switch_page("pages/agents.py").run()
        app.selectbox(key="profile_agent").set_value(ann_id).run()
        assert not app.exception
        profile = "\n".join(str(element.value) for element in app.markdown)
        assert "Rating **" in profile
        assert "of 3 agents in its comparison group" in profile
        assert len(fits) == 1  # the page's answer, from the cache
    finally:
        ui.engine.clear()
        ui.clear_caches()


def test_an_empty_university_has_an_empty_leaderboard(engine, university_id):
    with read_session(engine) as session:
        board = leaderboard(session, university_id)

    assert board.empty
    assert list(board.columns) == LEADERBOARD_COLUMNS


def test_results_version_changes_when_results_change(engine, university_id):
    with read_session(engine) as session:
        empty = results_version(session, university_id)
    league(engine, university_id)
    with read_session(engine) as session:
        league_version = results_version(session, university_id)
        again = results_version(session, university_id)

    import_text(
        engine,
        university_id,
        jsonl([{"agent_a": "ann", "agent_b": "cy", "winner": "tie"}]),
        name="League",
        kind="head_to_head",
        file_name="more.jsonl",
        append=True,
    )
    with read_session(engine) as session:
        appended = results_version(session, university_id)
        league_only = find_competition(session, university_id, "League")
        scoped = results_version(session, university_id, league_only.id)

    assert empty[0] == 0
    assert league_version == again
    assert appended != league_version
    assert scoped[0] == 9


def played_match(engine, university_id) -> tuple[str, str, str]:
    """A round robin of two agents, started: (match id, agent ids)."""
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with transaction(engine) as session:
        university = session.get(University, university_id)
        ann = make_agent(session, university, name="ann")
        bob = make_agent(session, university, name="bob")
        competition = schedule_competition(
            session,
            university_id,
            name="Pair",
            competition_type="head_to_head",
            scheduled_start=start,
            scheduled_end=start + timedelta(days=1),
        )
        for agent in (ann, bob):
            add_participant(session, competition.id, agent.id)
        start_competition(session, competition.id)
        match_id = session.scalars(
            select(CompetitionMatch.id).where(
                CompetitionMatch.competition_id == competition.id
            )
        ).one()
    return match_id, ann.id, bob.id


def test_results_version_changes_when_a_correction_swaps_the_scores_at_the_same_time(
    engine, university_id
):
    # The fault: the version was (matches, latest completed_at, score sum,
    # decided matches), which a correction that swaps the scores and keeps
    # completed_at leaves as it was, so the page kept the old leaderboard.
    match_id, _, _ = played_match(engine, university_id)
    when = datetime(2026, 1, 1, 12, tzinfo=UTC)

    def record(first: float, second: float) -> tuple:
        with transaction(engine) as session:
            record_match_result(
                session,
                match_id,
                participant1_score=first,
                participant2_score=second,
                completed_at=when,
            )
        with read_session(engine) as session:
            return results_version(session, university_id)

    recorded = record(3.0, 1.0)
    corrected = record(1.0, 3.0)

    assert corrected[0] == recorded[0] == 1
    assert corrected != recorded


def test_results_version_changes_when_an_agents_specialization_changes(
    engine, university_id
):
    # The Leaderboard filters by specialization: the cached table must follow.
    _, ann_id, _ = played_match(engine, university_id)
    with read_session(engine) as session:
        before = results_version(session, university_id)

    with transaction(engine) as session:
        update_agent(session, ann_id, specialization="math")
    with read_session(engine) as session:
        after = results_version(session, university_id)

    assert after != before


def test_fits_solve_with_one_blas_thread(monkeypatch):
    # Many small dense solves: threads only slowed them (26 s against 1.5 s
    # for a 300-agent bootstrap on two cores).
    threads_seen = []
    solve = np.linalg.solve

    def watching_solve(*args, **kwargs):
        threads_seen.extend(
            pool["num_threads"]
            for pool in threadpool_info()
            if pool["user_api"] == "blas"
        )
        return solve(*args, **kwargs)

    monkeypatch.setattr(np.linalg, "solve", watching_solve)

    fit_ratings(pairs(("a", "b", 5, 3, 1), ("b", "c", 4, 4, 2)))

    assert threads_seen and set(threads_seen) == {1}


def test_a_walkover_gives_no_rating_evidence(engine, university_id):
    match_id, ann, bob = played_match(engine, university_id)
    with transaction(engine) as session:
        match = session.get(CompetitionMatch, match_id)
        bob_side = match.participant2_id
        disqualify_participant(session, bob_side)

    with read_session(engine) as session:
        counts = pair_counts(session, university_id)
        board = leaderboard(session, university_id, bootstrap_rounds=0)

    # Ann won by walkover: a win in her record, nothing for the ratings.
    assert counts.empty
    assert board.set_index("agent").loc["ann", "wins"] == 1
    assert board.set_index("agent").loc["ann", "rated_matches"] == 0
