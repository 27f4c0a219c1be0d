"""Competitions: the list by status, scheduling one, and one competition's
participants, matches, bracket, results and status actions."""

import json
from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st

from university_models import importers, ui
from university_models.errors import DomainError
from university_models.models import (
    AGENT_TYPES,
    COMPETITION_STATUSES,
    COMPETITION_TYPES,
    PARTICIPANT_TYPES,
)
from university_models.queries import agents as agent_queries
from university_models.queries import competitions as queries
from university_models.services import competitions as services
from university_models.services.validation import INTEGER_MAX, edit_version

ANY = "(any)"

#: What the rules and evaluation boxes start with for each type: the
#: standings' defaults written out, so a person sees what can be changed.
RULE_PRESETS = {
    "solo": {"score_order": "higher_is_better", "time_limit_minutes": 60},
    "challenge": {
        "score_order": "higher_is_better",
        "tie_breaks": ["average_score"],
        "time_limit_minutes": 60,
    },
    "head_to_head": {
        "legs": 1,
        "points": {"win": 3, "draw": 1, "loss": 0},
        "tie_breaks": ["points", "score_difference", "score_for"],
    },
    "tournament": {"tie_break": "higher_seed", "score_order": "higher_is_better"},
}
EVALUATION_PRESETS = {
    "solo": {"metric": "accuracy", "runs": 1},
    "challenge": {"metric": "accuracy", "runs": 3},
    "head_to_head": {"judge": "pairwise", "metric": "win_rate"},
    "tournament": {"judge": "pairwise", "metric": "win_rate"},
}
SCHEDULE_KEYS = ("competition_name", "competition_participants")
#: Service words -> this page's labels, per form (longest phrases first).
SCHEDULE_WORDS = {
    "raise max_participants or enter the agent as an observer.": (
        "raise Maximum participants or pick fewer participants."
    ),
    "scheduled_start": "the start",
    "scheduled_end": "the end",
    "max_participants": "Maximum participants",
}
PARTICIPANT_WORDS = {
    "raise max_participants or enter the agent as an observer.": (
        'choose "observer" under "Takes part as" to add the agent without playing.'
    ),
    "leave seed_ranking": "set Seed to 0 for",
    "seed_ranking": "Seed",
}
COMPLETE_WORDS = {
    f"complete with force to cancel {them}": (
        f'tick "Cancel unplayed matches" and complete again to cancel {them}'
    )
    for them in ("it", "them")
}
RESULT_KEYS = ("result_match", "result_score1", "result_score2", "result_winner")
CANCEL_KEY = "competition_cancel_pending"
#: (competition id, participant id) of a disqualification awaiting its
#: confirmation.
DISQUALIFY_KEY = "participant_disqualify_pending"
#: A correction awaiting its confirmation because it reopens later
#: matches: what it is about (competition, match, the form's values), the
#: result to record and the matches it reopens.
CORRECTION_KEY = "result_correction_pending"

st.title("Competitions")
university = ui.select_university()
ui.show_flash()


def _next_hour() -> datetime:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now + timedelta(hours=1)


def _utc(day, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=UTC)


def _match_words(row) -> str:
    """A match as a person names it: "match #1 (Farah vs Dr. Franklin)"."""
    if isinstance(row.agent2, str):
        return f"match #{row.match_number} ({row.agent1} vs {row.agent2})"
    return f"match #{row.match_number} ({row.agent1}, solo)"


#: What a person reads of a match in the result form (see _matches_version).
MATCH_STATE_COLUMNS = [
    "id",
    "status",
    "participant1_id",
    "participant2_id",
    "participant1_score",
    "participant2_score",
    "forfeit",
]


def _matches_version(matches: pd.DataFrame) -> str:
    """A short digest of the matches as the result form shows them: it moves
    when a match is recorded, corrected, reopened or forfeited."""
    shown = matches[MATCH_STATE_COLUMNS].sort_values("id").to_json(orient="values")
    return edit_version({"matches": shown}, ["matches"])


def _sentence(words: str) -> str:
    """``words`` opening a sentence: the first letter in capitals, the rest
    as written (``str.capitalize`` would lower the agents' names)."""
    return words[:1].upper() + words[1:]


