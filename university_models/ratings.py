"""Confidence-aware ratings of agents from their pairwise matches.

The method (written out for readers in ``docs/ratings.md``):

* Bradley-Terry maximum likelihood. Agent ``i`` beats agent ``j`` with
  probability ``1 / (1 + 10 ** ((r_j - r_i) / 400))``: the Elo scale, where 400
  rating points are a factor of 10 in the odds. A drawn match counts as half a
  win for each side.
* The fit reads the PAIR COUNTS only (wins of each side and draws per pair of
  agents, aggregated by the database), so its cost follows the number of
  distinct pairs, not the number of matches, and the result cannot depend on
  the order of the matches.
* A tiny ridge penalty (``RIDGE``) keeps every rating finite: for an agent that
  never lost, and for groups of agents that never met the others (a
  disconnected comparison graph). The ratings of each connected group are
  centred on ``ANCHOR``; ratings of different groups are not comparable, and
  the groups are reported.
* A rating the results do not bound is said so: within a group, the part
  whose agents all beat and lost to each other (directly or through others)
  is the group's core, and the group is centred on it; an agent outside it
  (an unbeaten agent, a winless one) has an interval open on that side
  (+inf / -inf) and a note, its other bound from the likelihood. A group
  whose wins only go one way gets no interval.
* 95% intervals come from a bootstrap over matches, per connected group:
  every resample draws as many matches as the group has, with replacement,
  which is a multinomial draw over the (pair, outcome) counts; each group has
  its own generator seeded from the seed and its agents, so the intervals are
  reproducible and a group's intervals depend on its own matches only. A group
  with fewer than ``MIN_MATCHES_FOR_INTERVAL`` matches, or whose resamples are
  all the same, gets no interval (NaN and a note) rather than a false one.
* Rank, within each group: 1 + the number of the group's agents whose lower
  bound is above this agent's upper bound. Agents whose intervals overlap
  cannot be told apart and may share a rank; agents of different groups never
  met and are not ranked against each other.
"""

from __future__ import annotations

import hashlib
import logging
import math
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components
from scipy.stats import chi2
from sqlalchemy import and_, false, func, select, union_all
from sqlalchemy.orm import Session, aliased
from threadpoolctl import threadpool_limits

from university_models.errors import InvalidInput
from university_models.models import (
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    University,
    UniversityAgent,
)
from university_models.services.competitions import FORFEIT
from university_models.standings import parse_rules

log = logging.getLogger(__name__)

#: Rating points per natural-log unit of strength: 400 points per factor 10.
ELO_SCALE = 400.0 / math.log(10.0)

#: The mean rating of every connected group of agents.
ANCHOR = 1000.0

#: Ridge penalty on the natural-log strengths (a Gaussian prior with standard
#: deviation 1/sqrt(RIDGE) ~ 32 natural units ~ 13,700 rating points). It moves
#: the rating of an agent with a few dozen results by well under a point, and
#: keeps an agent that won (or lost) every match finite (about 1,200 points
#: above its opponent after three wins).
RIDGE = 1e-3

#: Above this many agents the fit stops after L-BFGS-B (a Newton step would
#: solve a dense system of that size).
NEWTON_POLISH_MAX_AGENTS = 2_000
NEWTON_STEPS = 12
#: A Newton point is accepted when no gradient component of the (un-
#: normalised) log-likelihood exceeds this times the number of matches.
NEWTON_TOLERANCE = 1e-10

#: Resamples below this give intervals too noisy to rank with.
MIN_BOOTSTRAP_ROUNDS = 100

#: A comparison group with fewer matches than this gets no interval: a
#: bootstrap over a handful of matches mostly repeats them and gives
#: intervals that are narrower than the truth (or zero wide).
MIN_MATCHES_FOR_INTERVAL = 10

#: Intervals of a group all at most this many rating points wide mean that
#: every resample gave the same ratings: no interval is shown.
ZERO_WIDTH = 1e-6

#: What ``interval_note`` says when an agent has no interval.
NO_INTERVAL_NOTE = "too few matches for an interval"

#: What ``interval_note`` says for a group whose wins all go one way.
ORDERED_ONLY_NOTE = (
    "no interval: in this group wins only ever go one way, so no rating gap is bounded"
)

#: What ``interval_note`` says for an agent outside its group's core whose
#: interval is open on one side (``rating_upper`` +inf, ``rating_lower``
#: -inf), or on both.
UNBOUNDED_ABOVE_NOTE = (
    "unbounded above: the core of its group never beat it, directly or through others"
)
UNBOUNDED_BELOW_NOTE = (
    "unbounded below: it never beat the core of its group, directly or through others"
)
UNBOUNDED_NOTE = (
    "unbounded: its wins and losses never link it both ways to the core of its group"
)

#: The pair-count columns ``fit_ratings`` and ``bootstrap_intervals`` read.
PAIR_COUNT_COLUMNS = ["agent_a", "agent_b", "wins_a", "wins_b", "ties"]

#: The columns of ``leaderboard``, in order.
LEADERBOARD_COLUMNS = [
    "rank",
    "agent",
    "agent_id",
    "rating",
    "rating_lower",
    "rating_upper",
    "matches",
    "wins",
    "draws",
    "losses",
    "points",
    "average_score",
    "component",
    "interval_note",
    "agent_type",
    "specialization",
    "win_rate",
    "highest_score",
    "rated_matches",
]


