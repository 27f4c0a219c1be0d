"""Proposals: the review queue (pending first) with approve and reject on
each, bulk approval with confirmation, implementation, and the decision
history."""

import pandas as pd
import streamlit as st

from university_models import ui
from university_models.models import IMPLEMENTATION_STATUSES, PROPOSAL_STATUSES
from university_models.queries import proposals as queries
from university_models.services import proposals as services

ANY = "(any)"
DECIDER_KEY = "proposal_decider"
BULK_KEY = "proposal_bulk_ids"
#: The decision button last clicked, as (its label, proposal id, title as
#: shown), kept by the click itself: when another session decided the
#: proposal first, the button is gone from the rerun and its click would
#: otherwise pass without a word.
CLICKED_KEY = "proposal_clicked"
#: The most proposals one bulk approval decides; more need another round.
BULK_LIMIT = 500
#: Streamlit's badge colours nearest to ``ui.STATUS_COLORS`` for each decision.
BADGE_COLORS = {
    "pending": "orange",
    "approved": "green",
    "rejected": "red",
    "implemented": "blue",
}

st.title("Proposals")
university = ui.select_university()

# TODO: the deciding person is typed, not signed in; replace this with the
# signed-in user once the dashboard has sign-in.
st.session_state["proposal_decider_input"] = st.session_state.get(DECIDER_KEY, "")
st.sidebar.text_input(
    "Your name or e-mail",
    key="proposal_decider_input",
    on_change=lambda: st.session_state.update(
        {DECIDER_KEY: st.session_state.proposal_decider_input.strip()}
    ),
    help="Recorded with every decision you make on this page.",
)
decider = st.session_state.get(DECIDER_KEY, "")
ui.show_flash()


def decide(action, proposal_id: str, success: str, *, where, **values) -> None:
    """Run one decision as ``decider``; without a name, say where to type it."""
    if not decider:
        where.error(
            "Type your name or e-mail in the sidebar first: every decision "
            "records who made it.",
            icon=":material/person:",
        )
        return
    ui.run_write(
        lambda session: action(session, proposal_id, decided_by=decider, **values),
        success=success,
        where=where,
    )


def note_click(label: str, proposal_id: str, title: str) -> None:
    st.session_state[CLICKED_KEY] = (label, proposal_id, title)


# Taken on every run, so a click never outlives the run it was made for.
last_click = st.session_state.pop(CLICKED_KEY, None)
answered: list[tuple[str, str, str]] = []


def clicked(area, label: str, proposal, **options) -> bool:
    """A decision button on one proposal's card: True when clicked now."""
    click = (label, proposal.id, proposal.title)
    if area.button(label, on_click=note_click, args=click, **options):
        answered.append(click)
        return True
    return False


# -- Counts and filters --------------------------------------------------------------

counts = ui.cached_query(queries.proposal_status_counts, university.id)
by_status = counts.groupby("validation_status")["proposals"].sum()
metrics = st.columns(len(PROPOSAL_STATUSES))
for column, status in zip(metrics, PROPOSAL_STATUSES, strict=True):
    column.metric(status.capitalize(), int(by_status.get(status, 0)))

if counts.empty:
    st.info(
        f"{ui.literal(university.name)} has no improvement proposals yet. They "
        "are drawn from training data (by the professor agent, a person or the "
        "system); collect and validate training data on **Training data** first.",
        icon=":material/lightbulb:",
    )
    st.stop()

filters = st.columns(2)
status = filters[0].selectbox(
    "Decision",
    [ANY, *PROPOSAL_STATUSES],
    key="proposals_status",
    format_func=ui.in_words,
)
implementation = filters[1].selectbox(
    "Implementation",
    [ANY, *IMPLEMENTATION_STATUSES],
    key="proposals_implementation",
    format_func=ui.in_words,
)
scope = {
    "validation_status": None if status == ANY else status,
    "implementation_status": None if implementation == ANY else implementation,
}


# -- Bulk approval -------------------------------------------------------------------

