"""Curriculum: per path, where each agent stands on each level, how many
reached each level, time spent per level, and one agent's results."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from university_models.models import PROGRESS_STATUSES
from university_models.queries import curriculum
from university_models.ui import (
    STATUS_COLORS,
    cached_query,
    pager,
    select_university,
    utc_label,
)

st.title("Curriculum")
university = select_university()

paths = cached_query(curriculum.path_choices, university.id)
if paths.empty:
    st.info(
        "This university has no curriculum path yet. Paths and levels are "
        "created with the curriculum service (the demo has some: "
        "`python -m university_models demo`); enrol agents in a path from the "
        "**Agents** page.",
        icon=":material/school:",
    )
    st.stop()

names = dict(zip(paths["id"], paths["name"], strict=True))
levels_of = dict(zip(paths["id"], paths["levels"], strict=True))
path_id = st.selectbox(
    "Curriculum path",
    list(names),
    format_func=lambda key: f"{names[key]} ({levels_of[key]} levels)",
)

enrolled = cached_query(curriculum.path_agent_count, university.id, path_id=path_id)
if enrolled == 0:
    st.info(
        f"No agent is enrolled in {names[path_id]} yet. Enrol one from the "
        "**Agents** page.",
        icon=":material/person_add:",
    )
    st.stop()

# --- where every agent stands ----------------------------------------------
st.subheader("Agents by level")
offset = pager(enrolled, page_size=curriculum.MATRIX_AGENTS, key="matrix_page")
matrix = cached_query(
    curriculum.progress_matrix, university.id, path_id=path_id, offset=offset
)
view = st.segmented_control(
    "Show", ["status", "best score"], default="status", key="matrix_view"
)
level_labels = {
    number: f"{number}. {name}"
    for number, name in zip(matrix["level_number"], matrix["level"], strict=True)
}
matrix["level_label"] = matrix["level_number"].map(level_labels)
if view == "best score":
    grid = matrix.pivot(index="agent", columns="level_label", values="best_score")
    figure = px.imshow(
        grid,
        zmin=0,
        zmax=1,
        color_continuous_scale="Viridis",
        text_auto=".2f",
        aspect="auto",
        labels={"color": "best score", "x": "level", "y": "agent"},
    )
else:
    # A categorical heatmap: one coloured square per (agent, level) in the
    # status's shared colour; a level not reached has no square.
    figure = go.Figure()
    for status in PROGRESS_STATUSES:
        cells = matrix[matrix["status"] == status]
        if cells.empty:
            continue
        figure.add_trace(
            go.Scatter(
                x=cells["level_label"],
                y=cells["agent"],
                mode="markers",
                marker={"symbol": "square", "size": 22, "color": STATUS_COLORS[status]},
                name=status.replace("_", " "),
                customdata=cells[["best_score"]],
                hovertemplate=(
                    "%{y}, level %{x}: " + status + ", best %{customdata[0]:.2f}"
                    "<extra></extra>"
                ),
            )
        )
    figure.update_xaxes(
        categoryorder="array",
        categoryarray=[level_labels[n] for n in sorted(level_labels)],
    )
    figure.update_yaxes(autorange="reversed")
figure.update_layout(
    height=max(260, 28 * matrix["agent"].nunique() + 120),
    margin={"t": 10},
    xaxis_title="level",
    yaxis_title="",
)
st.plotly_chart(figure, key="progress_matrix")
st.caption(f"{enrolled} agents enrolled; an empty cell is a level not reached yet.")

# --- funnel and time --------------------------------------------------------
left, right = st.columns(2)
with left:
    st.subheader("How far agents got")
    funnel = cached_query(curriculum.level_funnel, university.id, path_id=path_id)
    if funnel["reached"].sum() == 0:
        st.caption("No agent reached a level of this path yet.")
    else:
        long = funnel.melt(
            id_vars=["level_number", "level"],
            value_vars=["reached", "completed"],
            var_name="stage",
            value_name="agents",
        )
        long["level"] = long["level_number"].astype(str) + ". " + long["level"]
        figure = px.funnel(
            long,
            x="agents",
            y="level",
            color="stage",
            color_discrete_map={
                "reached": STATUS_COLORS["in_progress"],
                "completed": STATUS_COLORS["completed"],
            },
        )
        figure.update_layout(height=300, margin={"t": 10}, legend_title_text="")
        st.plotly_chart(figure, key="level_funnel")

with right:
    st.subheader("Time spent per level")
    spent = cached_query(curriculum.time_per_level, university.id, path_id=path_id)
    if spent.empty:
        st.caption("No time recorded on this path yet.")
    else:
        spent["level"] = spent["level_number"].astype(str) + ". " + spent["level"]
        figure = px.bar(
            spent,
            x="level",
            y="mean_minutes",
            hover_data=["agents", "max_minutes", "total_minutes"],
            labels={"mean_minutes": "mean minutes per agent"},
        )
        figure.update_layout(height=300, margin={"t": 10})
        st.plotly_chart(figure, key="time_per_level")

# --- one agent --------------------------------------------------------------
st.subheader("One agent's challenge results")
agents = cached_query(curriculum.path_agents, university.id, path_id=path_id)
agent_names = dict(zip(agents["id"], agents["name"], strict=True))
agent_id = st.selectbox(
    "Agent", list(agent_names), format_func=lambda key: agent_names[key]
)
results = cached_query(
    curriculum.agent_challenge_results,
    university.id,
    agent_id=agent_id,
    path_id=path_id,
)
if results.empty:
    st.caption(f"{agent_names[agent_id]} has no challenge result on this path yet.")
else:
    results["level"] = results["level_number"].astype(str) + ". " + results["level"]
    figure = px.scatter(
        results,
        x="recorded_at",
        y="score",
        color="level",
        symbol="level",
        hover_data=["challenge_index", "attempt", "minutes"],
    )
    figure.add_trace(
        go.Scatter(
            x=results["recorded_at"],
            y=results["score"],
            mode="lines",
            line={"color": "#bdbdbd", "width": 1},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    for passing in sorted(set(results["passing_score"])):
        figure.add_hline(
            y=passing,
            line_dash="dot",
            annotation_text=f"passing {passing:.2f}",
        )
    figure.update_layout(
        height=320,
        margin={"t": 10},
        xaxis_title=utc_label("recorded"),
        yaxis_range=[0, 1.05],
    )
    st.plotly_chart(figure, key="challenge_results")