class _PairTable:
    """Pair counts in canonical form: each unordered pair once, ``a < b``,
    sorted, so that the same results always give the same arrays."""

    def __init__(self, pair_counts: pd.DataFrame) -> None:
        missing = [
            name for name in PAIR_COUNT_COLUMNS if name not in pair_counts.columns
        ]
        if missing:
            raise InvalidInput(
                f"Pair counts need the columns {PAIR_COUNT_COLUMNS}; missing {missing}."
            )
        frame = pair_counts[PAIR_COUNT_COLUMNS].copy()
        counts = frame[["wins_a", "wins_b", "ties"]].to_numpy(dtype=float)
        if not np.all(np.isfinite(counts)) or (counts < 0).any():
            raise InvalidInput(
                "Pair counts must be finite and not negative: fix the wins and ties."
            )
        same = frame["agent_a"] == frame["agent_b"]
        if same.any():
            raise InvalidInput(
                f"Agent {frame.loc[same, 'agent_a'].iloc[0]!r} is paired with "
                "itself: a match needs two different agents."
            )

        # Swap sides where needed so that every pair reads a < b.
        swap = frame["agent_a"].astype(str) > frame["agent_b"].astype(str)
        canonical = pd.DataFrame(
            {
                "a": np.where(swap, frame["agent_b"], frame["agent_a"]),
                "b": np.where(swap, frame["agent_a"], frame["agent_b"]),
                "wins_a": np.where(swap, counts[:, 1], counts[:, 0]),
                "wins_b": np.where(swap, counts[:, 0], counts[:, 1]),
                "ties": counts[:, 2],
            }
        )
        canonical = (
            canonical.groupby(["a", "b"], sort=True, as_index=False)
            .sum()
            .sort_values(["a", "b"], key=lambda column: column.astype(str))
            .reset_index(drop=True)
        )

        self.agents: list[Any] = sorted(
            set(canonical["a"]) | set(canonical["b"]), key=str
        )
        index = {agent: position for position, agent in enumerate(self.agents)}
        self.i = canonical["a"].map(index).to_numpy(dtype=np.intp)
        self.j = canonical["b"].map(index).to_numpy(dtype=np.intp)
        #: One row per pair: wins of a, wins of b, ties.
        self.cells = canonical[["wins_a", "wins_b", "ties"]].to_numpy(dtype=float)
        self.components = self._components()
        self._identify()

    def _components(self) -> np.ndarray:
        size = len(self.agents)
        played = self.cells.sum(axis=1) > 0
        graph = coo_matrix(
            (np.ones(played.sum()), (self.i[played], self.j[played])),
            shape=(size, size),
        )
        _, labels = connected_components(graph, directed=False)
        return labels

    def _identify(self) -> None:
        """Which ratings the results pin down.

        The win graph has an arrow from every agent to each agent it beat
        (a draw: both ways). Within a comparison group, the likelihood has a
        finite maximum only if every agent can be reached from every other
        along arrows (the graph is strongly connected); otherwise some gap
        between ratings grows without limit (an unbeaten agent's rating, or
        a whole part that never lost to the rest) and only the ridge stops
        it. Each group's CORE is its largest strongly connected part (equal
        sizes: the one with the alphabetically first agent); the group is
        centred on its core, and an agent outside it is unbounded above when
        no arrow path leads from the core to it (the core never beat it,
        directly or through others), unbounded below when no path leads
        from it to the core. A group whose parts are all single agents (wins
        only one way: a pure order) has no core worth the name: it is
        centred on all its agents and flagged ``ordered_only``.

        Sets ``strong`` (strongly connected part per agent), ``reference``
        (the agents each group is centred on), ``open_above``,
        ``open_below`` and ``ordered_only`` (one flag per agent).
        """
        size = len(self.agents)
        beat = (self.cells[:, 0] + self.cells[:, 2]) > 0
        lost = (self.cells[:, 1] + self.cells[:, 2]) > 0
        source = np.concatenate([self.i[beat], self.j[lost]])
        target = np.concatenate([self.j[beat], self.i[lost]])
        self.wins_graph = csr_matrix(
            (np.ones(len(source)), (source, target)), shape=(size, size)
        )
        _, self.strong = connected_components(
            self.wins_graph, directed=True, connection="strong"
        )
        self.reference = np.zeros(size, dtype=bool)
        self.open_above = np.zeros(size, dtype=bool)
        self.open_below = np.zeros(size, dtype=bool)
        self.ordered_only = np.zeros(size, dtype=bool)
        beaten_by = None
        for label in np.unique(self.components):
            members = np.flatnonzero(self.components == label)
            parts = self.strong[members]
            # Largest part; equal sizes by their first (alphabetical) agent.
            sizes = {part: int((parts == part).sum()) for part in np.unique(parts)}
            first = {part: int(members[parts == part][0]) for part in sizes}
            core_part = max(sizes, key=lambda part: (sizes[part], -first[part]))
            core = members[parts == core_part]
            if len(core) == len(members):
                self.reference[members] = True
                continue
            if len(core) == 1:
                self.reference[members] = True
                self.ordered_only[members] = True
                continue

            self.reference[core] = True
            if beaten_by is None:
                beaten_by = self.wins_graph.transpose().tocsr()
            below = breadth_first_order(
                self.wins_graph, core[0], directed=True, return_predecessors=False
            )
            above = breadth_first_order(
                beaten_by, core[0], directed=True, return_predecessors=False
            )
            self.open_above[members[~np.isin(members, below)]] = True
            self.open_below[members[~np.isin(members, above)]] = True

    def matches_per_agent(self, cells: np.ndarray | None = None) -> np.ndarray:
        cells = self.cells if cells is None else cells
        per_pair = cells.sum(axis=1)
        size = len(self.agents)
        return np.bincount(self.i, per_pair, size) + np.bincount(self.j, per_pair, size)


