"""Agents: find an agent, create one, change its status, and read its
profile (curriculum, competition record, training data, proposals)."""

import json

import pandas as pd
import streamlit as st

from university_models import ui, wording
from university_models.models import AGENT_STATUSES, AGENT_TYPES
from university_models.queries import agents as queries
from university_models.queries import leaderboard
from university_models.services import agents as agent_services
from university_models.services import curriculum

ANY = "(any)"
FORM_KEYS = (
    "agent_name",
    "agent_type",
    "agent_specialization",
    "agent_description",
    "agent_configuration",
    "agent_path",
)
CONFIGURATION_EXAMPLE = (
    '{\n  "llm": {"model": "gpt-4o-mini", "temperature": 0.2},\n  "tools": []\n}'
)

st.title("Agents")
university = ui.select_university()
ui.show_flash()


# -- Create an agent ---------------------------------------------------------


def _create(session, values: dict, path_id: str | None):
    agent = agent_services.create_agent(session, university.id, **values)
    if path_id:
        curriculum.enrol_agent(session, agent.id, path_id)
    return agent


paths = ui.cached_query(queries.curriculum_path_choices, university.id)
path_names = dict(zip(paths["id"], paths["name"], strict=True))

with (
    ui.expander("Create an agent", key="create_agent_open", icon=":material/add:"),
    st.form("create_agent"),
):
    left, right = st.columns(2)
    left.text_input("Name", key=ui.field_key("agent_name"))
    right.selectbox(
        "Type", AGENT_TYPES, key=ui.field_key("agent_type"), format_func=ui.in_words
    )
    left.text_input(
        "Specialization (optional)",
        key=ui.field_key("agent_specialization"),
        placeholder="e.g. mathematics",
    )
    right.selectbox(
        "Enrol in curriculum path (optional)",
        [None, *paths["id"]],
        format_func=lambda i: "Do not enrol" if i is None else path_names[i],
        key=ui.field_key("agent_path"),
    )
    st.text_area(
        "Description (optional)", key=ui.field_key("agent_description"), height=80
    )
    st.text_area(
        "Configuration (JSON object)",
        key=ui.field_key("agent_configuration"),
        height=140,
        placeholder=CONFIGURATION_EXAMPLE,
        help="LLM settings, tools, memory. Checked when you press Create.",
    )
    if st.form_submit_button("Create agent", type="primary"):
        try:
            configuration = ui.parse_json_object(
                ui.field_value("agent_configuration"), field="Configuration"
            )
        except Exception as error:  # noqa: BLE001  shown next to the form
            ui.show_error(error)
        else:
            values = {
                "name": ui.field_value("agent_name"),
                "agent_type": ui.field_value("agent_type"),
                "specialization": ui.field_value("agent_specialization") or None,
                "description": ui.field_value("agent_description") or None,
                "configuration": configuration,
            }
            ui.run_write(
                lambda session: _create(session, values, ui.field_value("agent_path")),
                success=lambda agent: f"Agent {agent.name!r} created.",
                reset_keys=FORM_KEYS,
            )


# -- The table -----------------------------------------------------------------

specializations = ui.cached_query(queries.agent_specializations, university.id)
columns = st.columns([1, 1, 1, 2])
agent_type = columns[0].selectbox(
    "Type", [ANY, *AGENT_TYPES], key="filter_type", format_func=ui.in_words
)
status = columns[1].selectbox(
    "Status", [ANY, *AGENT_STATUSES], key="filter_status", format_func=ui.in_words
)
specialization = columns[2].selectbox(
    "Specialization", [ANY, *specializations], key="filter_specialization"
)
search = columns[3].text_input(
    "Name contains", key="filter_name", placeholder="part of a name"
)
filters = {
    "agent_type": None if agent_type == ANY else agent_type,
    "status": None if status == ANY else status,
    "specialization": None if specialization == ANY else specialization,
    "name_contains": search.strip() or None,
}