def _result_words(row, match) -> str:
    """The success message of a recorded result: "Result of match #1 (Farah
    vs Dr. Franklin) recorded: 5 – 4, Farah wins."; "corrected" for a
    played match, followed by what the correction reopened ("Match #3 was
    reopened and its result 2 – 1 discarded; record it again.")."""
    done = "corrected" if row.status == "completed" else "recorded"
    words = f"Result of {_match_words(row)} {done}"
    if match.participant2_id is None:
        return f"{words}: {match.participant1_score:g}."
    score = f"{match.participant1_score:g} – {match.participant2_score:g}"
    winner = {
        match.participant1_id: row.agent1,
        match.participant2_id: row.agent2,
    }.get(match.winner_participant_id)
    outcome = f"{winner} wins" if winner else "a draw"
    return " ".join([f"{words}: {score}, {outcome}.", *map(_undone, match.reopened)])


def _undone(later) -> str:
    """What a correction did to a later match: voided (the corrected match's
    next one, kept to be played again) or removed (further on, drawn again
    once the bracket decides who plays it)."""
    what = (
        f"Match #{later.match_number}, which was in play,"
        if later.status != "completed"
        else f"Match #{later.match_number} ({_score_words(later)})"
    )
    if later.removed:
        return (
            f"{what} was removed; the bracket draws it again once its players "
            "are decided."
        )
    if later.status == "completed":
        return (
            f"Match #{later.match_number} was reopened and its result "
            f"{_score_words(later)} discarded; record it again."
        )
    return f"{what} was reopened; record its result when it is played again."


def _score_words(later) -> str:
    return f"{later.participant1_score:g} – {later.participant2_score:g}"


def _reopens_question(row, reopened) -> str:
    """The question a correction that reopens later matches asks (markdown,
    escaped): which matches, with the results it discards."""
    named = [
        f"match #{later.match_number} ({ui.literal(later.agent1)} vs "
        f"{ui.literal(later.agent2)}, "
        + (
            f"played {_score_words(later)})"
            if later.status == "completed"
            else "in play)"
        )
        for later in reopened
    ]
    return (
        f"Correcting {ui.literal(_match_words(row))} changes its winner, so it "
        f"reopens {' and '.join(named)}: "
        + ("its result is" if len(named) == 1 else "their results are")
        + " discarded and must be recorded again once played with the new "
        "winner. Correct it anyway?"
    )


def _import_words(report) -> str:
    """An import report in words; repeated records are explained, since
    they are written like any other (the same judgment given twice is real
    data)."""
    return (
        f"{ui.counted(report.records, 'record')} read: "
        f"{ui.counted(report.matches_written, 'match', 'matches')} written, "
        f"{ui.counted(report.agents_created, 'agent')} created, "
        f"{ui.counted(report.duplicates, 'repeated record')} (kept as real data), "
        f"{ui.counted(report.ties, 'tie')}, "
        f"{ui.counted(report.skipped_unscored, 'unscored task')} skipped, "
        f"in {report.elapsed_seconds:.2f} s."
    )


def _in_form_words_of(replacements: dict[str, str]):
    """Decorate a page action so that its refusals name this page's form
    labels instead of the services' argument names (a person sees "Cancel
    unplayed matches", not ``force``). The refusal is raised again, so the
    transaction still rolls back."""
    return lambda action: _in_form_words(action, replacements)


def _in_form_words(action, replacements: dict[str, str]):
    """``action`` whose refusals have ``replacements`` applied."""

    def run(session):
        try:
            return action(session)
        except DomainError as error:
            message = str(error)
            for internal, label in replacements.items():
                message = message.replace(internal, label)
            raise type(error)(message) from error

    return run


# -- Schedule a competition ------------------------------------------------------

agents = ui.cached_query(agent_queries.agent_choices, university.id)
agent_names = dict(zip(agents["id"], agents["name"], strict=True))