# The fits solve many small dense systems: BLAS threads cost more to start
# and synchronise than they save there, and they fight the server's other
# work for the cores (a 300-agent bootstrap took 26 s with threads and 1.5 s
# without, on two cores).
@threadpool_limits.wrap(limits=1, user_api="blas")
def _fit_strengths(
    table: _PairTable, cells: np.ndarray, start: np.ndarray | None = None
) -> np.ndarray:
    """Natural-log strengths maximising the penalised Bradley-Terry
    likelihood of ``cells`` (wins a, wins b, ties per pair)."""
    size = len(table.agents)
    if size == 0:
        return np.zeros(0)

    # Ties are half a win for each side.
    wins_i = cells[:, 0] + 0.5 * cells[:, 2]
    wins_j = cells[:, 1] + 0.5 * cells[:, 2]
    games = wins_i + wins_j
    # Normalising by the number of matches keeps the gradient tolerance
    # meaningful for ten matches and for a million.
    scale = max(float(games.sum()), 1.0)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        difference = theta[table.i] - theta[table.j]
        loss = wins_i @ np.logaddexp(0.0, -difference) + wins_j @ np.logaddexp(
            0.0, difference
        )
        loss += 0.5 * RIDGE * float(theta @ theta)
        probability = 0.5 * (1.0 + np.tanh(0.5 * difference))
        slope = games * probability - wins_i
        gradient = np.bincount(table.i, slope, size) - np.bincount(table.j, slope, size)
        gradient += RIDGE * theta
        return loss / scale, gradient / scale

    newton = size <= NEWTON_POLISH_MAX_AGENTS
    if start is not None and newton:
        # A bootstrap resample starts at the fitted ratings, close to its own
        # optimum, where Newton converges in a few steps; L-BFGS-B is the
        # fallback when it does not.
        theta, norm = _newton(table, wins_i, games, start)
        if norm <= NEWTON_TOLERANCE * scale:
            return theta

    result = minimize(
        objective,
        np.zeros(size) if start is None else start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 10_000, "ftol": 1e-15, "gtol": 1e-12},
    )
    if not result.success:
        # L-BFGS-B stops with a line-search warning when it cannot improve in
        # the last digits; the Newton polish below finishes the job.
        log.debug("rating fit stopped: %s", result.message)
    if newton:
        return _newton(table, wins_i, games, result.x)[0]
    return result.x


def _newton(
    table: _PairTable, wins_i: np.ndarray, games: np.ndarray, theta: np.ndarray
) -> tuple[np.ndarray, float]:
    """Newton steps from ``theta``; the best point and its largest gradient
    component.

    Why: the penalised likelihood is strictly concave, so Newton converges
    quadratically to the one optimum from a nearby point; after it the
    ratings agree to machine precision whatever order the agents were
    numbered in, which L-BFGS-B's tolerance alone does not promise. A step
    that does not shrink the gradient ends the steps (outside the region
    where Newton converges).
    """
    size = len(theta)
    best, best_norm = theta, np.inf
    diagonal = np.arange(size) * (size + 1)
    for _ in range(NEWTON_STEPS):
        difference = theta[table.i] - theta[table.j]
        probability = 0.5 * (1.0 + np.tanh(0.5 * difference))
        slope = games * probability - wins_i
        gradient = (
            np.bincount(table.i, slope, size)
            - np.bincount(table.j, slope, size)
            + RIDGE * theta
        )
        norm = float(np.max(np.abs(gradient)))
        if norm >= best_norm:
            break
        best, best_norm = theta, norm
        if norm == 0.0:
            break

        weight = games * probability * (1.0 - probability)
        hessian = np.bincount(
            np.concatenate(
                [
                    table.i * (size + 1),
                    table.j * (size + 1),
                    table.i * size + table.j,
                    table.j * size + table.i,
                ]
            ),
            np.concatenate([weight, weight, -weight, -weight]),
            size * size,
        )
        hessian[diagonal] += RIDGE
        theta = theta - np.linalg.solve(hessian.reshape(size, size), gradient)
    return best, best_norm


def _to_ratings(table: _PairTable, theta: np.ndarray) -> np.ndarray:
    """Elo-scale ratings, each connected group's core (``_PairTable.
    _identify``; the whole group when it is strongly connected, as usual)
    centred on ``ANCHOR``: a rating the results do not bound must not drag
    the others."""
    centred = theta.copy()
    for label in np.unique(table.components):
        members = table.components == label
        centred[members] -= centred[members & table.reference].mean()
    return ANCHOR + ELO_SCALE * centred


def fit_ratings(pair_counts: pd.DataFrame) -> pd.DataFrame:
    """Bradley-Terry ratings on the Elo scale from pair counts.

    ``pair_counts`` has one row per pair of agents (either order, a pair may
    appear more than once): ``agent_a``, ``agent_b``, ``wins_a``, ``wins_b``,
    ``ties``; agents are named by any text key (the leaderboard uses their
    names). Returns one row per agent, sorted by group (``component``), then
    rating (highest first), then agent: ``agent``, ``rating``, ``matches``,
    ``component``.

    Rules: a tie is half a win for each side; 400 points are a factor of 10
    in the odds; the result depends on the counts only (never on the order
    of rows or matches); all-tie data gives every agent ``ANCHOR``; each
    connected group of the comparison graph is centred on ``ANCHOR``
    (``component`` numbers the groups as ``comparison_groups`` lists them:
    0 the largest, equal sizes by their alphabetically first agent) and a
    tiny ridge penalty keeps unbeaten agents and separate groups finite.
    Ratings of different groups are not comparable, so the rows are never
    sorted by rating across groups.
    """
    table = _PairTable(pair_counts)
    theta = _fit_strengths(table, table.cells)
    ratings = _to_ratings(table, theta)
    result = pd.DataFrame(
        {
            "agent": table.agents,
            "rating": ratings,
            "matches": table.matches_per_agent().astype(int),
            "component": _component_numbers(table),
        }
    )
    return result.sort_values(
        ["component", "rating", "agent"], ascending=[True, False, True], key=_sort_key
    ).reset_index(drop=True)


def _sort_key(column: pd.Series) -> pd.Series:
    return column.astype(str) if column.name == "agent" else column


def _component_numbers(table: _PairTable) -> np.ndarray:
    """The comparison groups numbered in the one order every caller shows
    them: 0 the largest, equal sizes by their alphabetically first agent
    (``table.agents`` is sorted, so that is the group's first position).
    Never by rating: every group is centred on ``ANCHOR``, so ratings say
    nothing about one group against another."""
    labels = table.components
    unique = np.unique(labels)
    order = sorted(
        unique,
        key=lambda label: (-(labels == label).sum(), int(np.argmax(labels == label))),
    )
    renumber = {label: number for number, label in enumerate(order)}
    return np.array([renumber[label] for label in labels], dtype=int)


def comparison_groups(pair_counts: pd.DataFrame) -> list[list[Any]]:
    """The connected groups of the comparison graph, largest first.

    Rule: two agents are in one group when a chain of matches links them;
    ratings are comparable only within a group. One group means the graph
    is connected.
    """
    table = _PairTable(pair_counts)
    numbers = _component_numbers(table)
    return [
        [
            agent
            for agent, group in zip(table.agents, numbers, strict=True)
            if group == n
        ]
        for n in range(int(numbers.max()) + 1 if len(numbers) else 0)
    ]