total = ui.cached_query(queries.count_agents, university.id, **filters)
offset = ui.pager(total, page_size=queries.PAGE_SIZE, key="agents_page")
table = ui.cached_query(
    queries.list_agents,
    university.id,
    **filters,
    limit=queries.PAGE_SIZE,
    offset=offset,
)

if total == 0 and not any(filters.values()):
    st.info(
        f"{ui.literal(university.name)} has no agents yet. "
        + ui.next_step(
            university, "Create the first one with **Create an agent** above."
        ),
        icon=":material/smart_toy:",
    )
elif total == 0:
    st.info("No agent matches these filters. Clear a filter to see more.")
else:
    st.caption(f"Matching agents: {total}. Showing {len(table)} from row {offset + 1}.")
    st.caption("Click a row to open that agent's profile below.")
    clicked = ui.show_table(
        table.drop(columns=["id"]),
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        # A key per university, filter and page: Streamlit keeps a selection
        # by row position, which must not open another agent when the rows
        # change.
        key=ui.table_key("agents_rows", university.id, filters, offset),
        column_config={
            "name": "agent",
            "agent_type": "type",
            "competency_score": st.column_config.ProgressColumn(
                "competency", min_value=0.0, max_value=1.0, format="%.2f"
            ),
            "curriculum_path": "curriculum path",
            "level_number": "level",
            "competition_wins": "W",
            "competition_draws": "D",
            "competition_losses": "L",
            "average_score": st.column_config.NumberColumn(
                "average score", format="%.3f"
            ),
            "training_data_collected": "training records",
            "last_competed_at": ui.utc_column("last competed"),
            "created_at": ui.utc_column("created"),
        },
    )

    # A newly clicked row opens its agent; the selection box below can then
    # choose another one without the row taking over again.
    rows = clicked.selection.rows if clicked else []
    picked = str(table.iloc[rows[0]]["id"]) if rows else None
    if picked is not None and picked != st.session_state.get("agents_table_picked"):
        st.session_state["profile_agent"] = picked
    st.session_state["agents_table_picked"] = picked


# -- One agent's profile ---------------------------------------------------------

choices = ui.cached_query(queries.agent_choices, university.id, include_archived=True)
if choices.empty:
    st.stop()

names = dict(zip(choices["id"], choices["name"], strict=True))
st.subheader("Profile")
agent_id = st.selectbox(
    "Open the profile of",
    [None, *choices["id"]],
    format_func=lambda i: "Choose an agent" if i is None else names[i],
    key="profile_agent",
)
if agent_id is None:
    st.caption("Choose an agent to see its curriculum, record, data and proposals.")
    st.stop()

profile = ui.cached_query(queries.agent_profile, university.id, agent_id=agent_id)
if profile is None:
    st.warning("That agent is no longer in this university. Choose another one.")
    st.stop()

st.markdown(
    f"### {ui.literal(profile['name'])}  \n"
    f"{profile['agent_type']}"
    + (
        f" · {ui.literal(profile['specialization'])}"
        if profile["specialization"]
        else ""
    )
    + f" · status **{profile['status']}** · created "
    + ui.format_utc(profile["created_at"])
)
if profile["description"]:
    st.markdown(ui.literal(profile["description"]))

metrics = st.columns(5)
metrics[0].metric("Competency", f"{profile['competency_score']:.2f}")
metrics[1].metric("Training hours", f"{profile['training_hours']:.1f}")
metrics[2].metric(
    "W / D / L",
    f"{profile['competition_wins']} / {profile['competition_draws']}"
    f" / {profile['competition_losses']}",
)
# An agent without a scored match has no score yet, not a score of 0.
competed = profile["scored_matches"] > 0
metrics[3].metric(
    "Average score", f"{profile['average_score']:.3f}" if competed else "—"
)
metrics[4].metric(
    "Highest score", f"{profile['highest_score']:.3f}" if competed else "—"
)

# Tracked tabs: after a save in Settings the page reruns on the same tab, so
# its message (or its refusal) is in view.
curriculum_tab, record_tab, data_tab, proposals_tab, settings_tab = st.tabs(
    ["Curriculum", "Competition record", "Training data", "Proposals", "Settings"],
    key="profile_tab",
    on_change="rerun",
)