with ui.expander(
    "Schedule a competition", key="schedule_competition_open", icon=":material/add:"
):
    # The type sits outside the form so that its presets fill the boxes as
    # soon as it changes.
    competition_type = st.selectbox(
        "Type", COMPETITION_TYPES, key="competition_type", format_func=ui.in_words
    )
    start_default = _next_hour()
    with st.form("schedule_competition"):
        st.text_input("Name", key=ui.field_key("competition_name"))
        left, right = st.columns(2)
        left.text_area(
            "Rules (JSON object)",
            value=json.dumps(RULE_PRESETS[competition_type], indent=2),
            key=f"competition_rules_{competition_type}",
            height=150,
        )
        right.text_area(
            "Evaluation config (JSON object)",
            value=json.dumps(EVALUATION_PRESETS[competition_type], indent=2),
            key=f"competition_evaluation_{competition_type}",
            height=150,
        )
        when = st.columns(4)
        when[0].date_input(
            "Start date (UTC)", value=start_default.date(), key="competition_start_day"
        )
        when[1].time_input(
            "Start time (UTC)", value=start_default.time(), key="competition_start_time"
        )
        when[2].date_input(
            "End date (UTC)",
            value=(start_default + timedelta(days=1)).date(),
            key="competition_end_day",
        )
        when[3].time_input(
            "End time (UTC)", value=start_default.time(), key="competition_end_time"
        )
        st.number_input(
            "Maximum participants",
            min_value=1,
            max_value=INTEGER_MAX,
            value=8,
            key="competition_max_participants",
        )
        st.multiselect(
            "Participants",
            list(agents["id"]),
            format_func=lambda i: agent_names[i],
            key=ui.field_key("competition_participants"),
            placeholder="Choose agents",
        )
        # Seeds matter only to a tournament (its bracket and the higher_seed
        # tie-break), so only a tournament starts ticked; the label does not
        # promise seeds the box would not store.
        st.checkbox(
            "Seed them in the order picked (the first is seed 1)",
            value=competition_type == "tournament",
            key=f"competition_seeded_{competition_type}",
            help="Seeds place a tournament's bracket (seed 1 meets the last "
            "seed) and decide its drawn matches under the higher_seed "
            "tie-break. A round robin, solo or challenge competition does not "
            "use them. Unticked, nobody gets a seed; a tournament then seeds "
            "its competitors in the order they joined when it starts.",
        )
        if st.form_submit_button("Schedule competition", type="primary"):
            state = st.session_state
            try:
                rules = ui.parse_json_object(
                    state[f"competition_rules_{competition_type}"], field="Rules"
                )
                evaluation = ui.parse_json_object(
                    state[f"competition_evaluation_{competition_type}"],
                    field="Evaluation config",
                )
            except Exception as error:  # noqa: BLE001  shown next to the form
                ui.show_error(error)
            else:
                values = {
                    "name": ui.field_value("competition_name"),
                    "competition_type": competition_type,
                    "rules": rules,
                    "evaluation_config": evaluation,
                    "scheduled_start": _utc(
                        state.competition_start_day, state.competition_start_time
                    ),
                    "scheduled_end": _utc(
                        state.competition_end_day, state.competition_end_time
                    ),
                    "max_participants": int(state.competition_max_participants),
                }
                participants = list(ui.field_value("competition_participants"))
                seeded = bool(state[f"competition_seeded_{competition_type}"])

                @_in_form_words_of(SCHEDULE_WORDS)
                def _schedule(session):
                    competition = services.schedule_competition(
                        session, university.id, **values
                    )
                    for seed, agent_id in enumerate(participants, start=1):
                        services.add_participant(
                            session,
                            competition.id,
                            agent_id,
                            seed_ranking=seed if seeded else None,
                        )
                    return competition

                ui.run_write(
                    _schedule,
                    success=lambda competition: (
                        f"Competition {competition.name!r} scheduled with "
                        f"{ui.counted(len(participants), 'participant')}."
                    ),
                    reset_keys=SCHEDULE_KEYS,
                )


# -- Import results ------------------------------------------------------------------

IMPORT_REPORT_KEY = "competition_import_report"

