"""Overview: the selected university's headline numbers, activity and quotas."""

import math

import plotly.express as px
import streamlit as st

from university_models.queries import overview
from university_models.ui import (
    STATUS_COLORS,
    cached_query,
    literal,
    select_university,
    utc_label,
)

TIMELINE_DAYS = 30

st.title("Overview")
university = select_university()
st.caption(
    f"{literal(university.name)}: what changed in the last {overview.DELTA_DAYS} days."
)

metrics = cached_query(overview.overview_metrics, university.id)


def count_delta(metric):
    return None if metric.delta is None else int(metric.delta)


def share_text(value):
    return "—" if math.isnan(value) else f"{value:.0%}"


def share_delta(metric):
    if metric.delta is None or math.isnan(metric.delta):
        return None
    return f"{metric.delta * 100:+.1f} pts"


columns = st.columns(5)
columns[0].metric(
    "Agents not archived",
    metrics["agents"].value,
    delta=count_delta(metrics["agents"]),
    help="Agents that are not archived; the delta compares with 7 days ago.",
    border=True,
)
columns[1].metric(
    "Active competitions",
    f"{metrics['active_competitions'].value} of "
    f"{university.max_concurrent_competitions}",
    delta=count_delta(metrics["active_competitions"]),
    delta_color="off",
    help="Competitions running now, against the university's quota.",
    border=True,
)
columns[2].metric(
    "Pending proposals",
    metrics["pending_proposals"].value,
    delta=count_delta(metrics["pending_proposals"]),
    delta_color="inverse",
    help="Improvement proposals waiting for a decision on the Proposals page.",
    border=True,
)
columns[3].metric(
    "Validated training data",
    share_text(metrics["validated_share"].value),
    delta=share_delta(metrics["validated_share"]),
    help="Share of training records validated or anonymized.",
    border=True,
)
columns[4].metric(
    "Mean competency",
    share_text(metrics["mean_competency"].value),
    delta=share_delta(metrics["mean_competency"]),
    help="Mean competency score of the agents that are not archived.",
    border=True,
)

if metrics["agents"].value == 0:
    st.info(
        "This university has no agents yet. Create one on the **Agents** page, "
        "or load the demo with `python -m university_models demo`.",
        icon=":material/smart_toy:",
    )

left, right = st.columns(2)

with left:
    st.subheader("Agents by status")
    by_status = cached_query(overview.agents_by_status, university.id)
    if by_status["agents"].sum() == 0:
        st.caption("No agents to count yet.")
    else:
        figure = px.bar(
            by_status,
            x="status",
            y="agents",
            color="status",
            color_discrete_map=STATUS_COLORS,
        )
        figure.update_layout(showlegend=False, height=300, margin={"t": 10})
        st.plotly_chart(figure, key="agents_by_status")

with right:
    st.subheader("Quota usage")
    usage = cached_query(overview.quota_usage, university.id)
    for row in usage.itertuples():
        used = f"{row.used:.2f}" if row.quota == "storage (MB)" else f"{row.used:.0f}"
        st.progress(
            min(1.0, float(row.share)),
            text=f"{row.quota}: {used} of {row.limit:.0f} ({row.share:.0%})",
        )
        if row.share >= 0.9:
            st.warning(
                f"{row.quota} is at {row.share:.0%} of its quota: raise it on the "
                "Universities page or free some before the next write is refused."
            )

st.subheader(f"Activity, last {TIMELINE_DAYS} days")
timeline = cached_query(overview.activity_timeline, university.id, days=TIMELINE_DAYS)
if timeline[["training_records", "matches_completed"]].to_numpy().sum() == 0:
    st.info(
        f"No training records collected and no matches completed in the last "
        f"{TIMELINE_DAYS} days. Record match results on the **Competitions** page.",
        icon=":material/timeline:",
    )
else:
    long = timeline.melt(
        id_vars="day",
        value_vars=["training_records", "matches_completed"],
        var_name="activity",
        value_name="count",
    )
    long["activity"] = long["activity"].map(
        {
            "training_records": "training records collected",
            "matches_completed": "matches completed",
        }
    )
    figure = px.bar(
        long,
        x="day",
        y="count",
        color="activity",
        barmode="group",
        # The colours of the statuses these counts come from.
        color_discrete_map={
            "training records collected": STATUS_COLORS["training"],
            "matches completed": STATUS_COLORS["completed"],
        },
    )
    figure.update_layout(
        height=320,
        margin={"t": 10},
        xaxis_title=utc_label("day"),
        legend_title_text="",
    )
    st.plotly_chart(figure, key="activity_timeline")
