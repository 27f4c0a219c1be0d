"""Training data: quality by data type, validation over time, sources,
anonymization coverage, and the review queue with confirmed bulk actions."""

import plotly.express as px
import streamlit as st

from university_models.errors import DomainError
from university_models.models import (
    DATA_TYPES,
    SOURCE_TYPES,
    VALIDATION_STATUSES,
)
from university_models.queries import training_data
from university_models.services.training_data import (
    ANONYMIZE_FROM,
    REJECT_FROM,
    VALIDATE_FROM,
    bulk_anonymize,
    bulk_reject,
    bulk_validate,
    prepare_bulk_anonymization,
    preview_bulk_action,
)
from university_models.ui import (
    STATUS_COLORS,
    cached_query,
    counted,
    in_words,
    literal,
    pager,
    run_query,
    run_write,
    select_university,
    show_error,
    show_flash,
    show_table,
    table_key,
    utc_column,
    utc_label,
)

ALL = "All"
TIMELINE_DAYS = 30
PENDING_KEY = "training_data_pending_bulk"
SELECTION_KEY = "training_data_selected_ids"

#: What each bulk action does, which statuses it accepts, and its past tense.
ACTIONS = {
    "validate": (VALIDATE_FROM, "validated"),
    "reject": (REJECT_FROM, "rejected"),
    "anonymize": (ANONYMIZE_FROM, "anonymized"),
}


def preview(session, university_id, *, action, **filters):
    """The preview of a bulk action on what the person chose."""
    flt = training_data.record_filter(university_id, **filters)
    return preview_bulk_action(session, flt, action)


def prepare(session, university_id, *, token, progress, **filters):
    """The anonymized copies of the confirmed selection, computed in a read
    session so no write lock is held meanwhile."""
    flt = training_data.record_filter(university_id, **filters)
    return prepare_bulk_anonymization(session, flt, token=token, progress=progress)


st.title("Training data")
university = select_university()
show_flash()

total = cached_query(training_data.review_count, university.id)
if total == 0:
    st.info(
        "No training data collected yet. Agents' records arrive from "
        "competitions, training and evaluation (the demo has some: "
        "`python -m university_models demo`).",
        icon=":material/dataset:",
    )
    st.stop()

# --- charts -----------------------------------------------------------------
left, right = st.columns(2)
with left:
    st.subheader("Quality score by data type")
    histogram = cached_query(training_data.quality_histogram, university.id)
    histogram["quality"] = histogram.apply(
        lambda row: f"{row.low:.1f}–{row.high:.1f}", axis=1
    )
    histogram["data_type"] = histogram["data_type"].map(in_words)
    figure = px.bar(
        histogram,
        x="quality",
        y="records",
        color="data_type",
        barmode="group",
        # Data types are not statuses: a palette apart from the status colours.
        color_discrete_sequence=px.colors.qualitative.Safe,
        category_orders={
            "data_type": [in_words(code) for code in DATA_TYPES],
            "quality": sorted(set(histogram["quality"])),
        },
    )
    figure.update_layout(height=300, margin={"t": 10}, legend_title_text="")
    st.plotly_chart(figure, key="quality_histogram")

with right:
    st.subheader(f"Collected per day, last {TIMELINE_DAYS} days")
    over_time = cached_query(
        training_data.validation_over_time, university.id, days=TIMELINE_DAYS
    )
    if over_time.empty:
        st.caption(f"Nothing collected in the last {TIMELINE_DAYS} days.")
    else:
        figure = px.bar(
            over_time,
            x="day",
            y="records",
            color="validation_status",
            color_discrete_map=STATUS_COLORS,
            category_orders={"validation_status": list(VALIDATION_STATUSES)},
        )
        figure.update_layout(
            height=300,
            margin={"t": 10},
            xaxis_title=utc_label("day collected"),
            legend_title_text="status now",
        )
        st.plotly_chart(figure, key="validation_over_time")

left, right = st.columns(2)
with left:
    st.subheader("Sources and data types")
    matrix = cached_query(training_data.source_type_matrix, university.id)
    grid = matrix.pivot(index="source_type", columns="data_type", values="records")
    grid = grid.reindex(index=list(SOURCE_TYPES), columns=list(DATA_TYPES))
    grid = grid.rename(index=in_words, columns=in_words)
    figure = px.imshow(
        grid,
        text_auto=True,
        color_continuous_scale="Blues",
        aspect="auto",
        labels={"color": "records", "x": "data type", "y": "source"},
    )
    figure.update_layout(height=300, margin={"t": 10})
    st.plotly_chart(figure, key="source_matrix")