with curriculum_tab:
    position = ui.cached_query(
        queries.agent_curriculum_position, university.id, agent_id=agent_id
    )
    if position is None or position["status"] == "not_enrolled":
        st.info("Not enrolled in a curriculum path: enrol it below.")
    elif position["path_completed"]:
        st.success(f"Completed every level of **{ui.literal(position['path_name'])}**.")
    else:
        st.write(
            f"Path **{ui.literal(position['path_name'])}**, level "
            f"**{position['level_number']} of {position['level_count']}** "
            f"({ui.literal(position['level_name'])}): "
            f"{ui.in_words(position['status'])}, "
            f"attempt {position['attempt']}, "
            f"{position['challenges_completed']} of "
            f"{position['total_challenges']} challenges done."
        )
    if position is not None and position["blocker"]:
        st.warning(f"Stuck: {ui.literal(position['blocker'])}", icon=":material/block:")
    levels = ui.cached_query(
        queries.agent_level_progress, university.id, agent_id=agent_id
    )
    if levels.empty:
        st.caption("No level started yet.")
    else:
        ui.show_table(
            levels,
            column_config={
                "best_score": st.column_config.ProgressColumn(
                    "best score", min_value=0.0, max_value=1.0, format="%.2f"
                ),
                "started_at": ui.utc_column("started"),
                "completed_at": ui.utc_column("completed"),
            },
        )

    other_paths = [
        path for path in paths["id"] if position is None or path != position["path_id"]
    ]
    if other_paths and profile["status"] != "archived":
        with st.form(f"enrol_{agent_id}"):
            st.selectbox(
                "Enrol in",
                other_paths,
                format_func=lambda i: path_names[i],
                key=f"enrol_path_{agent_id}",
                help="An agent follows one path at a time; its progress on "
                "other paths is kept.",
            )
            if st.form_submit_button("Enrol"):
                path_id = st.session_state[f"enrol_path_{agent_id}"]

                def _enrol(session):
                    return curriculum.enrol_agent(session, agent_id, path_id)

                ui.run_write(
                    _enrol,
                    success=f"{profile['name']} enrolled in {path_names[path_id]}.",
                )

with record_tab:
    # The Leaderboard page's own cached call, with its arguments when no
    # filter is chosen (intervals as it computes them by default): one fit
    # and bootstrap per university, shared, not one per profile. Keyed by
    # the results' version too, so a new result shows at once.
    version = ui.run_query(leaderboard.results_version, university.id)
    board = ui.cached_query(
        leaderboard.rated_leaderboard,
        university.id,
        freshness=version,
        **leaderboard.leaderboard_arguments(
            intervals=leaderboard.intervals_by_default(version)
        ),
    )
    mine = board[board["agent_id"] == agent_id]
    if mine.empty or pd.isna(mine.iloc[0]["rating"]):
        st.caption(
            "No rating yet: a rating needs completed head-to-head or "
            "tournament matches against other agents."
        )
    else:
        row = mine.iloc[0]
        # Ranks count within a comparison group (agents linked by matches).
        group = board[
            (board["component"] == row["component"]) & board["rating"].notna()
        ]
        bounds = [
            leaderboard.bound_label(row[side])
            for side in ("rating_lower", "rating_upper")
        ]
        interval = f" (95% interval {bounds[0]} to {bounds[1]})" if bounds[0] else ""
        st.markdown(
            f"Rating **{row['rating']:.0f}**{interval}, rank **{int(row['rank'])}** "
            f"of {len(group)} agents in its comparison group, from "
            f"{wording.counted(int(row['rated_matches']), 'match', 'matches')} "
            "against other agents."
        )
    matches = ui.cached_query(
        queries.agent_recent_matches, university.id, agent_id=agent_id
    )
    if matches.empty:
        st.info("No completed match yet: add the agent to a competition.")
    else:
        st.caption("The latest 20 completed matches.")
        ui.show_table(
            matches,
            column_config={
                "match_number": "match",
                "own_score": "own score",
                "opponent_score": "opponent's score",
                "completed_at": ui.utc_column("completed"),
            },
        )