with ui.expander(
    "Import results", key="import_results_open", icon=":material/upload_file:"
):
    st.caption(
        "A CSV, JSON or JSON-lines file of results becomes one completed "
        "competition. Pairwise types read `agent_a, agent_b` (or `model_a, "
        "model_b`) and `winner`, which names a side, not an agent: `agent_a` "
        "or `model_a`, `agent_b` or `model_b`, or `tie`; `score_a` and "
        "`score_b` may be given instead. Solo and challenge read `agent, "
        "challenge, score`. Agents not in the university yet are created."
    )
    upload = st.file_uploader(
        # The endings detect_format reads (.ndjson is JSON Lines too).
        "Result file",
        type=["csv", "json", "jsonl", "ndjson"],
        key="import_file",
    )
    left, right = st.columns(2)
    import_name = left.text_input("Competition name", key="import_name")
    import_type = right.selectbox(
        "Competition type",
        COMPETITION_TYPES,
        index=1,
        key="import_type",
        format_func=ui.in_words,
    )
    import_agent_type = st.selectbox(
        "Type of the agents it creates",
        AGENT_TYPES,
        index=AGENT_TYPES.index("specialist"),
        key="import_agent_type",
        help="As --agent-type of the import-results command: agents of the file "
        "that the university does not have yet are created with this type.",
        format_func=ui.in_words,
    )
    append = st.checkbox(
        "Append to the existing competition of that name", key="import_append"
    )
    import_errors = st.container()
    if st.button("Import", icon=":material/upload:", disabled=upload is None):
        bar = st.progress(0.0, text="Importing...")

        def _progress(done: int, total: int) -> None:
            bar.progress(
                min(1.0, done / total) if total else 1.0, text=f"{done} of {total}"
            )

        def _import(session):
            return importers.import_results(
                session,
                upload,
                university_name_or_id=university.id,
                competition_name=import_name,
                competition_type=import_type,
                file_name=upload.name,
                agent_type=import_agent_type,
                append=append,
                progress=_progress,
            )

        def _imported(report) -> str:
            st.session_state[IMPORT_REPORT_KEY] = report.as_dict()
            return (
                f"Imported {upload.name} into {import_name!r}: {_import_words(report)}"
            )

        ui.run_write(_import, success=_imported, where=import_errors)
        bar.empty()
    if IMPORT_REPORT_KEY in st.session_state:
        st.markdown("**Last import**")
        ui.show_table(
            pd.DataFrame([st.session_state[IMPORT_REPORT_KEY]]).drop(
                columns=["competition_id"]
            ),
            column_config={
                "agents_created": "agents created",
                "matches_written": "matches written",
                "skipped_unscored": "unscored tasks skipped",
                "elapsed_seconds": st.column_config.NumberColumn(
                    "seconds", format="%.2f"
                ),
            },
        )


# -- The list ------------------------------------------------------------------------

counts = ui.cached_query(queries.competition_status_counts, university.id)
metric_columns = st.columns(len(COMPETITION_STATUSES))
for column, row in zip(metric_columns, counts.itertuples(), strict=True):
    column.metric(row.status.capitalize(), row.competitions)

filters = st.columns([1, 1, 2])
status = filters[0].selectbox(
    "Status",
    [ANY, *COMPETITION_STATUSES],
    key="competitions_status",
    format_func=ui.in_words,
)
kind = filters[1].selectbox(
    "Type", [ANY, *COMPETITION_TYPES], key="competitions_type", format_func=ui.in_words
)
search = filters[2].text_input(
    "Name contains", key="competitions_name", placeholder="part of a name"
)
scope = {
    "status": None if status == ANY else status,
    "competition_type": None if kind == ANY else kind,
    "name_contains": search.strip() or None,
}
total = ui.cached_query(queries.count_competitions, university.id, **scope)
offset = ui.pager(total, page_size=queries.PAGE_SIZE, key="competitions_page")
table = ui.cached_query(
    queries.list_competitions,
    university.id,
    **scope,
    limit=queries.PAGE_SIZE,
    offset=offset,
)

if counts["competitions"].sum() == 0:
    st.info(
        f"{ui.literal(university.name)} has no competitions yet. "
        + ui.next_step(
            university,
            "Schedule one with **Schedule a competition** above"
            + ("" if len(agents) else " (create some agents first, on **Agents**)")
            + ".",
        ),
        icon=":material/trophy:",
    )
    st.stop()
if table.empty:
    st.info("No competition matches these filters. Clear a filter to see more.")
else:
    ui.show_table(
        table.drop(columns=["id"]),
        width="stretch",
        column_config={
            "competition_type": "type",
            "scheduled_start": ui.utc_column("scheduled start"),
            "scheduled_end": ui.utc_column("scheduled end"),
            "actual_start": ui.utc_column("started"),
            "actual_end": ui.utc_column("ended"),
            "max_participants": "max",
            "completed_matches": "played",
        },
    )


