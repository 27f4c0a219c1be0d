"""Universities: every university in this installation; create one, edit the
selected one's quotas and settings, change its status, and run the
retention job."""

import json

import streamlit as st

from university_models import ui
from university_models.models import ISOLATION_LEVELS
from university_models.queries.universities import (
    list_universities,
    university_settings,
)
from university_models.services import retention
from university_models.services import universities as services
from university_models.services.validation import INTEGER_MAX

#: Settings that have their own field in the form; the rest are edited as
#: JSON.
FORM_SETTINGS = {"max_agents", "max_concurrent_competitions", "data_retention_days"}
CREATE_KEYS = (
    "new_university_name",
    "new_university_owner",
    "new_university_organization",
    "new_university_description",
)
DRY_RUN_KEY = "retention_dry_run"
#: (university id, its status when asked, the status asked for) of a
#: Suspend or Archive awaiting its confirmation.
STATUS_QUESTION_KEY = "university_status_pending"
RETENTION_DONE_KEY = "retention_done_message"
#: The quota boxes of both forms: setting, the short name in widget keys,
#: label and what the number limits.
QUOTA_BOXES = (
    ("max_agents", "max_agents", "Agent quota", "Agents that are not archived."),
    (
        "max_concurrent_competitions",
        "max_competitions",
        "Concurrent competitions",
        "Competitions active at one moment.",
    ),
    (
        "storage_quota_mb",
        "storage_quota",
        "Storage quota (MB)",
        "Training data stored, in MB.",
    ),
    (
        "data_retention_days",
        "retention_days",
        "Retention (days)",
        "An archived university inactive this long is moved to the archive.",
    ),
)


def quota_boxes(values: dict[str, int], key) -> None:
    """One number box per quota, filled from ``values`` (by setting), under
    the widget key ``key(short name)``.

    The bounds are the services' (a whole number the database's INTEGER
    holds), so a box cannot take a value the save would refuse; the help
    names them, since a box turns red at a value outside them and says no
    more. A value stored before the bound (SQLite took more) still shows;
    saving it is refused with the bound named."""
    for column, (setting, short, label, meaning) in zip(
        st.columns(len(QUOTA_BOXES)), QUOTA_BOXES, strict=True
    ):
        column.number_input(
            label,
            min_value=1,
            max_value=max(INTEGER_MAX, values[setting]),
            value=values[setting],
            key=key(short),
            help=f"{meaning} A whole number from 1 to {INTEGER_MAX:,}.",
        )


st.title("Universities")
ui.show_flash()
if RETENTION_DONE_KEY in st.session_state:
    st.success(st.session_state.pop(RETENTION_DONE_KEY), icon=":material/archive:")

universities = ui.cached_query(list_universities, None)
selected = ui.select_university(required=False)

if universities.empty:
    st.info(
        "There is no university yet. Create one with **Create a university** "
        "below, from a terminal with "
        "`python -m university_models university create NAME --owner EMAIL`, "
        "or load the demo with `python -m university_models demo`.",
        icon=":material/info:",
    )
else:
    ui.show_table(
        universities.drop(columns=["id"]),
        width="stretch",
        column_config={
            # The agents the quota counts, as on the Overview.
            "agents": "agents not archived",
            "max_agents": "agent quota",
            "max_concurrent_competitions": "concurrent competitions quota",
            "storage_quota_mb": "storage quota (MB)",
            "last_activity_at": ui.utc_column("last activity"),
        },
    )


# -- Create --------------------------------------------------------------------

with (
    ui.expander(
        "Create a university", key="create_university_open", icon=":material/add:"
    ),
    st.form("create_university"),
):
    left, right = st.columns(2)
    left.text_input("Name", key=ui.field_key("new_university_name"))
    right.text_input(
        "Owner's e-mail",
        key=ui.field_key("new_university_owner"),
        placeholder="dean@example.org",
    )
    left.text_input(
        "Organization (optional)", key=ui.field_key("new_university_organization")
    )
    right.selectbox("Isolation level", ISOLATION_LEVELS, key="new_university_isolation")
    st.text_area(
        "Description (optional)",
        key=ui.field_key("new_university_description"),
        height=70,
    )
    quota_boxes(
        {
            "max_agents": 100,
            "max_concurrent_competitions": 10,
            "storage_quota_mb": 1024,
            "data_retention_days": 365,
        },
        key=lambda short: f"new_{short}",
    )
    if st.form_submit_button("Create university", type="primary"):
        state = st.session_state
        values = {
            "name": ui.field_value("new_university_name"),
            "owner_email": ui.field_value("new_university_owner"),
            "organization": ui.field_value("new_university_organization").strip()
            or None,
            "description": ui.field_value("new_university_description") or None,
            "isolation_level": state.new_university_isolation,
            "max_agents": int(state.new_max_agents),
            "max_concurrent_competitions": int(state.new_max_competitions),
            "storage_quota_mb": int(state.new_storage_quota),
            "data_retention_days": int(state.new_retention_days),
        }

        def _create(session):
            return services.create_university(session, **values)

        def _created(university):
            # Open the new university at once: that is what its creator
            # wants to look at next.
            st.session_state[ui.UNIVERSITY_STATE_KEY] = university.id
            st.query_params[ui.UNIVERSITY_PARAM] = university.id
            return f"University {university.name!r} created."

        ui.run_write(_create, success=_created, reset_keys=CREATE_KEYS)