def bootstrap_intervals(
    pair_counts: pd.DataFrame,
    *,
    rounds: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
    min_matches: int = MIN_MATCHES_FOR_INTERVAL,
) -> pd.DataFrame:
    """Bootstrap intervals of the ratings: ``agent``, ``rating_lower``,
    ``rating_upper``, ``interval_note``.

    Rules: each comparison group is resampled on its own: each of ``rounds``
    resamples draws as many matches as the group has, with replacement, from
    the group's matches (one multinomial over its (pair, outcome) counts, so
    the cost follows the pairs), and the group is refitted and centred on
    ``ANCHOR``. Every group has its own random generator, seeded from
    ``seed`` and the group's sorted agent keys (the leaderboard passes
    names, unique within a university), and the cells are ordered by those
    keys, so the same results give the same intervals in any university and
    on either engine, and a group's intervals depend only on its own
    matches (importing into one group leaves the others' as they were).
    At least ``MIN_BOOTSTRAP_ROUNDS`` resamples are required. The bounds are
    the (1 - confidence) / 2 and (1 + confidence) / 2 quantiles of the
    resampled ratings.

    No interval (NaN bounds and ``interval_note`` saying why) for a group
    with fewer than ``min_matches`` matches, nor for a group whose
    resamples all gave the same ratings (e.g. two agents that only drew): a
    zero-width interval would read as certainty it does not have. Nor for a
    group whose wins only ever go one way (``ORDERED_ONLY_NOTE``): the
    results order its agents and bound no gap.

    Ratings the results do not bound (``_PairTable._identify``): an agent
    outside its group's core has ``rating_upper`` = +inf when the core never
    beat it, ``rating_lower`` = -inf when it never beat the core (both when
    neither), and ``interval_note`` says which. Its other bound is not taken
    from the resamples, which only repeat the ridge's arbitrary value (a
    30-0 record gave an interval a few points wide); it is the
    likelihood-ratio bound ``_open_side_bounds``.
    """
    if rounds < MIN_BOOTSTRAP_ROUNDS:
        raise InvalidInput(
            f"{rounds} bootstrap rounds are too few for an interval: use at least "
            f"{MIN_BOOTSTRAP_ROUNDS}."
        )
    if not 0.0 < confidence < 1.0:
        raise InvalidInput(
            f"Confidence {confidence} is not a probability: use e.g. 0.95."
        )
    if min_matches < 1:
        raise InvalidInput(
            f"An interval needs at least one match, not {min_matches}: use e.g. "
            f"{MIN_MATCHES_FOR_INTERVAL}."
        )

    table = _PairTable(pair_counts)
    size = len(table.agents)
    lower = np.full(size, np.nan)
    upper = np.full(size, np.nan)
    notes: list[str | None] = [None] * size
    tail = (1.0 - confidence) / 2.0
    played = table.cells.sum(axis=1) > 0

    for label in np.unique(table.components):
        members = np.flatnonzero(table.components == label)
        rows = played & (table.components[table.i] == label)
        total = int(round(table.cells[rows].sum()))
        if total < min_matches:
            for member in members:
                notes[member] = (
                    f"{NO_INTERVAL_NOTE} ({total} in this group, "
                    f"at least {min_matches} needed)"
                )
            continue

        group = _PairTable(
            pd.DataFrame(
                {
                    "agent_a": [table.agents[k] for k in table.i[rows]],
                    "agent_b": [table.agents[k] for k in table.j[rows]],
                    "wins_a": table.cells[rows, 0],
                    "wins_b": table.cells[rows, 1],
                    "ties": table.cells[rows, 2],
                }
            )
        )
        if group.ordered_only.any():
            for member in members:
                notes[member] = ORDERED_ONLY_NOTE
            continue

        point = _fit_strengths(group, group.cells)
        samples = _resample_group(group, rounds, seed, point)
        low, high = np.quantile(samples, [tail, 1.0 - tail], axis=0)
        position = {agent: k for k, agent in enumerate(group.agents)}
        core = group.reference
        if np.all(high[core] - low[core] <= ZERO_WIDTH):
            for member in members:
                notes[member] = (
                    f"{NO_INTERVAL_NOTE} (every resample gave the same ratings)"
                )
            continue
        outside = ~core
        if outside.any():
            open_low, open_high = _open_side_bounds(
                group, _to_ratings(group, point), confidence
            )
            low[outside], high[outside] = open_low[outside], open_high[outside]
        for member in members:
            k = position[table.agents[member]]
            lower[member], upper[member] = low[k], high[k]
            notes[member] = _open_note(group, k)

    return pd.DataFrame(
        {
            "agent": table.agents,
            "rating_lower": lower,
            "rating_upper": upper,
            "interval_note": pd.Series(notes, dtype=object),
        }
    )


def _group_generator(agents: list[Any], seed: int) -> np.random.Generator:
    """A random generator of its own for one comparison group, from the
    seed and the group's sorted agent keys (names on the leaderboard, not
    ids: ids are random, so the same results imported into two
    universities drew different resamples). The group's resamples depend
    on no other group."""
    key = "\x1f".join(sorted(str(agent) for agent in agents)).encode("utf-8")
    digest = hashlib.sha256(key).digest()
    words = np.frombuffer(digest, dtype=np.uint32).tolist()
    return np.random.default_rng([seed, *words])


def _resample_group(
    table: _PairTable, rounds: int, seed: int, point: np.ndarray
) -> np.ndarray:
    """``rounds`` bootstrap resamples of one connected group's ratings (one
    row per resample, one column per agent of ``table``), each refit
    starting from ``point``, the group's fitted strengths."""
    generator = _group_generator(table.agents, seed)
    flat = table.cells.ravel()
    total = int(round(flat.sum()))
    probabilities = flat / flat.sum()
    core = table.reference
    samples = np.empty((rounds, len(table.agents)))
    for round_number in range(rounds):
        # One resample at a time: memory stays one row of cells.
        draw = generator.multinomial(total, probabilities)
        cells = draw.reshape(table.cells.shape).astype(float)
        theta = _fit_strengths(table, cells, start=point)
        # Centred on the original group's core: a resample may leave an
        # agent without matches, and the group is still the original one.
        samples[round_number] = ANCHOR + ELO_SCALE * (theta - theta[core].mean())
    return samples