# -- One competition ----------------------------------------------------------------

# The competitions on this page of the list: the filters and the pager
# above are how a person finds one among many.
choices = dict(zip(table["id"], table["name"], strict=True))
st.subheader("Competition")
competition_id = st.selectbox(
    "Open",
    [None, *choices],
    format_func=lambda i: "Choose a competition" if i is None else choices[i],
    key="competition_open",
)
# A cancel or disqualification question belongs to one competition: it is
# dropped as soon as another one (or none) is open, even one without the button.
if st.session_state.get(CANCEL_KEY, competition_id) != competition_id:
    del st.session_state[CANCEL_KEY]
if st.session_state.get(DISQUALIFY_KEY, (competition_id,))[0] != competition_id:
    del st.session_state[DISQUALIFY_KEY]
# A correction question belongs to one competition, match and set of
# scores: it is dropped as soon as any of them changes.
correction_about = (competition_id, *map(ui.field_value, RESULT_KEYS))
if (
    st.session_state.get(CORRECTION_KEY, {"about": correction_about})["about"]
    != correction_about
):
    del st.session_state[CORRECTION_KEY]
if competition_id is None:
    st.caption("Choose a competition to see its participants, matches and actions.")
    st.stop()

detail = ui.cached_query(
    queries.competition_detail, university.id, competition_id=competition_id
)
if detail is None:
    st.warning("That competition is no longer in this university.")
    st.stop()

participants = ui.cached_query(
    queries.competition_participants, university.id, competition_id=competition_id
)
matches = ui.cached_query(
    queries.competition_matches, university.id, competition_id=competition_id
)

st.markdown(
    f"### {ui.literal(detail['name'])}  \n"
    f"{ui.in_words(detail['competition_type'])} · **{detail['status']}** · "
    f"{ui.format_utc(detail['scheduled_start'])} to "
    f"{ui.format_utc(detail['scheduled_end'])}"
    + (f" · winner **{ui.literal(detail['winner'])}**" if detail["winner"] else "")
)

# Status actions: which ones show depends on the status; the service still
# decides whether the change is allowed. Each shown action takes the next
# column, so the visible ones start at the left whatever the status.
action_area = st.container()
slots = iter(st.columns(4))
if detail["status"] == "scheduled" and next(slots).button(
    "Start", icon=":material/play_arrow:", type="primary", key="competition_start"
):
    ui.run_write(
        lambda session: services.start_competition(session, competition_id),
        success=f"{detail['name']} started; its matches are ready for results.",
        where=action_area,
    )
if detail["status"] == "active":
    complete_slot, force_slot = next(slots), next(slots)
    # The box shows right of Complete but is read before Complete acts.
    force = force_slot.checkbox(
        "Cancel unplayed matches", key="competition_force", help="Complete anyway."
    )
    if complete_slot.button(
        "Complete", icon=":material/flag:", type="primary", key="competition_complete"
    ):
        ui.run_write(
            _in_form_words(
                lambda session: services.complete_competition(
                    session, competition_id, force=force
                ),
                COMPLETE_WORDS,
            ),
            success=f"{detail['name']} completed and ranked.",
            where=action_area,
        )
# Cancelling cannot be undone: it asks once more, for this competition only.
cancellable = detail["status"] in ("scheduled", "active")
if cancellable and next(slots).button(
    "Cancel competition...", icon=":material/cancel:", key="competition_cancel"
):
    st.session_state[CANCEL_KEY] = competition_id
if (
    cancellable
    and st.session_state.get(CANCEL_KEY) == competition_id
    and ui.confirmed(
        action_area,
        f"Cancel {ui.literal(detail['name'])}? Its unplayed matches are "
        "cancelled and it cannot be started again.",
        state_key=CANCEL_KEY,
        confirm="Confirm: cancel the competition",
        keep="Keep it",
        key="competition_cancel",
    )
):
    ui.run_write(
        lambda session: services.cancel_competition(session, competition_id),
        success=f"{detail['name']} cancelled.",
        where=action_area,
        reset_keys=(CANCEL_KEY,),
    )