if selected is None:
    st.stop()


# -- The selected university -----------------------------------------------------

current = ui.cached_query(university_settings, selected.id)
if current is None:
    st.warning("That university no longer exists. Choose another one.")
    st.stop()

st.subheader(f"{ui.literal(current['name'])} ({current['status']})")
st.caption(
    "Last activity " + ui.format_utc(current["last_activity_at"]) + ". "
    "Choose another university in the sidebar to edit it."
)

status_columns = st.columns(3)
actions = {
    "active": ("Reactivate", ":material/play_arrow:"),
    "suspended": ("Suspend...", ":material/pause:"),
    "archived": ("Archive...", ":material/archive:"),
}
# What Suspend and Archive stop, asked before they do: every write of
# every operator of this university is refused until someone reactivates
# it, and an archived one moves to the archive after its retention period.
consequences = {
    "suspended": "Every change to it is refused until someone reactivates it.",
    "archived": (
        "Every change to it is refused until someone reactivates it, and "
        f"after {ui.counted(current['data_retention_days'], 'day')} without "
        "activity the retention job moves it to the archive and deletes "
        "everything it owns but its agents."
    ),
}
status_area = st.container()


def _set_status(status: str) -> None:
    ui.run_write(
        lambda session: services.set_university_status(session, selected.id, status),
        success=f"{current['name']} is now {status}.",
        where=status_area,
        reset_keys=(STATUS_QUESTION_KEY,),
    )


# A status question belongs to one university and to the status it had
# when asked: it is dropped when either changes.
asked_about = (selected.id, current["status"])
question = st.session_state.get(STATUS_QUESTION_KEY)
if question is not None and question[:2] != asked_about:
    del st.session_state[STATUS_QUESTION_KEY]
for column, (status, (label, icon)) in zip(
    status_columns, actions.items(), strict=True
):
    if column.button(
        label,
        icon=icon,
        key=f"university_status_{status}",
        disabled=current["status"] == status,
        width="stretch",
    ):
        if status in consequences:
            st.session_state[STATUS_QUESTION_KEY] = (*asked_about, status)
        else:
            _set_status(status)
question = st.session_state.get(STATUS_QUESTION_KEY)
if question is not None:
    verb = actions[question[2]][0].rstrip(".")
    if ui.confirmed(
        status_area,
        f"{verb} {ui.literal(current['name'])}? {consequences[question[2]]}",
        state_key=STATUS_QUESTION_KEY,
        confirm=f"Confirm: {verb.lower()} it",
        keep=f"Keep it {current['status']}",
        key="university_status",
    ):
        _set_status(question[2])

