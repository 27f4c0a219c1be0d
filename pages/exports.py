"""Exports: CSV reports of the selected university, with filters, the number
of rows first, and a download of every matching row."""

import streamlit as st

from university_models.db import read_session
from university_models.exports import (
    BROWSER_EXPORT_ROW_LIMIT,
    DATE_MEANING,
    REPORT_COLUMNS,
    REPORT_FILTERS,
    REPORTS,
    STATUS_CHOICES,
    ExportFilters,
    csv_bytes,
    report_command,
    report_file_name,
    report_size,
)
from university_models.models import AGENT_TYPES, DATA_TYPES, SOURCE_TYPES
from university_models.queries.curriculum import path_choices
from university_models.queries.leaderboard import (
    competition_choices,
    specialization_choices,
)
from university_models.queries.universities import last_activity
from university_models.ui import (
    cached_query,
    counted,
    engine,
    in_words,
    keep_choices,
    run_query,
    select_university,
    show_error,
    utc_label,
)

ALL = "All"
READY_KEY = "exports_ready_file"

DESCRIPTIONS = {
    "leaderboard": "one row per agent with a completed match: rating and "
    "interval, rank, wins, draws, losses, points, scores",
    "progress": "one row per agent and curriculum level: status, scores, time spent",
    "training-data": "one row per training record: source, type, quality, "
    "review and privacy status (not the raw content)",
    "proposals": "one row per improvement proposal: decision and implementation",
    "matches": "one row per match: competition, agents, scores, winner, times",
}

st.title("Exports")
university = select_university()
keep_choices(
    "export_report",
    "export_competition",
    "export_path",
    "export_agent_type",
    "export_specialization",
    "export_data_type",
    "export_source_type",
    *(f"export_status_{name}" for name in REPORTS),
)

report = st.selectbox(
    "Report",
    REPORTS,
    format_func=lambda name: f"{name}: {DESCRIPTIONS[name]}",
    key="export_report",
)
takes = REPORT_FILTERS[report]
values: dict = {}

with st.container(border=True):
    st.caption("Filters (leave at All for every row)")
    columns = st.columns(3)
    slot = iter(columns * 3)
    if "competition_id" in takes:
        competitions = cached_query(competition_choices, university.id)
        names = dict(zip(competitions["id"], competitions["name"], strict=True))
        chosen = next(slot).selectbox(
            "Competition",
            [ALL, *names],
            format_func=lambda key: names.get(key, key),
            key="export_competition",
        )
        values["competition_id"] = None if chosen == ALL else chosen
    if "path_id" in takes:
        paths = cached_query(path_choices, university.id)
        names = dict(zip(paths["id"], paths["name"], strict=True))
        chosen = next(slot).selectbox(
            "Curriculum path",
            [ALL, *names],
            format_func=lambda key: names.get(key, key),
            key="export_path",
        )
        values["path_id"] = None if chosen == ALL else chosen
    if "agent_type" in takes:
        chosen = next(slot).selectbox(
            "Agent type",
            [ALL, *AGENT_TYPES],
            key="export_agent_type",
            format_func=in_words,
        )
        values["agent_type"] = None if chosen == ALL else chosen
    if "specialization" in takes:
        options = cached_query(specialization_choices, university.id)
        chosen = next(slot).selectbox(
            "Specialization", [ALL, *options], key="export_specialization"
        )
        values["specialization"] = None if chosen == ALL else chosen
    if "status" in takes:
        chosen = next(slot).selectbox(
            "Status",
            [ALL, *STATUS_CHOICES[report]],
            key=f"export_status_{report}",
            format_func=in_words,
        )
        values["status"] = None if chosen == ALL else chosen
    if "data_type" in takes:
        chosen = next(slot).selectbox(
            "Data type",
            [ALL, *DATA_TYPES],
            key="export_data_type",
            format_func=in_words,
        )
        values["data_type"] = None if chosen == ALL else chosen
    if "source_type" in takes:
        chosen = next(slot).selectbox(
            "Source",
            [ALL, *SOURCE_TYPES],
            key="export_source_type",
            format_func=in_words,
        )
        values["source_type"] = None if chosen == ALL else chosen
    if "date_from" in takes:
        days = next(slot).date_input(
            utc_label(DATE_MEANING[report].capitalize() + " between"),
            value=(),
            key=f"export_days_{report}",
            help="UTC days, both included; empty for all.",
        )
        values["date_from"] = days[0] if len(days) >= 1 else None
        values["date_to"] = days[-1] if len(days) >= 1 else None

filter_values = {name: value for name, value in values.items() if value is not None}
# Every write to the university moves its last activity: the row count and a
# prepared file belong to the version they were made from.
version = run_query(last_activity, university.id)
try:
    rows = cached_query(
        report_size,
        university.id,
        report=report,
        freshness=version,
        **filter_values,
    )
    file_name = cached_query(
        report_file_name, university.id, report=report, **filter_values
    )
except Exception as error:  # noqa: BLE001  show_error tells refusals from bugs
    show_error(error)
    st.stop()

left, right = st.columns([1, 3])
left.metric("Rows", rows, border=True)
right.markdown(
    f"**{file_name}**  \nUTF-8 CSV, a header row of "
    f"{len(REPORT_COLUMNS[report])} columns "
    f"(`{'`, `'.join(REPORT_COLUMNS[report][:6])}`, …), "
    "times in ISO 8601 UTC."
)

if rows == 0:
    st.info(
        "No row matches: widen the filters, or choose another report.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

command = cached_query(report_command, university.id, report=report, **filter_values)
if rows > BROWSER_EXPORT_ROW_LIMIT:
    st.warning(
        f"{rows} rows are more than the dashboard builds into one download "
        f"({BROWSER_EXPORT_ROW_LIMIT}): narrow the filters, or write the file "
        "from a terminal, which streams any size:",
        icon=":material/terminal:",
    )
    st.code(command, language="bash")
    st.stop()

request = (university.id, report, tuple(sorted(filter_values.items())), version)
ready = st.session_state.get(READY_KEY)
stale = ready is None or ready["request"] != request
if stale and st.button(f"Prepare the CSV of {counted(rows, 'row')}", type="primary"):
    bar = st.progress(0.0, text="Reading rows…")
    try:
        with read_session(engine()) as session:
            data = csv_bytes(
                session,
                report,
                university.id,
                ExportFilters(**filter_values),
                progress=lambda done: bar.progress(
                    min(1.0, done / rows), text=f"{done} of {rows} rows…"
                ),
            )
    except Exception as error:  # noqa: BLE001  show_error tells refusals from bugs
        show_error(error)
        st.stop()
    bar.empty()
    ready = {"request": request, "data": data, "file_name": file_name}
    st.session_state[READY_KEY] = ready

if ready is not None and ready["request"] == request:
    st.download_button(
        f"Download {ready['file_name']}",
        data=ready["data"],
        file_name=ready["file_name"],
        mime="text/csv",
        type="primary",
        icon=":material/download:",
        key="export_download",
    )
    st.caption(
        f"{len(ready['data']) / 1024:.1f} KB. The same file from a terminal "
        "(add `--out FOLDER` to name it as here):"
    )
    st.code(command, language="bash")
