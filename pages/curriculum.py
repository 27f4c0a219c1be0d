"""Curriculum: create paths and add their levels, set a path's status; per
path, where each agent stands on each level, how many reached each level,
time spent per level, and one agent's results."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from university_models.models import DIFFICULTY_LEVELS, PATH_STATUSES, PROGRESS_STATUSES
from university_models.queries import curriculum
from university_models.services import curriculum as curriculum_service
from university_models.services.validation import INTEGER_MAX
from university_models.ui import (
    STATUS_COLORS,
    cached_query,
    counted,
    expander,
    field_key,
    field_value,
    in_words,
    literal,
    next_step,
    pager,
    run_write,
    select_university,
    show_flash,
    utc_label,
)

st.title("Curriculum")
university = select_university()
show_flash()

paths = cached_query(curriculum.path_choices, university.id)
path_names = dict(zip(paths["id"], paths["name"], strict=True))

# --- authoring --------------------------------------------------------------
# The forms only gather what was typed; every rule is the curriculum
# service's, and a refusal shows under the form with the typed values kept.
with expander(
    "Create a path", key="create_path_open", icon=":material/add:", expanded=paths.empty
):
    with st.form("create_path"):
        st.text_input("Name", key=field_key("new_path_name"))
        st.text_area("Description", key=field_key("new_path_description"))
        left, right = st.columns(2)
        left.selectbox("Difficulty", DIFFICULTY_LEVELS, key="new_path_difficulty")
        right.number_input(
            "Estimated hours",
            min_value=1,
            max_value=INTEGER_MAX,
            value=40,
            step=1,
            key="new_path_hours",
        )
        st.text_input(
            "Tags",
            key=field_key("new_path_tags"),
            help="Separated by commas, e.g. nlp, math",
        )
        st.multiselect(
            "Prerequisite paths (an agent must complete them first)",
            list(path_names),
            format_func=lambda key: path_names[key],
            key=field_key("new_path_prerequisites"),
        )
        st.number_input(
            "Minimum competency to enrol (optional, 0 to 1)",
            value=None,
            step=0.05,
            key=field_key("new_path_min_competency"),
        )
        st.selectbox(
            "Status", PATH_STATUSES, key="new_path_status", format_func=in_words
        )
        create_clicked = st.form_submit_button("Create path", type="primary")
    create_feedback = st.container()

if create_clicked:
    state = st.session_state
    prerequisites = [{"path_id": key} for key in field_value("new_path_prerequisites")]
    if field_value("new_path_min_competency") is not None:
        prerequisites.append({"min_competency": field_value("new_path_min_competency")})
    run_write(
        lambda session: curriculum_service.create_path(
            session,
            university.id,
            name=field_value("new_path_name"),
            description=field_value("new_path_description").strip() or None,
            difficulty_level=state.new_path_difficulty,
            estimated_duration_hours=int(state.new_path_hours),
            tags=[
                tag.strip()
                for tag in field_value("new_path_tags").split(",")
                if tag.strip()
            ],
            prerequisites=prerequisites,
            status=state.new_path_status,
        ),
        success=lambda path: f"Created the path {path.name} ({path.status}).",
        where=create_feedback,
        reset_keys=(
            "new_path_name",
            "new_path_description",
            "new_path_tags",
            "new_path_prerequisites",
            "new_path_min_competency",
        ),
    )

if not paths.empty:
    with expander(
        "Add a level or set a path's status",
        key="author_path_open",
        icon=":material/stairs:",
    ):
        authored = st.selectbox(
            "Path",
            list(path_names),
            format_func=lambda key: path_names[key],
            key="authoring_path",
        )
        levels = cached_query(curriculum.level_choices, university.id)
        level_labels = {
            row.id: f"{row.path} / {row.level_number}. {row.name}"
            for row in levels.itertuples()
        }
        with st.form("add_level"):
            st.text_input("Level name", key=field_key("new_level_name"))
            st.text_area("Description", key=field_key("new_level_description"))
            st.text_area(
                "Learning objectives (one per line)",
                key=field_key("new_level_objectives"),
            )
            st.text_area(
                "Challenges (one per line)",
                key=field_key("new_level_challenges"),
                help='Each line becomes one challenge, stored as {"prompt": line}.',
            )
            left, middle, right = st.columns(3)
            left.number_input(
                "Passing score (0 to 1)", value=0.7, step=0.05, key="new_level_passing"
            )
            middle.number_input(
                "Time limit (minutes)",
                min_value=1,
                max_value=INTEGER_MAX,
                value=60,
                step=5,
                key="new_level_time_limit",
            )
            right.number_input(
                "Required competency (0 to 1)",
                value=0.0,
                step=0.05,
                key="new_level_required",
            )
            st.multiselect(
                "Prerequisite levels (completed before this one)",
                list(level_labels),
                format_func=lambda key: level_labels[key],
                key=field_key("new_level_prerequisites"),
            )
            level_clicked = st.form_submit_button("Add level", type="primary")
        level_feedback = st.container()

        with st.form("path_status"):
            current = paths.loc[paths["id"] == authored, "status"].iloc[0]
            # One box per path and status: a choice made for one path, or
            # before the status changed, is not offered for another.
            status_key = f"path_status_choice_{authored}_{current}"
            st.selectbox(
                f"Status (now {current})",
                PATH_STATUSES,
                index=PATH_STATUSES.index(current),
                key=status_key,
                help="Only an active path takes enrolments; an archived one "
                "takes no new levels.",
                format_func=in_words,
            )
            status_clicked = st.form_submit_button("Set status")
        status_feedback = st.container()

    if level_clicked:
        state = st.session_state
        run_write(
            lambda session: curriculum_service.add_level(
                session,
                authored,
                name=field_value("new_level_name"),
                description=field_value("new_level_description").strip() or None,
                learning_objectives=curriculum.lines_of(
                    field_value("new_level_objectives")
                ),
                challenges=curriculum.challenges_from_prompts(
                    curriculum.lines_of(field_value("new_level_challenges"))
                ),
                passing_score=state.new_level_passing,
                time_limit_minutes=int(state.new_level_time_limit),
                required_competency_score=state.new_level_required,
                prerequisite_level_ids=list(field_value("new_level_prerequisites")),
            ),
            success=lambda level: (
                f"Added level {level.level_number}, {level.name}, to "
                f"{path_names[authored]} "
                f"({counted(level.challenge_count, 'challenge')})."
            ),
            where=level_feedback,
            reset_keys=(
                "new_level_name",
                "new_level_description",
                "new_level_objectives",
                "new_level_challenges",
                "new_level_prerequisites",
            ),
        )

    if status_clicked:
        run_write(
            lambda session: curriculum_service.set_path_status(
                session, authored, st.session_state[status_key]
            ),
            success=lambda path: f"{path.name} is now {path.status}.",
            where=status_feedback,
        )

if paths.empty:
    st.info(
        "This university has no curriculum path yet. "
        + next_step(
            university,
            "Create the first one with **Create a path** above, then add its "
            "levels (the demo has some: `python -m university_models demo`); "
            "enrol agents in a path from the **Agents** page.",
        ),
        icon=":material/school:",
    )
    st.stop()

names = dict(zip(paths["id"], paths["name"], strict=True))
levels_of = dict(zip(paths["id"], paths["levels"], strict=True))
path_id = st.selectbox(
    "Curriculum path",
    list(names),
    format_func=lambda key: f"{names[key]} ({counted(levels_of[key], 'level')})",
)

enrolled = cached_query(curriculum.path_agent_count, university.id, path_id=path_id)
if enrolled == 0:
    st.info(
        f"No agent is enrolled in {literal(names[path_id])} yet. Enrol one from the "
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
# Every level of the path is a column, those nobody reached yet included
# (the funnel counts every level, zeros too).
funnel = cached_query(curriculum.level_funnel, university.id, path_id=path_id)
level_labels = {
    number: f"{number}. {name}"
    for number, name in zip(funnel["level_number"], funnel["level"], strict=True)
}
matrix["level_label"] = matrix["level_number"].map(level_labels)
# Both views list the agents in the query's order (by name).
agent_order = list(dict.fromkeys(matrix["agent"]))
if view == "best score":
    # A level not started has no score yet: a blank cell, not a 0.
    scores = matrix["best_score"].where(matrix["status"] != "not_started")
    grid = matrix.assign(best_score=scores).pivot(
        index="agent", columns="level_label", values="best_score"
    )
    grid = grid.reindex(index=agent_order, columns=list(level_labels.values()))
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
                name=in_words(status),
                customdata=cells[["best_score"]],
                hovertemplate=(
                    "%{y}, level %{x}: "
                    + in_words(status)
                    + ", best %{customdata[0]:.2f}"
                    "<extra></extra>"
                ),
            )
        )
    # The range too: plotly's autorange would leave out trailing levels
    # that nobody reached.
    figure.update_xaxes(
        categoryorder="array",
        categoryarray=[level_labels[n] for n in sorted(level_labels)],
        range=[-0.5, len(level_labels) - 0.5],
    )
    figure.update_yaxes(
        categoryorder="array", categoryarray=agent_order, autorange="reversed"
    )
figure.update_layout(
    height=max(260, 28 * matrix["agent"].nunique() + 120),
    margin={"t": 10},
    xaxis_title="level",
    yaxis_title="",
)
st.plotly_chart(figure, key="progress_matrix")
# Agents who moved on to another path keep their rows here: their progress
# on this one stands.
st.caption(
    f"{counted(enrolled, 'agent')} with progress on this path, whichever path "
    "they study now; an empty cell is a level not reached yet (or, for the best "
    "score, not started)."
)

# --- funnel and time --------------------------------------------------------
left, right = st.columns(2)
with left:
    st.subheader("How far agents got")
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
    st.caption(
        f"{literal(agent_names[agent_id])} has no challenge result on this path yet."
    )
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