other_settings = {
    key: value for key, value in current["settings"].items() if key not in FORM_SETTINGS
}
edit_keys = tuple(
    f"edit_{field}_{selected.id}"
    for field in (
        "name",
        "isolation",
        "description",
        "max_agents",
        "max_competitions",
        "storage_quota",
        "retention_days",
        "settings",
    )
)
# The version of the university the fields below were filled from: the save
# is refused if someone else changed it since, instead of putting these
# values back over that change.
seen_version = ui.drawn_version(
    f"edit_version_{selected.id}", edit_keys, current["version"]
)
with st.form(f"edit_university_{selected.id}"):
    st.markdown("**Quotas and settings**")
    left, right = st.columns(2)
    left.text_input(
        "Name", value=current["name"], key=ui.field_key(f"edit_name_{selected.id}")
    )
    right.selectbox(
        "Isolation level",
        ISOLATION_LEVELS,
        index=ISOLATION_LEVELS.index(current["isolation_level"]),
        key=ui.field_key(f"edit_isolation_{selected.id}"),
    )
    st.text_area(
        "Description",
        value=current["description"] or "",
        key=ui.field_key(f"edit_description_{selected.id}"),
    )
    quota_boxes(current, key=lambda short: ui.field_key(f"edit_{short}_{selected.id}"))
    st.text_area(
        "Other settings (JSON object)",
        value=json.dumps(other_settings, indent=2),
        key=ui.field_key(f"edit_settings_{selected.id}"),
        height=140,
    )
    if st.form_submit_button("Save changes", type="primary"):
        try:
            settings = ui.parse_json_object(
                ui.field_value(f"edit_settings_{selected.id}"), field="Other settings"
            )
        except Exception as error:  # noqa: BLE001  shown next to the form
            ui.show_error(error)
        else:
            changes = {
                "name": ui.field_value(f"edit_name_{selected.id}"),
                "description": ui.field_value(f"edit_description_{selected.id}")
                or None,
                "isolation_level": ui.field_value(f"edit_isolation_{selected.id}"),
                "max_agents": int(ui.field_value(f"edit_max_agents_{selected.id}")),
                "max_concurrent_competitions": int(
                    ui.field_value(f"edit_max_competitions_{selected.id}")
                ),
                "storage_quota_mb": int(
                    ui.field_value(f"edit_storage_quota_{selected.id}")
                ),
                "data_retention_days": int(
                    ui.field_value(f"edit_retention_days_{selected.id}")
                ),
                "settings": settings,
            }
            ui.run_write(
                lambda session: services.update_university(
                    session, selected.id, seen_version=seen_version, **changes
                ),
                success=lambda university: f"Saved the settings of {university.name}.",
                # Drawn again from the university as saved, with its new version.
                reset_keys=(*edit_keys, f"edit_version_{selected.id}"),
            )


# -- Retention -----------------------------------------------------------------

st.subheader("Retention")
st.caption(
    "Archived universities inactive for longer than their retention period "
    "move to the archive tables: the university and its agents are kept "
    "there, everything else they owned is deleted. First see what would move."
)
if st.button("Dry run: list what would move", icon=":material/search:"):
    with st.spinner("Looking for archived universities past their retention..."):
        due = retention.archive_due_universities(ui.engine(), dry_run=True)
    st.session_state[DRY_RUN_KEY] = [
        {
            "id": result.university_id,
            "university": result.name,
            "agents": result.agents,
            "last_activity_at": result.last_activity_at,
            "retention_days": result.retention_days,
        }
        for result in due
    ]

due = st.session_state.get(DRY_RUN_KEY)
if due is not None and not due:
    st.info("Nothing is due: no archived university is past its retention period.")
elif due:
    st.warning(
        f"{ui.counted(len(due), 'university', 'universities')} would move "
        "to the archive."
    )
    ui.show_table(
        due,
        column_order=["university", "agents", "last_activity_at", "retention_days"],
        column_config={"last_activity_at": ui.utc_column("last activity")},
    )
    if st.button(
        f"Confirm: archive {ui.counted(len(due), 'university', 'universities')}",
        type="primary",
        icon=":material/archive:",
    ):
        listed = [row["id"] for row in due]
        with st.status("Archiving universities...", expanded=True) as progress:
            # Only what the dry run listed: a university that became due
            # since waits for the next dry run.
            results = retention.archive_due_universities(
                ui.engine(), only=listed, progress=progress.write
            )
            failed = [result for result in results if not result.archived]
            progress.update(
                label=f"Archived {len(results) - len(failed)} of {len(results)}.",
                state="error" if failed else "complete",
            )
        st.session_state.pop(DRY_RUN_KEY, None)
        ui.clear_caches()
        if failed:
            st.error(
                f"{ui.counted(len(failed), 'university', 'universities')} could "
                "not be archived and stay live: "
                + ui.literal("; ".join(f"{r.name}: {r.error}" for r in failed))
            )
        else:
            # Rerun so that the list above loses the archived universities;
            # the message waits in the session for that run.
            message = (
                f"Archived {ui.counted(len(results), 'university', 'universities')}."
            )
            if len(results) < len(listed):
                message += (
                    f" {len(listed) - len(results)} of those listed were no longer "
                    "due (restored or active again) and stay live."
                )
            st.session_state[RETENTION_DONE_KEY] = message
            st.rerun()