pending = int(by_status.get("pending", 0))
bulk_area = st.container()
# The confirmation belongs to the pending proposals it was made for: when
# they change (a decision on this page, new proposals, another university in
# the sidebar) it is dropped, and the button offers the new count, rather
# than confirming a list the service would refuse whole.
confirmed = st.session_state.get(BULK_KEY)
if confirmed is not None:
    still_pending = ui.cached_query(
        queries.pending_proposal_ids, university.id, limit=BULK_LIMIT
    )
    if confirmed["university"] != university.id or confirmed["ids"] != still_pending:
        del st.session_state[BULK_KEY]
        if st.session_state.get("bulk_approve_confirm"):
            bulk_area.warning(
                "Nothing was approved: the pending proposals changed after you "
                "asked to approve them all (a decision or a new proposal in "
                "another session). Check them, then approve again.",
                icon=":material/sync_problem:",
            )
if pending and BULK_KEY not in st.session_state:
    shown = min(pending, BULK_LIMIT)
    if bulk_area.button(
        f"Approve all {shown} pending proposals..."
        if shown != 1
        else "Approve the 1 pending proposal...",
        icon=":material/done_all:",
        key="bulk_approve_start",
    ):
        st.session_state[BULK_KEY] = {
            "university": university.id,
            "ids": ui.cached_query(
                queries.pending_proposal_ids, university.id, limit=BULK_LIMIT
            ),
        }
        st.rerun()
if BULK_KEY in st.session_state:
    ids = st.session_state[BULK_KEY]["ids"]
    if ui.confirmed(
        bulk_area,
        f"Approve **{len(ids)}** pending proposal{'' if len(ids) == 1 else 's'} "
        f"as **{ui.literal(decider) if decider else '(nobody)'}**? "
        "This cannot be undone from this page.",
        state_key=BULK_KEY,
        confirm=f"Confirm: approve {len(ids)}",
        keep="Cancel",
        key="bulk_approve",
    ):
        if not decider:
            bulk_area.error(
                "Type your name or e-mail in the sidebar first: every decision "
                "records who made it."
            )
        else:
            with st.spinner(f"Approving {len(ids)} proposals..."):
                st.session_state.pop(BULK_KEY)
                ui.run_write(
                    lambda session: services.bulk_approve(
                        session,
                        university.id,
                        ids,
                        decided_by=decider,
                        expected_count=len(ids),
                    ),
                    success=lambda approved: (
                        f"Approved {ui.counted(approved, 'proposal')}."
                    ),
                    where=bulk_area,
                )


# -- The queue ----------------------------------------------------------------------

total = ui.cached_query(queries.count_proposals, university.id, **scope)
offset = ui.pager(total, page_size=queries.PAGE_SIZE, key="proposals_page")
queue = ui.cached_query(
    queries.list_proposals,
    university.id,
    **scope,
    limit=queries.PAGE_SIZE,
    offset=offset,
)
if queue.empty:
    st.info("No proposal matches these filters. Clear a filter to see more.")
missed_area = st.container()