# Tracked tabs: after recording a result the page reruns on the same tab.
participants_tab, matches_tab, bracket_tab, settings_tab = st.tabs(
    ["Participants", "Matches", "Bracket", "Rules"],
    key="competition_tab",
    on_change="rerun",
)

with participants_tab:
    if participants.empty:
        st.info("No participants yet.")
    else:
        ui.show_table(
            participants.drop(columns=["participant_id", "agent_id"]),
            # The form's words: "Seed", "Takes part as".
            column_config={
                "participant_type": "takes part as",
                "seed_ranking": "seed",
                "final_score": "final score",
            },
        )
    playing = participants[
        (participants["participant_type"] == "competitor")
        & (participants["status"] != "disqualified")
    ]
    if detail["status"] in ("scheduled", "active") and not playing.empty:
        competitor_names = dict(
            zip(playing["participant_id"], playing["agent"], strict=True)
        )
        chosen_columns = st.columns([3, 1])
        chosen = chosen_columns[0].selectbox(
            "Competitor to disqualify",
            list(competitor_names),
            format_func=competitor_names.get,
            key="participant_disqualify_choice",
        )
        disqualify_area = st.container()
        # Disqualifying cannot be undone: it asks once more, for this
        # competitor only, so a question left open never applies to another.
        if st.session_state.get(DISQUALIFY_KEY) not in (None, (competition_id, chosen)):
            del st.session_state[DISQUALIFY_KEY]
        if chosen_columns[1].button(
            "Disqualify...", icon=":material/block:", key="participant_disqualify"
        ):
            st.session_state[DISQUALIFY_KEY] = (competition_id, chosen)
        pending = st.session_state.get(DISQUALIFY_KEY) == (competition_id, chosen)
        if pending and ui.confirmed(
            disqualify_area,
            f"Disqualify {ui.literal(competitor_names[chosen])} from "
            f"{ui.literal(detail['name'])}? Its results so far stand; its "
            "unplayed matches are forfeited to its opponents (cancelled where "
            "there is no opponent). It cannot be undone.",
            state_key=DISQUALIFY_KEY,
            confirm="Confirm: disqualify",
            keep="Keep the competitor",
            key="participant_disqualify",
        ):
            ui.run_write(
                lambda session: services.disqualify_participant(
                    session, chosen, university_id=university.id
                ),
                success=f"{competitor_names[chosen]} disqualified from "
                f"{detail['name']}.",
                where=disqualify_area,
                reset_keys=(DISQUALIFY_KEY,),
            )
    if detail["status"] == "scheduled":
        entered = set(participants["agent_id"])
        free = [agent for agent in agents["id"] if agent not in entered]
        with st.form(f"add_participant_{competition_id}"):
            st.selectbox(
                "Add an agent",
                free,
                format_func=lambda i: agent_names[i],
                key="participant_agent",
            )
            st.number_input(
                "Seed (0 for none)",
                min_value=0,
                max_value=INTEGER_MAX,
                value=0,
                key="participant_seed",
            )
            st.selectbox(
                "Takes part as",
                PARTICIPANT_TYPES,
                key="participant_type",
                help="Observers and judges do not play and do not count towards "
                "the maximum.",
                format_func=ui.in_words,
            )
            if st.form_submit_button("Add participant"):
                agent_id = st.session_state.participant_agent
                seed = int(st.session_state.participant_seed) or None
                role = st.session_state.participant_type
                ui.run_write(
                    _in_form_words(
                        lambda session: services.add_participant(
                            session,
                            competition_id,
                            agent_id,
                            participant_type=role,
                            seed_ranking=seed,
                        ),
                        PARTICIPANT_WORDS,
                    ),
                    success=f"{agent_names.get(agent_id, 'Agent')} added.",
                )

