"""Leaderboard: agents ranked by their competition results, with filters,
the top agents' ratings and intervals, and one competition's standings and
pairwise win rates."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from university_models.models import AGENT_TYPES
from university_models.queries import leaderboard
from university_models.ui import (
    cached_query,
    in_words,
    literal,
    run_query,
    select_university,
    show_error,
    show_table,
    utc_label,
)

TOP_AGENTS = 15
ALL = "All"

st.title("Leaderboard")
university = select_university()

competitions = cached_query(leaderboard.competition_choices, university.id)
specializations = cached_query(leaderboard.specialization_choices, university.id)
competition_names = dict(zip(competitions["id"], competitions["name"], strict=True))
competition_types = dict(
    zip(competitions["id"], competitions["competition_type"], strict=True)
)

with st.container(border=True):
    columns = st.columns([1, 1, 2, 2])
    agent_type = columns[0].selectbox(
        "Agent type", [ALL, *AGENT_TYPES], format_func=in_words
    )
    specialization = columns[1].selectbox("Specialization", [ALL, *specializations])
    competition_id = columns[2].selectbox(
        "Competition",
        [ALL, *competition_names],
        format_func=lambda key: competition_names.get(key, key),
        help="One competition's results, standings and pairwise win rates.",
    )
    played = columns[3].date_input(
        utc_label("Played between"),
        value=(),
        help="Matches completed on these UTC days, both included; empty for all.",
    )

filters = {
    "competition_id": None if competition_id == ALL else competition_id,
    "agent_type": None if agent_type == ALL else agent_type,
    "specialization": None if specialization == ALL else specialization,
    "played_from": played[0] if len(played) >= 1 else None,
    "played_to": played[-1] if len(played) >= 1 else None,
}

version = run_query(
    leaderboard.results_version,
    university.id,
    competition_id=filters["competition_id"],
)
intervals = st.toggle(
    "95% intervals and shared ranks",
    # On by default while the bootstrap is quick; a person asks for it on a
    # large result log.
    value=leaderboard.intervals_by_default(version),
    key="leaderboard_intervals",
    help=(
        f"Resamples the results {leaderboard.BOOTSTRAP_ROUNDS} times (as the CSV "
        "export does); on by default up to "
        f"{leaderboard.INTERVALS_BY_DEFAULT_UP_TO:,} matches. The answer is kept "
        "until a "
        "result changes."
    ),
)
try:
    with st.spinner(
        "Resampling the results for the intervals…" if intervals else "Rating…"
    ):
        # The same arguments an agent profile passes: one cached answer.
        board = cached_query(
            leaderboard.rated_leaderboard,
            university.id,
            freshness=version,
            **leaderboard.leaderboard_arguments(intervals=intervals, **filters),
        )
except Exception as error:  # noqa: BLE001  show_error tells refusals from bugs
    show_error(error)
    st.stop()

if board.empty:
    importing = "import a result log with `python -m university_models import-results`"
    chosen = filters["competition_id"]
    statuses = dict(zip(competitions["id"], competitions["status"], strict=True))
    if chosen is not None and statuses[chosen] in ("scheduled", "cancelled"):
        # Nothing to widen: the competition itself has no result to rank.
        advice = (
            f"{literal(competition_names[chosen])} is {statuses[chosen]} and has "
            "no completed match to rank"
            + (
                ": its results show here once it starts and they are recorded on "
                "the **Competitions** page."
                if statuses[chosen] == "scheduled"
                else "."
            )
        )
    elif any(value is not None for value in filters.values()):
        advice = (
            "No completed matches match these filters. Record results on the "
            f"**Competitions** page, {importing}, or widen the filters."
        )
    else:
        advice = (
            "No completed matches yet. Record results on the **Competitions** "
            f"page, or {importing}."
        )
    st.info(advice, icon=":material/leaderboard:")
    st.stop()

population = filters["agent_type"] or filters["specialization"]
unrated = (
    "Agents without a rating (solo results only"
    + (", or no opponent that passes the filters" if population else "")
    + ") come last, ranked by average score."
)
if population:
    # docs/ratings.md, Filters: the two counts differ on purpose.
    unrated += (
        " With a type or specialization filter, matches, wins, draws and "
        "losses count every opponent; ratings count only matches between two "
        "agents that pass the filters."
    )
if intervals:
    st.caption(
        "Ratings are Bradley-Terry on the Elo scale with 95% bootstrap intervals; "
        "agents whose intervals overlap cannot be told apart and share a rank. "
        "A group with too few matches gets no interval and is ranked by rating. "
        f"Ranks count within a comparison group only. {unrated}"
    )
else:
    st.caption(
        "Ratings are Bradley-Terry on the Elo scale, ranked by rating alone. Turn "
        "on the intervals to see which agents can really be told apart (they "
        "share a rank when their intervals overlap). Ranks count within a "
        f"comparison group only. {unrated}"
    )
groups = board.attrs.get("groups")
if groups:

    def describe(names):
        shown = ", ".join(literal(name) for name in names[:4])
        more = f" and {len(names) - 4} more" if len(names) > 4 else ""
        return f"{len(names)} agents ({shown}{more})"

    st.warning(
        f"These agents fall into {len(groups)} groups that never met each other, "
        "so ratings compare only within a group: "
        + "; ".join(describe(names) for names in groups)
        + "."
    )

# rated_matches serves the agent profile's sentence; matches, wins, draws
# and losses already say it here.
hidden = ["agent_id", "component", "rated_matches"]
if not intervals:
    hidden += ["rating_lower", "rating_upper"]
if not intervals or board["interval_note"].isna().all():
    hidden += ["interval_note"]
shown = board.drop(columns=hidden)
for bound in ("rating_lower", "rating_upper"):
    if bound in shown:
        # An open side is infinite: shown as "unbounded", the note says why.
        shown[bound] = shown[bound].map(leaderboard.bound_label)
show_table(
    shown,
    column_config={
        "rank": st.column_config.NumberColumn(
            "rank", help="Within the agent's group; shared when level."
        ),
        "group": st.column_config.TextColumn(
            "group", help="Agents linked by matches; ratings compare only within one."
        ),
        "interval_note": st.column_config.TextColumn(
            "interval", help="Why an agent has no 95% interval."
        ),
        "rating": st.column_config.NumberColumn("rating", format="%.0f"),
        "rating_lower": st.column_config.TextColumn("95% low"),
        "rating_upper": st.column_config.TextColumn("95% high"),
        "win_rate": st.column_config.ProgressColumn(
            "win rate", format="percent", min_value=0.0, max_value=1.0
        ),
        "average_score": st.column_config.NumberColumn("average", format="%.3f"),
        "highest_score": st.column_config.NumberColumn("highest", format="%.3f"),
        "agent_type": "type",
    },
    key="leaderboard_table",
)

rated = board.dropna(subset=["rating"])
chart_groups = list(dict.fromkeys(rated["group"]))
if len(chart_groups) > 1:
    # Ratings of different groups are on different scales: one group a chart.
    chart_group = st.selectbox(
        "Group on the chart", chart_groups, key="leaderboard_chart_group"
    )
    rated = rated[rated["group"] == chart_group]
rated = rated.head(TOP_AGENTS)
if not rated.empty:
    # The title says only what is drawn: no intervals promised for agents
    # that have none or whose interval is open on a side.
    title, drawn = leaderboard.chart_heading(
        rated,
        intervals=intervals,
        group=rated["group"].iloc[0] if len(chart_groups) > 1 else None,
    )
    st.subheader(title)
    if drawn:
        st.caption(drawn)
    chart = rated.iloc[::-1]
    figure = go.Figure(
        go.Scatter(
            x=chart["rating"],
            y=chart["agent"],
            mode="markers",
            marker={
                "size": 10,
                "color": "#1e88e5",
                "symbol": leaderboard.interval_markers(chart),
            },
            error_x={
                "visible": intervals,
                "type": "data",
                "symmetric": False,
                # An open side has no bar end: the marker points that way
                # instead (below), and the table says "unbounded".
                "array": (chart["rating_upper"] - chart["rating"])
                .replace(float("inf"), float("nan"))
                .fillna(0),
                "arrayminus": (chart["rating"] - chart["rating_lower"])
                .replace(float("inf"), float("nan"))
                .fillna(0),
            },
            customdata=chart[["rank"]],
            hovertemplate="%{y}: %{x:.0f} (rank %{customdata[0]})<extra></extra>",
        )
    )
    figure.update_layout(
        height=max(250, 28 * len(chart) + 80),
        margin={"t": 10},
        xaxis_title="rating",
        yaxis_title="",
    )
    st.plotly_chart(figure, key="ratings_chart")

if filters["competition_id"] is None:
    st.info(
        "Choose a competition above to see its standings and the pairwise "
        "win rates of its agents.",
        icon=":material/trophy:",
    )
    st.stop()

name = competition_names[filters["competition_id"]]
st.subheader(f"Standings of {literal(name)}")
try:
    standings = cached_query(
        leaderboard.competition_standings,
        university.id,
        competition_id=filters["competition_id"],
        freshness=version,
    )
except Exception as error:  # noqa: BLE001  show_error tells refusals from bugs
    show_error(error)
    standings = None
if standings is not None:
    if standings.empty:
        st.caption("No competitor has a completed match yet.")
    else:
        # Only a tournament has stages (how far in its bracket).
        hidden = ["agent_id", "participant_id"]
        if competition_types[filters["competition_id"]] != "tournament":
            hidden.append("stage")
        show_table(
            standings.drop(columns=[c for c in hidden if c in standings]),
            key="standings_table",
            # The words of the table above and of the competition's
            # participants ("seed").
            column_config={
                "seed_ranking": "seed",
                "score_for": "score for",
                "score_against": "score against",
                "score_difference": "score difference",
                "average_score": st.column_config.NumberColumn(
                    "average", format="%.3f"
                ),
            },
        )

st.subheader(f"Pairwise win rates in {literal(name)}")
pairs = cached_query(
    leaderboard.pairwise_win_rates,
    university.id,
    competition_id=filters["competition_id"],
    freshness=version,
)
if pairs.empty:
    st.caption(
        "No two-sided match of this competition is completed yet (solo and "
        "challenge competitions have none)."
    )
else:
    matrix = pairs.pivot(index="agent", columns="opponent", values="win_rate")
    counts = pairs.pivot(index="agent", columns="opponent", values="matches")
    figure = px.imshow(
        matrix,
        zmin=0,
        zmax=1,
        color_continuous_scale="RdYlGn",
        text_auto=".0%",
        aspect="auto",
        labels={"color": "win rate"},
    )
    figure.update_traces(
        customdata=counts.to_numpy(),
        hovertemplate=(
            "%{y} against %{x}: %{z:.0%} over %{customdata} matches<extra></extra>"
        ),
    )
    figure.update_layout(
        height=max(300, 30 * len(matrix) + 120),
        margin={"t": 10},
        xaxis_title="opponent",
        yaxis_title="agent",
    )
    st.plotly_chart(figure, key="pairwise_heatmap")
    st.caption("Win rate counts a draw as half a win; empty cells never met.")