for proposal in queue.itertuples():
    box = st.container(border=True)
    head, badge = box.columns([4, 1])
    head.markdown(f"**{ui.literal(proposal.title)}**")
    badge.markdown(
        f":{BADGE_COLORS[proposal.validation_status]}-badge"
        f"[{proposal.validation_status}]"
    )
    box.markdown(ui.literal(proposal.description))
    facts = [
        f"expected improvement **{proposal.expected_improvement:+.3f}**"
        if pd.notna(proposal.expected_improvement)
        else "no expected improvement given",
        f"by {ui.in_words(proposal.generated_by)}",
        f"created {ui.format_utc(proposal.created_at)}",
    ]
    if isinstance(proposal.source_record_id, str):
        facts.append(
            f"from {ui.in_words(proposal.source_data_type)} data of "
            f"**{ui.literal(proposal.source_agent)}** ({proposal.source_type}, quality "
            f"{proposal.source_quality_score:.2f}, record "
            f"`{proposal.source_record_id[:8]}`)"
        )
    if isinstance(proposal.validated_by, str):
        # The decision stays the approval once the proposal is implemented.
        decision = (
            "approved"
            if proposal.validation_status == "implemented"
            else proposal.validation_status
        )
        facts.append(
            f"{decision} by {ui.literal(proposal.validated_by)} at "
            f"{ui.format_utc(proposal.validated_at)}"
        )
    implementation = f"implementation {ui.in_words(proposal.implementation_status)}"
    if pd.notna(proposal.implemented_at):
        implementation += f" at {ui.format_utc(proposal.implemented_at)}"
    facts.append(implementation)
    box.caption(" · ".join(facts))
    if isinstance(proposal.implementation_details, str):
        box.markdown(f"*Implementation:* {ui.literal(proposal.implementation_details)}")

    messages = box.container()
    if proposal.validation_status == "pending":
        approve, reject = box.columns([1, 3])
        if clicked(
            approve,
            "Approve",
            proposal,
            key=f"approve_{proposal.id}",
            type="primary",
            icon=":material/check:",
        ):
            decide(
                services.approve_proposal,
                proposal.id,
                f"Approved {proposal.title!r}.",
                where=messages,
            )
        with reject.popover("Reject...", icon=":material/close:"):
            reason = st.text_input(
                "Why is it rejected?", key=f"reject_reason_{proposal.id}"
            )
            if clicked(st, "Reject", proposal, key=f"reject_{proposal.id}"):
                decide(
                    services.reject_proposal,
                    proposal.id,
                    f"Rejected {proposal.title!r}.",
                    where=messages,
                    reason=reason,
                )
    elif proposal.validation_status == "rejected":
        with box.popover("Reopen...", icon=":material/undo:"):
            reason = st.text_input(
                "Why is it reopened?", key=f"reopen_reason_{proposal.id}"
            )
            if clicked(st, "Reopen", proposal, key=f"reopen_{proposal.id}"):
                decide(
                    services.reopen_proposal,
                    proposal.id,
                    f"Reopened {proposal.title!r}: it is pending again.",
                    where=messages,
                    reason=reason,
                )
    elif proposal.validation_status == "approved":
        state = proposal.implementation_status
        if state in ("not_started", "failed") and clicked(
            box,
            "Start implementation"
            if state == "not_started"
            else "Retry implementation",
            proposal,
            key=f"implement_{proposal.id}",
            icon=":material/build:",
        ):
            ui.run_write(
                lambda session, pid=proposal.id: services.start_implementation(
                    session, pid
                ),
                success=f"Implementation of {proposal.title!r} started.",
                where=messages,
            )
        if state == "in_progress":
            done, failed = box.columns([1, 3])
            for column, succeeded, label in (
                (done, True, "Mark implemented"),
                (failed, False, "Mark failed"),
            ):
                if clicked(
                    column, label, proposal, key=f"finish_{succeeded}_{proposal.id}"
                ):
                    ui.run_write(
                        lambda session, pid=proposal.id, ok=succeeded: (
                            services.finish_implementation(session, pid, succeeded=ok)
                        ),
                        success=(
                            f"{proposal.title!r} "
                            + (
                                "is implemented."
                                if succeeded
                                else "failed to implement."
                            )
                        ),
                        where=messages,
                    )


# A click that found no button: its proposal had changed in another session.
if last_click is not None and last_click not in answered:
    label, _, title = last_click
    missed_area.warning(
        f"Nothing changed: {ui.literal(repr(title))} was decided or changed in "
        f"another session before your click on {label}. Its card and the "
        "decision history show where it stands now.",
        icon=":material/sync_problem:",
    )


# -- Decision history ---------------------------------------------------------------

st.subheader("Decision history")
history = ui.cached_query(queries.decision_history, university.id)
if history.empty:
    st.caption("No decision yet: approve or reject a proposal above.")
else:
    ui.show_table(
        history.drop(columns=["id"]),
        width="stretch",
        column_config={"decided_at": ui.utc_column("when")},
    )