def _open_note(table: _PairTable, k: int) -> str | None:
    """``interval_note`` of agent ``k`` of a group: which side is open."""
    above, below = table.open_above[k], table.open_below[k]
    if above and below:
        return UNBOUNDED_NOTE
    if above:
        return UNBOUNDED_ABOVE_NOTE
    if below:
        return UNBOUNDED_BELOW_NOTE
    return None


def _open_side_bounds(
    table: _PairTable, ratings: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the agents outside one group's core: (lower, upper), NaN
    for the core.

    Rule: the open side is infinite. The other side is a likelihood-ratio
    bound, as is usual for ratings (logistic coefficients) the data
    separate: a strongly connected part of the group that the core never
    beat (open above) is moved down as a block, against the agents it beat
    (the core at their fitted ratings, other such parts at their own lower
    bounds), until the log-likelihood of those wins has fallen
    ``chi2(1).ppf(confidence) / 2`` (1.92 at 95%) below its supremum; the
    same upwards, against the agents that beat it, for a part that never
    beat the core. Its losses (wins) are left out: they are against agents
    whose ratings are unbounded in the same direction. A part without such
    a win (loss) is open on both sides. The block moves as one because
    gaps within a strongly connected part are bounded. For one agent that
    beat an agent of the core n times and never lost: n = 5 gives a lower
    bound 132 points above that agent, n = 30 472, n = 100,000 1,887.
    """
    size = len(table.agents)
    lower = np.full(size, np.nan)
    upper = np.full(size, np.nan)
    lower[table.open_below] = -np.inf
    upper[table.open_above] = np.inf
    drop = float(chi2.ppf(confidence, 1)) / 2.0
    order = _parts_in_order(table)

    def reference(k: int, bound: np.ndarray) -> float:
        return ratings[k] if table.reference[k] else bound[k]

    # Lower bounds: a part after every part it beat, whose bounds it uses.
    for part in reversed(order):
        members = np.flatnonzero(table.strong == part)
        if table.reference[members[0]] or not table.open_above[members[0]]:
            continue
        if table.open_below[members[0]]:
            continue
        gaps, counts = _part_results(table, part, ratings, lower, reference, won=True)
        shift = _likelihood_shift(gaps, counts, drop)
        lower[members] = ratings[members] + shift

    # Upper bounds: a part after every part that beat it.
    for part in order:
        members = np.flatnonzero(table.strong == part)
        if table.reference[members[0]] or not table.open_below[members[0]]:
            continue
        if table.open_above[members[0]]:
            continue
        gaps, counts = _part_results(table, part, ratings, upper, reference, won=False)
        shift = _likelihood_shift(gaps, counts, drop)
        upper[members] = ratings[members] - shift
    return lower, upper


def _parts_in_order(table: _PairTable) -> list[int]:
    """The strongly connected parts, each before every part it beat (a
    topological order of the win graph's parts, Kahn's algorithm; ties by
    part number, so the order is stable)."""
    parts = int(table.strong.max()) + 1 if len(table.strong) else 0
    graph = table.wins_graph.tocoo()
    edges = {
        (int(a), int(b))
        for a, b in zip(table.strong[graph.row], table.strong[graph.col], strict=True)
        if a != b
    }
    beaten: dict[int, list[int]] = {part: [] for part in range(parts)}
    waiting = [0] * parts
    for a, b in sorted(edges):
        beaten[a].append(b)
        waiting[b] += 1
    ready = [part for part in range(parts) if waiting[part] == 0]
    order: list[int] = []
    while ready:
        part = ready.pop(0)
        order.append(part)
        for other in beaten[part]:
            waiting[other] -= 1
            if waiting[other] == 0:
                ready.append(other)
    return order


def _part_results(
    table: _PairTable,
    part: int,
    ratings: np.ndarray,
    bound: np.ndarray,
    reference,
    *,
    won: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The wins (``won``) or losses of one part's agents against agents
    outside it, as (rating gap in the part's favour, count): the gap is
    own rating minus the opponent's reference for wins, the opponent's
    reference minus own rating for losses. Opponents whose reference is
    infinite (unbounded the wrong way) tell nothing and are left out."""
    mine_i = table.strong[table.i] == part
    mine_j = table.strong[table.j] == part
    gaps: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for own, other, mine, column in (
        (table.i, table.j, mine_i & ~mine_j, 0 if won else 1),
        (table.j, table.i, mine_j & ~mine_i, 1 if won else 0),
    ):
        rows = np.flatnonzero(mine & (table.cells[:, column] > 0))
        if not len(rows):
            continue
        references = np.array([reference(int(k), bound) for k in other[rows]])
        known = np.isfinite(references)
        rows, references = rows[known], references[known]
        own_ratings = ratings[own[rows]]
        gaps.append(own_ratings - references if won else references - own_ratings)
        counts.append(table.cells[rows, column])
    if not gaps:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(gaps), np.concatenate(counts)


def _likelihood_shift(gaps: np.ndarray, counts: np.ndarray, drop: float) -> float:
    """The shift ``s`` (rating points) at which the log-likelihood of
    winning every one of these results, sum of ``counts * log P(win)`` with
    the gaps moved by ``s``, equals ``-drop``; -inf without results (then
    nothing bounds the part). The log-likelihood rises with ``s`` towards
    its supremum 0, so the root is unique."""
    if not len(gaps) or counts.sum() <= 0:
        return -np.inf

    def excess(shift: float) -> float:
        return -float(counts @ np.logaddexp(0.0, -(gaps + shift) / ELO_SCALE)) + drop

    low = -float(gaps.max()) - 400.0
    while excess(low) > 0:
        low -= 400.0 + abs(low)
    high = -float(gaps.min()) + 400.0
    while excess(high) < 0:
        high += 400.0 + abs(high)
    return float(brentq(excess, low, high, xtol=1e-9))


def interval_ranks(lower: pd.Series, upper: pd.Series) -> pd.Series:
    """Ranks from rating intervals: 1 + the number of agents whose lower
    bound is above this agent's upper bound (not the tie-sharing ranks of
    sort keys, ``standings.shared_ranks``).

    Rule: agents whose intervals overlap cannot be told apart, so they can
    share a rank; a rank only says "significantly behind that many agents".
    An open side counts as unbounded: an upper bound of +inf has nobody
    ahead, a lower bound of -inf is ahead of nobody.
    """
    lows = lower.to_numpy(dtype=float)
    highs = upper.to_numpy(dtype=float)
    ahead = (lows[np.newaxis, :] > highs[:, np.newaxis]).sum(axis=1)
    return pd.Series(1 + ahead, index=lower.index, dtype=int)


def _match_scope(
    statement,
    university_id: str,
    *,
    competition_id: str | None,
    played_from: datetime | None,
    played_to: datetime | None,
):
    """Restrict a statement over matches to one university's completed
    matches within the filters."""
    statement = statement.where(
        Competition.university_id == university_id,
        CompetitionMatch.status == "completed",
    )
    if competition_id is not None:
        statement = statement.where(CompetitionMatch.competition_id == competition_id)
    if played_from is not None:
        statement = statement.where(CompetitionMatch.completed_at >= played_from)
    if played_to is not None:
        statement = statement.where(CompetitionMatch.completed_at <= played_to)
    return statement


def _agent_filter(agent, agent_type: str | None, specialization: str | None) -> list:
    conditions = []
    if agent_type is not None:
        conditions.append(agent.agent_type == agent_type)
    if specialization is not None:
        conditions.append(agent.specialization == specialization)
    return conditions


def win_rate(wins: pd.Series, draws: pd.Series, losses: pd.Series) -> pd.Series:
    """Wins plus half the draws over the two-sided matches; NaN without any.

    Rule: a draw is half a win, as in the ratings and the pairwise heatmap,
    so the three never disagree about the same matches."""
    two_sided = wins + draws + losses
    return (wins + 0.5 * draws) / two_sided.where(two_sided > 0)


#: True for a match decided on the field, false for a walkover (a
#: disqualified side's unplayed match, marked by the competitions service):
#: a walkover says nothing about who plays better.
PLAYED_ON_THE_FIELD = func.coalesce(
    CompetitionMatch.match_config[FORFEIT].as_boolean(), false()
).is_(false())


def pair_counts(
    session: Session,
    university_id: str,
    *,
    competition_id: str | None = None,
    agent_type: str | None = None,
    specialization: str | None = None,
    played_from: datetime | None = None,
    played_to: datetime | None = None,
) -> pd.DataFrame:
    """Wins of each side and draws per ordered pair of agents, aggregated in
    the database over one university's completed pairwise matches.

    Rule: with an agent type or specialization filter, only matches between
    two agents that both pass it count (ratings within the chosen
    population). Walkovers (``PLAYED_ON_THE_FIELD`` false) do not count: the
    standings give their points, the ratings measure play. ``played_from`` /
    ``played_to`` bound ``completed_at`` (inclusive). Columns:
    ``PAIR_COUNT_COLUMNS``, agents by NAME (unique within a university: the
    agents service refuses a taken one), so that the fit and the bootstrap
    order and seed by what the results say, never by random ids.
    """
    # Grouped per pair of agent ids over the matches and their two
    # participants; only that aggregate, one row per pair, is joined to the
    # agents for their names. The agents' table joins the matches only to
    # apply a type or specialization filter (before grouping, so a filter
    # also makes the grouping smaller). Grouping by name over every match
    # joined to four tables took twice as long on PostgreSQL.
    winner = CompetitionMatch.winner_participant_id
    first = aliased(CompetitionParticipant)
    second = aliased(CompetitionParticipant)
    per_pair = (
        select(
            first.agent_id.label("first"),
            second.agent_id.label("second"),
            func.count().filter(winner == first.id).label("wins_a"),
            func.count().filter(winner == second.id).label("wins_b"),
            func.count().filter(winner.is_(None)).label("ties"),
        )
        .select_from(CompetitionMatch)
        .join(Competition, Competition.id == CompetitionMatch.competition_id)
        .join(first, first.id == CompetitionMatch.participant1_id)
        .join(second, second.id == CompetitionMatch.participant2_id)
        .where(PLAYED_ON_THE_FIELD)
        .group_by(first.agent_id, second.agent_id)
    )
    if agent_type is not None or specialization is not None:
        passing_one = aliased(UniversityAgent)
        passing_two = aliased(UniversityAgent)
        per_pair = (
            per_pair.join(passing_one, passing_one.id == first.agent_id)
            .join(passing_two, passing_two.id == second.agent_id)
            .where(
                *_agent_filter(passing_one, agent_type, specialization),
                *_agent_filter(passing_two, agent_type, specialization),
            )
        )
    per_pair = _match_scope(
        per_pair,
        university_id,
        competition_id=competition_id,
        played_from=played_from,
        played_to=played_to,
    ).subquery()

    agent_one = aliased(UniversityAgent)
    agent_two = aliased(UniversityAgent)
    statement = (
        select(
            agent_one.name,
            agent_two.name,
            per_pair.c.wins_a,
            per_pair.c.wins_b,
            per_pair.c.ties,
        )
        .select_from(per_pair)
        .join(agent_one, agent_one.id == per_pair.c.first)
        .join(agent_two, agent_two.id == per_pair.c.second)
    )
    rows = session.execute(statement).all()
    frame = pd.DataFrame(rows, columns=PAIR_COUNT_COLUMNS)
    for column in ("wins_a", "wins_b", "ties"):
        frame[column] = frame[column].astype(int)
    return frame


#: The columns of ``agent_results``.
AGENT_RESULT_COLUMNS = [
    "agent_id",
    "agent",
    "agent_type",
    "specialization",
    "competition_id",
    "matches",
    "wins",
    "draws",
    "losses",
    "score_sum",
    "scored",
    "highest_score",
]


def agent_results(
    session: Session,
    university_id: str,
    *,
    competition_id: str | None = None,
    agent_type: str | None = None,
    specialization: str | None = None,
    played_from: datetime | None = None,
    played_to: datetime | None = None,
) -> pd.DataFrame:
    """Per agent and competition: matches, wins, draws, losses, the sum,
    count and highest of its own scores, with the agent's name, type and
    specialization, in ONE aggregate in the database
    (``AGENT_RESULT_COLUMNS``). The Leaderboard's records and ratings both
    read it.

    Rules: the same counting as ``refresh_agent_counters``: a draw is a
    completed two-sided match without a winner; a solo match counts in
    ``matches`` and the scores, in neither wins, draws nor losses. Only
    completed matches of the university; an agent type or specialization
    filter keeps the agents that pass it; ``played_from`` / ``played_to``
    bound ``completed_at`` (inclusive). Rows of agents without a match in
    scope are absent.
    """
    # Each match counts once for each of its sides: the two sides are
    # aggregated per participant straight from the matches (no join on
    # "participant1 OR participant2", which no index serves), glued with
    # UNION ALL, and only those per-participant totals, a few rows per
    # agent, are joined to the participants and agents.
    winner = CompetitionMatch.winner_participant_id
    sides = []
    for own, own_score, other in (
        (
            CompetitionMatch.participant1_id,
            CompetitionMatch.participant1_score,
            CompetitionMatch.participant2_id,
        ),
        (
            CompetitionMatch.participant2_id,
            CompetitionMatch.participant2_score,
            CompetitionMatch.participant1_id,
        ),
    ):
        pairwise = other.is_not(None)
        side = (
            select(
                own.label("participant_id"),
                func.count().label("matches"),
                func.count().filter(and_(pairwise, winner == own)).label("wins"),
                func.count().filter(and_(pairwise, winner.is_(None))).label("draws"),
                func.count()
                .filter(and_(pairwise, winner.is_not(None), winner != own))
                .label("losses"),
                func.sum(own_score).label("score_sum"),
                func.count(own_score).label("scored"),
                func.max(own_score).label("highest_score"),
            )
            .select_from(CompetitionMatch)
            .join(Competition, Competition.id == CompetitionMatch.competition_id)
            .where(own.is_not(None))
            # The competition changes no group (see pair_counts): it lets
            # SQLite read only this university's matches, by competition.
            .group_by(CompetitionMatch.competition_id, own)
        )
        sides.append(
            _match_scope(
                side,
                university_id,
                competition_id=competition_id,
                played_from=played_from,
                played_to=played_to,
            )
        )
    totals = union_all(*sides).subquery()

    agent = UniversityAgent
    participant = CompetitionParticipant
    statement = (
        select(
            agent.id,
            agent.name,
            agent.agent_type,
            agent.specialization,
            participant.competition_id,
            func.sum(totals.c.matches),
            func.sum(totals.c.wins),
            func.sum(totals.c.draws),
            func.sum(totals.c.losses),
            func.sum(totals.c.score_sum),
            func.sum(totals.c.scored),
            func.max(totals.c.highest_score),
        )
        .select_from(totals)
        .join(participant, participant.id == totals.c.participant_id)
        .join(agent, agent.id == participant.agent_id)
        .where(*_agent_filter(agent, agent_type, specialization))
        .group_by(
            agent.id,
            agent.name,
            agent.agent_type,
            agent.specialization,
            participant.competition_id,
        )
    )
    frame = pd.DataFrame(session.execute(statement).all(), columns=AGENT_RESULT_COLUMNS)
    for column in ("matches", "wins", "draws", "losses", "scored"):
        frame[column] = frame[column].astype(int)
    for column in ("score_sum", "highest_score"):
        frame[column] = frame[column].astype(float)
    return frame


def leaderboard(
    session: Session,
    university_id: str,
    *,
    competition_id: str | None = None,
    agent_type: str | None = None,
    specialization: str | None = None,
    played_from: datetime | None = None,
    played_to: datetime | None = None,
    bootstrap_rounds: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """The ranked agents of one university (or one of its competitions).

    Columns: ``LEADERBOARD_COLUMNS``. Rules:

    * rating, rating_lower, rating_upper: Bradley-Terry fit and bootstrap
      intervals over the completed pairwise matches in scope
      (``fit_ratings``, ``bootstrap_intervals``). ``bootstrap_rounds=0``
      skips the intervals (NaN bounds). A group with too few matches for an
      interval, or whose wins only go one way, has NaN bounds and
      ``interval_note`` says why; an agent the results do not bound on one
      side has that bound infinite and ``interval_note`` says which side
      (None otherwise).
    * rank: WITHIN each comparison group (ratings of different groups are
      on different scales): ``interval_ranks`` of the intervals (an infinite
      upper bound: nobody is clearly ahead; an infinite lower bound: ahead
      of nobody), or, in a group
      without intervals, 1 + the number of the group's agents rated strictly
      higher. Agents without a rating (solo results only, or whose
      opponents were filtered out) come after every rated agent, ranked
      among themselves from 1 by average score (equal averages share a
      rank).
    * order: by group (``component``), then rank, then rating (highest
      first), then average score and name; unrated agents last.
    * matches, wins, draws, losses: completed matches in scope; a solo match
      counts in ``matches`` only.
    * points: wins, draws and losses priced by each competition's
      ``rules["points"]`` (default 3 / 1 / 0), summed over competitions.
    * average_score: the mean of the agent's own scores (unscored matches
      left out), NaN when none; highest_score: the highest of them.
    * win_rate: wins plus half the draws over two-sided matches (NaN
      without any), as the pairwise heatmap counts them.
    * agent_type, specialization: the agent's, for the page's table.
    * component: the connected group of the comparison graph the agent
      belongs to (NaN without a rating), numbered in display order: 0 the
      largest, equal sizes by their alphabetically first agent name (not by
      rating: every group is centred on ``ANCHOR``). Ratings compare only
      within a group; ``frame.attrs["groups"]`` lists the groups by agent
      name when there is more than one.
    * filters: agent type and specialization keep an agent's own results
      and, for ratings, the matches between two agents that both pass;
      ``played_from`` / ``played_to`` bound ``completed_at``, inclusive.
    """
    if bootstrap_rounds and bootstrap_rounds < MIN_BOOTSTRAP_ROUNDS:
        raise InvalidInput(
            f"{bootstrap_rounds} bootstrap rounds are too few: use at least "
            f"{MIN_BOOTSTRAP_ROUNDS}, or 0 to skip the intervals."
        )
    scope = {
        "competition_id": competition_id,
        "agent_type": agent_type,
        "specialization": specialization,
        "played_from": played_from,
        "played_to": played_to,
    }

    results = agent_results(session, university_id, **scope)
    board = _results_by_agent(session, results)
    if board.empty:
        return pd.DataFrame(columns=LEADERBOARD_COLUMNS)

    # By name: the same results rate the same in any university.
    pairs = pair_counts(session, university_id, **scope)
    ratings = fit_ratings(pairs).rename(columns={"matches": "rated_matches"})
    if bootstrap_rounds and len(ratings):
        intervals = bootstrap_intervals(pairs, rounds=bootstrap_rounds, seed=seed)
        ratings = ratings.merge(intervals, on="agent")
    else:
        ratings["rating_lower"] = np.nan
        ratings["rating_upper"] = np.nan
        ratings["interval_note"] = None
    board = board.merge(ratings, on="agent", how="left")
    board["component"] = board["component"].astype(float)
    board["rated_matches"] = board["rated_matches"].fillna(0).astype(int)

    board["rank"] = _ranks(board)
    board = board.sort_values(
        ["component", "rank", "rating", "average_score", "agent"],
        ascending=[True, True, False, False, True],
        na_position="last",
    ).reset_index(drop=True)
    board["interval_note"] = board["interval_note"].astype(object)
    board.loc[board["interval_note"].isna(), "interval_note"] = None

    groups = [
        list(names)
        for _, names in board.dropna(subset=["component"]).groupby("component")["agent"]
    ]
    if len(groups) > 1:
        board.attrs["groups"] = [sorted(names) for names in groups]
        log.info(
            "ratings of university %s fall into %d separate groups",
            university_id,
            len(groups),
        )
    return board[LEADERBOARD_COLUMNS]


def _results_by_agent(session: Session, results: pd.DataFrame) -> pd.DataFrame:
    """Sum per-competition results (``agent_results``) to one row per
    agent, pricing points by each competition's rules; win rate, average and
    highest score."""
    columns = [
        "agent_id",
        "agent",
        "agent_type",
        "specialization",
        "matches",
        "wins",
        "draws",
        "losses",
        "win_rate",
        "points",
        "average_score",
        "highest_score",
    ]
    if results.empty:
        return pd.DataFrame(columns=columns)

    competition_ids = sorted(set(results["competition_id"]))
    rows = session.execute(
        select(Competition.id, Competition.rules, Competition.competition_type).where(
            Competition.id.in_(competition_ids)
        )
    ).all()
    # The same points rule as the competition's standings.
    prices = pd.DataFrame(
        [
            {"competition_id": key, **parse_rules(rules, kind).points}
            for key, rules, kind in rows
        ]
    )
    results = results.merge(prices, on="competition_id")
    results["points"] = (
        results["wins"] * results["win"]
        + results["draws"] * results["draw"]
        + results["losses"] * results["loss"]
    )

    keys = ["agent_id", "agent", "agent_type", "specialization"]
    board = results.groupby(keys, as_index=False, dropna=False).agg(
        matches=("matches", "sum"),
        wins=("wins", "sum"),
        draws=("draws", "sum"),
        losses=("losses", "sum"),
        points=("points", "sum"),
        score_sum=("score_sum", "sum"),
        scored=("scored", "sum"),
        highest_score=("highest_score", "max"),
    )
    board["average_score"] = np.where(
        board["scored"] > 0,
        board["score_sum"] / board["scored"].where(board["scored"] > 0, 1),
        np.nan,
    )
    board["win_rate"] = win_rate(board["wins"], board["draws"], board["losses"])
    for column in ("matches", "wins", "draws", "losses"):
        board[column] = board[column].astype(int)
    board["specialization"] = board["specialization"].astype(object)
    board.loc[board["specialization"].isna(), "specialization"] = None
    return board[columns]


def _ranks(board: pd.DataFrame) -> pd.Series:
    """Ranks within each comparison group, then the unrated agents.

    Rule: in a group whose agents all have an interval, ``interval_ranks`` of
    the intervals; in a group without intervals (skipped, or too few
    matches), 1 + the number of the group's agents rated strictly higher.
    Agents without a rating form a block of their own, ranked from 1 by
    average score (equal averages share a rank).
    """
    ranks = pd.Series(0, index=board.index, dtype=int)
    rated = board["rating"].notna()
    for _, group in board[rated].groupby("component"):
        if group["rating_lower"].notna().all():
            ranks[group.index] = interval_ranks(
                group["rating_lower"], group["rating_upper"]
            )
        else:
            ranks[group.index] = (
                group["rating"].rank(method="min", ascending=False).astype(int)
            )

    unrated = ~rated
    if unrated.any():
        ranks[unrated] = (
            board.loc[unrated, "average_score"]
            .rank(method="min", ascending=False, na_option="bottom")
            .astype(int)
        )
    return ranks


def results_version(
    session: Session, university_id: str, competition_id: str | None = None
) -> tuple[int, str | None]:
    """A value that changes whenever anything behind a leaderboard changes;
    put it in the cache key of anything computed from the results.

    Rule: (number of completed matches in scope, the university's
    ``last_activity_at``). Every write to a university goes through
    ``services.universities.lock_university_for_write``, which moves
    ``last_activity_at``: a new, removed or corrected result (even one that
    swaps the scores and keeps ``completed_at``), an import, and a change of
    an agent's type or specialization (the leaderboard's filters) all change
    it. The count is there for the page, which decides from it whether to
    compute the intervals at once.
    """
    statement = (
        select(func.count())
        .select_from(CompetitionMatch)
        .join(Competition, Competition.id == CompetitionMatch.competition_id)
        .where(
            Competition.university_id == university_id,
            CompetitionMatch.status == "completed",
        )
    )
    if competition_id is not None:
        statement = statement.where(CompetitionMatch.competition_id == competition_id)
    count = session.scalar(statement)
    last_activity = session.scalar(
        select(University.last_activity_at).where(University.id == university_id)
    )
    return (
        int(count or 0),
        last_activity.isoformat() if last_activity is not None else None,
    )