with matches_tab:
    if matches.empty:
        st.info(
            "No matches yet: they are generated when the competition starts."
            if detail["status"] == "scheduled"
            else "This competition has no matches."
        )
    else:
        ui.show_table(
            matches.drop(columns=["id", "participant1_id", "participant2_id"]),
            # The result form's words ("Score of the first side") and the
            # bracket's ("walkover").
            column_config={
                "match_number": "match",
                "agent1": "first side",
                "agent2": "second side",
                "participant1_score": "score of the first side",
                "participant2_score": "score of the second side",
                "forfeit": "walkover",
                "completed_at": ui.utc_column("completed"),
            },
        )

    waiting_to_start = matches[matches["status"] == "scheduled"]
    if detail["status"] == "active" and not waiting_to_start.empty:
        start_labels = {
            row.id: _match_words(row) for row in waiting_to_start.itertuples()
        }
        start_columns = st.columns([3, 1])
        start_columns[0].selectbox(
            "Match to put in play",
            list(start_labels),
            format_func=start_labels.get,
            key="match_start_choice",
        )
        start_area = st.container()
        if start_columns[1].button(
            "Start match", icon=":material/play_circle:", key="match_start"
        ):
            chosen_match = st.session_state.match_start_choice
            ui.run_write(
                lambda session: services.start_match(
                    session, chosen_match, university_id=university.id
                ),
                success=f"{_sentence(start_labels[chosen_match])} is in play.",
                where=start_area,
            )

    # A completed competition takes corrections of played results (the
    # service refuses one that would reopen its bracket); a forfeited match
    # has no result to correct.
    recordable = (
        ["scheduled", "active", "completed"]
        if detail["status"] == "active"
        else ["completed"]
    )
    playable = matches[matches["status"].isin(recordable) & ~matches["forfeit"]]
    if detail["status"] in ("active", "completed") and not playable.empty:
        # The matches still waiting for a result come first, by number, and
        # the picker starts on the first of them, so results typed one after
        # another never overwrite a played match. Corrections follow; once
        # every match is played the picker starts empty ("Choose a match"),
        # so a correction is always a choice, never a default.
        waiting = playable[playable["status"] != "completed"].sort_values(
            "match_number"
        )
        played = playable[playable["status"] == "completed"].sort_values("match_number")
        labels = {
            row.id: _match_words(row)
            + (" (correct the result)" if row.status == "completed" else "")
            for row in pd.concat([waiting, played]).itertuples()
        }
        # The match box lives under a key that names the matches as drawn.
        # Why: a browser sends back the match it shows; once that match left
        # the list (a walkover) or changed (someone else recorded it),
        # Streamlit would quietly take another, and the result would land on
        # a match nobody chose or overwrite one nobody saw. When the matches
        # changed, the submitted box is a new widget: nothing is recorded.
        match_key = f"{ui.field_key('result_match')}@{_matches_version(playable)}"
        drawn_before = match_key in st.session_state
        with st.form(f"record_result_{competition_id}"):
            st.markdown(
                "**Record a result**"
                if detail["status"] == "active"
                else "**Correct a result**"
            )
            st.selectbox(
                "Match",
                list(labels),
                index=0 if not waiting.empty else None,
                format_func=labels.get,
                placeholder="Choose a match",
                key=match_key,
            )
            scores = st.columns(3)
            scores[0].number_input(
                "Score of the first side",
                value=None,
                step=0.5,
                key=ui.field_key("result_score1"),
                placeholder="score",
            )
            scores[1].number_input(
                "Score of the second side (not for solo)",
                value=None,
                step=0.5,
                key=ui.field_key("result_score2"),
                placeholder="score",
            )
            scores[2].selectbox(
                "Winner on equal scores",
                ["(by the scores)", "first side", "second side"],
                key=ui.field_key("result_winner"),
            )
            result_errors = st.container()
            submitted = st.form_submit_button("Record result", type="primary")
        # One slot for the question, emptied when its Confirm is refused.
        correction_slot = st.empty()
        correction_area = correction_slot.container()
        rows = playable.set_index("id")
        state = st.session_state
        # The form's fields, under the keys they have in this run.
        score1, score2, side = map(ui.field_value, RESULT_KEYS[1:])
        chosen = state.get(match_key)
        if submitted and not drawn_before:
            result_errors.error(
                "The matches changed since this form was drawn (a result was "
                "recorded or a match became a walkover in another session), so "
                "nothing was recorded: check the match above, then record the "
                "result again.",
                icon=":material/error:",
            )
        elif submitted and chosen is None:
            result_errors.error(
                "Choose the match whose result to correct.", icon=":material/error:"
            )
        elif submitted:
            row = rows.loc[chosen]
            solo = not isinstance(row["agent2"], str)
            missing = [
                label
                for label, value, needed in (
                    ("Score of the first side", score1, True),
                    ("Score of the second side", score2, not solo),
                )
                if needed and value is None
            ]
            winner = {
                "first side": row["participant1_id"],
                "second side": None if solo else row["participant2_id"],
            }.get(side)
            if missing:
                result_errors.error(
                    f"To record a result, fill in {' and '.join(missing)}.",
                    icon=":material/error:",
                )
            else:
                result = {
                    "participant1_score": float(score1),
                    "participant2_score": None if solo else float(score2),
                    "winner_participant_id": winner,
                }
                # The service says what the result would discard; a
                # correction that reopens later matches asks once more.
                try:
                    reopened = ui.run_query(
                        lambda session: services.correction_reopens(
                            session, chosen, university_id=university.id, **result
                        ),
                        None,
                    )
                except Exception as error:  # noqa: BLE001  refusal or bug, as run_write
                    ui.show_error(error, where=result_errors)
                    reopened = None
                if reopened:
                    state[CORRECTION_KEY] = {
                        "about": correction_about,
                        "match": chosen,
                        "result": result,
                        "reopened": reopened,
                    }
                elif reopened is not None:
                    ui.run_write(
                        lambda session: services.record_match_result(
                            session, chosen, university_id=university.id, **result
                        ),
                        success=lambda match, row=row: _result_words(row, match),
                        where=result_errors,
                        reset_keys=RESULT_KEYS,
                    )
        pending = state.get(CORRECTION_KEY)
        if (
            pending is not None
            and pending["match"] in rows.index
            and ui.confirmed(
                correction_area,
                _reopens_question(rows.loc[pending["match"]], pending["reopened"]),
                state_key=CORRECTION_KEY,
                confirm="Confirm: correct and reopen",
                keep="Keep the results",
                key="result_correction",
            )
        ):
            row = rows.loc[pending["match"]]
            # The question is answered either way: a refusal (a result
            # recorded since it was asked) shows instead, and the person
            # submits the form again to be asked about what stands now.
            del state[CORRECTION_KEY]
            ui.run_write(
                lambda session: services.record_match_result(
                    session,
                    pending["match"],
                    university_id=university.id,
                    expected_reopens=pending["reopened"],
                    **pending["result"],
                ),
                success=lambda match, row=row: _result_words(row, match),
                where=result_errors,
                reset_keys=(*RESULT_KEYS, CORRECTION_KEY),
            )
            # Only a refusal comes back here: the question it answered goes.
            correction_slot.empty()