with data_tab:
    summary = ui.cached_query(
        queries.agent_training_summary, university.id, agent_id=agent_id
    )
    if summary.empty:
        st.info("This agent has produced no training data yet.")
    else:
        records = int(summary["records"].sum())
        mean = (summary["mean_quality"] * summary["records"]).sum() / records
        st.write(f"**{records}** training records, mean quality **{mean:.2f}**.")
        ui.show_table(
            summary,
            column_config={
                "mean_quality": st.column_config.NumberColumn(format="%.3f"),
                "lowest_quality": st.column_config.NumberColumn(format="%.3f"),
            },
        )

with proposals_tab:
    proposals = ui.cached_query(
        queries.agent_proposals, university.id, agent_id=agent_id
    )
    if proposals.empty:
        st.info("No proposal has come from this agent's data yet.")
    else:
        ui.show_table(
            proposals.drop(columns=["id"]),
            column_config={"created_at": ui.utc_column("created")},
        )

settings_keys = tuple(
    f"edit_agent_{field}_{agent_id}"
    for field in ("name", "specialization", "description", "configuration")
)
# The version of the agent the fields below were filled from: the save is
# refused if someone else changed the agent since, instead of putting these
# values back over that change.
seen_version = ui.drawn_version(
    f"edit_agent_version_{agent_id}", settings_keys, profile["version"]
)

with settings_tab, st.form(f"agent_settings_{agent_id}"):
    st.markdown("**Name, specialization, description and configuration**")
    left, right = st.columns(2)
    left.text_input(
        "Name", value=profile["name"], key=ui.field_key(f"edit_agent_name_{agent_id}")
    )
    right.text_input(
        "Specialization",
        value=profile["specialization"] or "",
        key=ui.field_key(f"edit_agent_specialization_{agent_id}"),
    )
    st.text_area(
        "Description",
        value=profile["description"] or "",
        key=ui.field_key(f"edit_agent_description_{agent_id}"),
        height=70,
    )
    st.text_area(
        "Configuration (JSON object)",
        value=json.dumps(profile["configuration"] or {}, indent=2),
        key=ui.field_key(f"edit_agent_configuration_{agent_id}"),
        height=140,
        help="Replaces the whole configuration.",
    )
    if st.form_submit_button("Save agent"):
        try:
            configuration = ui.parse_json_object(
                ui.field_value(f"edit_agent_configuration_{agent_id}"),
                field="Configuration",
            )
        except Exception as error:  # noqa: BLE001  shown next to the form
            ui.show_error(error)
        else:
            changes = {
                "name": ui.field_value(f"edit_agent_name_{agent_id}"),
                "specialization": ui.field_value(
                    f"edit_agent_specialization_{agent_id}"
                )
                or None,
                "description": ui.field_value(f"edit_agent_description_{agent_id}")
                or None,
                "configuration": configuration,
            }
            ui.run_write(
                lambda session: agent_services.update_agent(
                    session,
                    agent_id,
                    university_id=university.id,
                    seen_version=seen_version,
                    **changes,
                ),
                success=lambda agent: f"Saved {agent.name}.",
                # Drawn again from the agent as saved, with its new version.
                reset_keys=(*settings_keys, f"edit_agent_version_{agent_id}"),
            )

with settings_tab, st.form("agent_status"):
    st.selectbox(
        "New status",
        AGENT_STATUSES,
        index=AGENT_STATUSES.index(profile["status"]),
        key=f"agent_new_status_{agent_id}",
        format_func=ui.in_words,
    )
    if st.form_submit_button("Change status"):
        new_status = st.session_state[f"agent_new_status_{agent_id}"]
        ui.run_write(
            lambda session: agent_services.set_agent_status(
                session, agent_id, new_status, university_id=university.id
            ),
            success=(
                f"{profile['name']} is now {new_status}."
                if new_status != profile["status"]
                else f"{profile['name']} is already {new_status}: nothing changed."
            ),
        )