with right:
    st.subheader("Anonymization coverage")
    coverage = cached_query(training_data.anonymization_coverage, university.id)
    coverage["data_type"] = coverage["data_type"].map(in_words)
    figure = px.bar(
        coverage,
        x="data_type",
        y="share",
        hover_data=["records", "anonymized", "shared_or_public"],
        color_discrete_sequence=[STATUS_COLORS["anonymized"]],
        labels={"share": "anonymized share", "data_type": "data type"},
    )
    figure.update_layout(height=300, margin={"t": 10}, yaxis_tickformat=".0%")
    figure.update_yaxes(range=[0, 1])
    st.plotly_chart(figure, key="anonymization_coverage")
    exposed = int(coverage["exposed_raw"].sum())
    if exposed:
        st.error(
            f"{exposed} shared or public records are not anonymized: anonymize "
            "them below or set them back to private."
        )

# --- review queue -----------------------------------------------------------
st.subheader("Review queue")
agents = cached_query(training_data.agent_choices, university.id)
agent_names = dict(zip(agents["id"], agents["name"], strict=True))
with st.container(border=True):
    columns = st.columns(4)
    status = columns[0].selectbox(
        "Status",
        [ALL, *VALIDATION_STATUSES],
        index=1,
        key="queue_status",
        format_func=in_words,
    )
    data_type = columns[1].selectbox(
        "Data type", [ALL, *DATA_TYPES], key="queue_type", format_func=in_words
    )
    source_type = columns[2].selectbox(
        "Source", [ALL, *SOURCE_TYPES], key="queue_source", format_func=in_words
    )
    agent_id = columns[3].selectbox(
        "Agent",
        [ALL, *agent_names],
        format_func=lambda key: agent_names.get(key, key),
        key="queue_agent",
    )
    columns = st.columns(2)
    quality = columns[0].slider(
        "Quality score", 0.0, 1.0, (0.0, 1.0), step=0.05, key="queue_quality"
    )
    collected = columns[1].date_input(
        utc_label("Collected between"), value=(), key="queue_collected"
    )

filters = {
    "validation_status": None if status == ALL else status,
    "data_type": None if data_type == ALL else data_type,
    "source_type": None if source_type == ALL else source_type,
    "agent_id": None if agent_id == ALL else agent_id,
    "min_quality": quality[0] if quality[0] > 0.0 else None,
    "max_quality": quality[1] if quality[1] < 1.0 else None,
    "collected_from": collected[0] if len(collected) >= 1 else None,
    "collected_to": collected[-1] if len(collected) >= 1 else None,
}
matching = cached_query(training_data.review_count, university.id, **filters)
if matching == 0:
    st.info("No record matches these filters; widen them.", icon=":material/search:")
    st.stop()

offset = pager(matching, page_size=training_data.QUEUE_PAGE_SIZE, key="queue_page")
queue = cached_query(
    training_data.review_queue, university.id, offset=offset, **filters
)
# Ticks stay with the records they were made on (see ui.table_key).
review_key = table_key("review_table", university.id, filters, offset)
event = show_table(
    queue,
    on_select="rerun",
    selection_mode="multi-row",
    key=review_key,
    column_order=[c for c in queue.columns if c != "id"],
    column_config={
        "quality_score": st.column_config.ProgressColumn(
            "quality", min_value=0.0, max_value=1.0, format="%.2f"
        ),
        "collected_at": utc_column("collected"),
        "data_type": "data type",
        "source_type": "source",
        "validation_status": "status",
        "privacy_level": "privacy",
    },
)
selected = tuple(queue.iloc[list(event.selection.rows)]["id"]) if event else ()
st.caption(
    f"{counted(matching, 'record')} {'matches' if matching == 1 else 'match'}; "
    f"showing {len(queue)} from row "
    f"{offset + 1}, lowest quality first. Select rows to act on them only."
)

# Ticking rows turns "Apply to" to them; without ticks it is all matching
# records. Otherwise the person's own choice stands. No ticks is checked on
# every run, not only when the ticks change: Streamlit forgets the radio's
# value after a run that does not draw it (a visit to another page, a filter
# matching nothing) while the remembered ticks stay, and the radio then came
# back on its first option, "the 0 selected rows".
if not selected:
    st.session_state["queue_scope"] = "matching"
elif st.session_state.get(SELECTION_KEY) != selected:
    st.session_state["queue_scope"] = "selected"
st.session_state[SELECTION_KEY] = selected
columns = st.columns([2, 2, 3])
scope = columns[0].radio(
    "Apply to",
    ["selected", "matching"],
    format_func=lambda key: (
        (
            f"the {counted(len(selected), 'selected row')}"
            if selected
            else "selected rows (tick some in the table)"
        )
        if key == "selected"
        else f"all {counted(matching, 'matching record')}"
    ),
    key="queue_scope",
)
action = columns[1].radio(
    "Action",
    list(ACTIONS),
    format_func=lambda key: f"{key} (from {', '.join(ACTIONS[key][0])})",
    key="queue_action",
)
reason = columns[2].text_input(
    "Reason for rejecting",
    key="queue_reason",
    disabled=action != "reject",
    help="Required to reject; kept with every rejected record.",
)