with bracket_tab:
    rounds = queries.bracket_rounds(matches)
    if detail["competition_type"] != "tournament":
        st.caption("Only tournaments have a bracket.")
    elif not rounds:
        st.info("The bracket is drawn when the tournament starts.")
    else:
        columns = st.columns(len(rounds))
        for column, (number, games) in zip(columns, rounds.items(), strict=True):
            column.markdown(f"**Round {number}**")
            for game in games.itertuples():
                score = (
                    f"{game.participant1_score:g} – {game.participant2_score:g}"
                    if pd.notna(game.participant1_score)
                    and pd.notna(game.participant2_score)
                    else "vs"
                )
                won = (
                    f" → **{ui.literal(game.winner)}**"
                    if isinstance(game.winner, str)
                    else ""
                )
                walkover = " (walkover)" if game.forfeit else ""
                if game.status == "cancelled":
                    walkover = " (cancelled, not played)"
                second = (
                    ui.literal(game.agent2) if isinstance(game.agent2, str) else "—"
                )
                column.container(border=True).markdown(
                    f"{ui.literal(game.agent1)} {score} {second}{won}{walkover}"
                )
            if number == 1:
                for name in ui.cached_query(
                    queries.bracket_byes, university.id, competition_id=competition_id
                ):
                    column.container(border=True).markdown(
                        f"{ui.literal(name)} — bye, straight into round 2"
                    )

with settings_tab:
    left, right = st.columns(2)
    left.markdown("**Rules**")
    left.json(detail["rules"] or {})
    right.markdown("**Evaluation config**")
    right.json(detail["evaluation_config"] or {})