target = dict(filters)
if scope == "selected":
    target["record_ids"] = selected

if st.button("Review the change", type="primary", key="queue_review"):
    if scope == "selected" and not selected:
        st.warning("Select rows in the table first, or apply to all matching.")
    elif action == "reject" and not reason.strip():
        # Refused before the confirmation: a confirmation quoting an empty
        # reason would only be refused by the service afterwards.
        st.session_state.pop(PENDING_KEY, None)
        st.error("To reject records, give a reason.", icon=":material/error:")
    else:
        shown = run_query(preview, university.id, action=action, **target)
        st.session_state[PENDING_KEY] = {
            "university": university.id,
            "action": action,
            "filters": target,
            "reason": reason.strip(),
            "count": shown.count,
            "by_status": dict(shown.by_status),
            # The service's own answer to what would be refused.
            "blocked": dict(shown.blocked),
            # Pins exactly these records in these states: the service
            # refuses the change when anything else would be changed.
            "token": shown.token,
        }

pending = st.session_state.get(PENDING_KEY)
if pending and (
    pending["university"] != university.id
    or pending["filters"] != target
    or pending["action"] != action
    or (action == "reject" and pending["reason"] != reason.strip())
):
    # The confirmation belongs to what is on screen: another university,
    # other filters, other rows or another action need a new review.
    st.session_state.pop(PENDING_KEY, None)
    pending = None
if pending:
    _, done = ACTIONS[pending["action"]]
    blocked = pending["blocked"]
    because = (
        f" with the reason “{literal(pending['reason'])}”"
        if pending["action"] == "reject"
        else ""
    )
    with st.container(border=True):
        ahead = "It cannot go ahead as it is." if blocked else "Confirm to go ahead."
        states = ", ".join(
            f"{n} {in_words(status)}" for status, n in pending["by_status"].items()
        )
        st.warning(
            f"This will {pending['action']} "
            f"**{counted(pending['count'], 'training record')}** of "
            f"{literal(university.name)} ({states}){because}. {ahead}",
            icon=":material/warning:",
        )
        if blocked:
            # The service would refuse the whole change, so no Confirm button
            # is offered; the advice names what the person can change.
            listed = ", ".join(f"{n} {name}" for name, n in blocked.items())
            narrow = (
                "untick those rows"
                if "record_ids" in pending["filters"]
                else "narrow the filters"
            )
            st.caption(
                f"{listed} of them cannot be {done}: the change will be refused "
                f"until you {narrow}."
            )
        confirm, cancel = st.columns(2)
        if cancel.button("Cancel", key="queue_cancel"):
            st.session_state.pop(PENDING_KEY, None)
            st.rerun()
        if not blocked and confirm.button(
            f"Confirm: {pending['action']} {counted(pending['count'], 'record')}",
            type="primary",
            key="queue_confirm",
        ):
            flt = training_data.record_filter(university.id, **pending["filters"])
            token = pending["token"]
            bar = st.progress(0.0, text=f"{pending['action'].capitalize()}…")
            prepared = None
            if pending["action"] == "anonymize":
                # The copies are computed before the write transaction, which
                # on SQLite locks the whole database.
                try:
                    prepared = run_query(
                        prepare,
                        university.id,
                        token=token,
                        progress=lambda n, of: bar.progress(
                            n / max(of, 1), text=f"Anonymized {n} of {of}…"
                        ),
                        **pending["filters"],
                    )
                except DomainError as error:
                    show_error(error)
                    st.stop()

            def change(session):
                # The service refuses (and nothing changes) when the filter no
                # longer selects exactly the records the person confirmed.
                if pending["action"] == "validate":
                    return bulk_validate(session, flt, token=token)
                if pending["action"] == "reject":
                    return bulk_reject(
                        session, flt, reason=pending["reason"], token=token
                    )
                return bulk_anonymize(
                    session,
                    flt,
                    token=token,
                    prepared=prepared,
                    progress=lambda n, of: bar.progress(
                        n / max(of, 1), text=f"Saved {n} of {of}…"
                    ),
                )

            try:
                run_write(
                    change,
                    success=lambda changed: (
                        f"{counted(changed, 'training record')} {done}."
                    ),
                    reset_keys=(PENDING_KEY, review_key, SELECTION_KEY),
                )
                # Only a refusal comes back here: the review it answered is
                # spent, and the next one starts from what stands now.
                st.session_state.pop(PENDING_KEY, None)
            finally:
                if prepared is not None:
                    prepared.close()
