"""What every page shares: the engine, the university selector, cached
queries, error display, status colours and UTC labels.

Pages import from here so that they stay thin and behave the same way:

* ``select_university()`` renders the sidebar selector; the choice lives in
  ``st.session_state`` and in the URL (``?university=<id>``) so that a link
  opens the same university;
* ``cached_query(fn, university_id, **filters)`` runs a read-only query
  function with a time-to-live cache whose key holds the database, the
  function, the university and every filter; ``clear_caches()`` is what a
  write calls so that the page after a click shows the new state;
* ``show_error(error)`` shows a person the short message of a
  ``DomainError`` and sends the detail to the log;
* ``STATUS_COLORS`` gives one colour per status name, shared by every chart;
* ``utc_label`` / ``format_utc`` / ``utc_column`` label every time as UTC.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from streamlit.runtime.pages_manager import PagesManager

from university_models.config import database_url
from university_models.db import make_engine, new_id, read_session
from university_models.errors import DomainError, StaleVersion
from university_models.models import (
    AGENT_STATUSES,
    COMPETITION_STATUSES,
    IMPLEMENTATION_STATUSES,
    MATCH_STATUSES,
    PARTICIPANT_STATUSES,
    PATH_STATUSES,
    PROGRESS_STATUSES,
    PROPOSAL_STATUSES,
    UNIVERSITY_STATUSES,
    VALIDATION_STATUSES,
)
from university_models.wording import (  # noqa: F401  pages say ui.counted, ui.in_words
    counted,
    in_words,
)

log = logging.getLogger(__name__)

#: Seconds a cached query result is reused. Short, because several people
#: (and the CLI) write to the same database; a write in this session clears
#: the cache at once through ``clear_caches``.
CACHE_TTL_SECONDS = 60

#: The query parameter and the session key that hold the chosen university.
UNIVERSITY_PARAM = "university"
UNIVERSITY_STATE_KEY = "selected_university_id"
_SELECTBOX_KEY = "university_selectbox"

#: How to create a university, shown wherever there is none yet.
NO_UNIVERSITY_HELP = (
    "There is no university yet. Create one on the **Universities** page, or "
    "from a terminal with "
    "`python -m university_models university create NAME --owner EMAIL`, "
    "or load the demo with `python -m university_models demo`."
)

# One colour per status name, whatever table it belongs to: "completed" is
# the same green for a match, a competition, a level and an implementation,
# so a person reads colours the same way on every chart.
STATUS_COLORS: dict[str, str] = {
    # going well / done
    "active": "#2e7d32",
    "completed": "#1b5e20",
    "validated": "#43a047",
    "approved": "#66bb6a",
    "implemented": "#00897b",
    "anonymized": "#26a69a",
    # under way
    "training": "#1e88e5",
    "competing": "#8e24aa",
    "in_progress": "#1976d2",
    "registered": "#64b5f6",
    "scheduled": "#90caf9",
    # waiting
    "pending": "#fb8c00",
    "idle": "#ffb74d",
    "not_started": "#bdbdbd",
    "draft": "#9e9e9e",
    # stopped / bad
    "failed": "#e53935",
    "rejected": "#c62828",
    "disqualified": "#ad1457",
    "cancelled": "#757575",
    "suspended": "#f4511e",
    "archived": "#616161",
}
#: Every status of every table, so a chart can check it has a colour.
ALL_STATUSES = frozenset(
    AGENT_STATUSES
    + COMPETITION_STATUSES
    + PARTICIPANT_STATUSES
    + MATCH_STATUSES
    + PATH_STATUSES
    + PROGRESS_STATUSES
    + PROPOSAL_STATUSES
    + IMPLEMENTATION_STATUSES
    + UNIVERSITY_STATUSES
    + VALIDATION_STATUSES
)
#: The same mapping under a lower-case name.
status_colors = STATUS_COLORS

#: How times are shown in tables: minutes are enough to follow activity.
UTC_DISPLAY_FORMAT = "YYYY-MM-DD HH:mm"

# --------------------------------------------------------------------------
# The entrypoint

_ENTRY_KEY = "_entered_through_streamlit_app"
_RENDERED_KEY = "_rendered_once"


def enter_app() -> None:
    """Mark this run as started by ``streamlit_app.py``; it calls this on
    every run, before ``navigation.run()``."""
    st.session_state[_ENTRY_KEY] = True


def _ensure_entrypoint() -> None:
    """Rerun through ``streamlit_app.py`` when Streamlit ran a page directly.

    Why: until some session has run the entrypoint (which calls
    ``st.navigation``), Streamlit treats the ``pages/`` folder as an old-style
    multipage app, so the first visitor of a fresh server who opens a link
    such as ``/leaderboard`` gets that page without the page configuration
    and with the folder's file names as navigation. Switching that mode off
    and rerunning puts the visitor on the same page of the real app. Only a
    session's first run is rerun: a later run may carry a click, which a
    rerun would lose (Streamlit's AppTest starts every run in that mode).
    ``python -m university_models serve`` (what ``make run`` uses) switches
    the mode off before the server starts, which is the reliable way; this
    is the fallback for a plain ``streamlit run streamlit_app.py``."""
    entered = st.session_state.pop(_ENTRY_KEY, False)
    first_run = not st.session_state.get(_RENDERED_KEY, False)
    st.session_state[_RENDERED_KEY] = True
    if entered or not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False
    if first_run:
        log.info("first run of a page without the entrypoint: rerunning through it")
        st.rerun()


@st.cache_resource(show_spinner=False)
def engine() -> Engine:
    """The configured database's engine, shared by every session.

    Each engine carries a fresh ``cache_token``: cached query results are
    keyed by it, so a new engine (a new database behind the same URL, as in
    tests, or after ``engine.clear()``) never sees answers of the old one."""
    created = make_engine()
    created.cache_token = new_id()
    return created


# --------------------------------------------------------------------------
# Times


def utc_label(label: str) -> str:
    """``label`` marked as UTC, for axis titles and column headers.

    Rule: every time on screen is UTC and says so."""
    return f"{label} (UTC)"


def format_utc(value: datetime | None) -> str:
    """A time as ``2026-12-03 19:05 UTC``; an empty string for ``None``.

    Rule: naive datetimes never reach the screen (the column type refuses
    them), so one without a zone is a bug and raises ``ValueError``."""
    if value is None:
        return ""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


#: What a table shows in an empty cell (``show_table``)
#: instead of Streamlit's grey "None": the bracket's mark for a missing side.
#: Display only: the DataFrame and its CSV keep the missing value.
MISSING = "—"
#: The columns that hold stored codes (statuses and types), shown in words.
CODE_COLUMN = re.compile(r"(?:^|_)(?:status|type)$")


def utc_column(label: str, **kwargs: Any):
    """A ``st.column_config.DatetimeColumn`` labelled and shown in UTC."""
    return st.column_config.DatetimeColumn(
        utc_label(label), format=UTC_DISPLAY_FORMAT, timezone="UTC", **kwargs
    )


def show_table(
    data: pd.DataFrame | list[dict[str, Any]],
    *,
    column_config: dict[str, Any] | None = None,
    **options: Any,
):
    """Show ``data`` with ``st.dataframe`` the way every page table shows.

    Rule: a table is headed in words and shows a missing value as
    ``MISSING``, on screen only. A column the page gives no label reads as
    its name with spaces (``decided_by`` -> "decided by"), also when its
    setting only sets a format; the index is hidden unless asked for. A
    status or type column shows its codes in words ("head to head").
    ``options`` go to ``st.dataframe``, whose return value (the selection
    of a selectable table) is returned. Rows as dicts are a frame too."""
    data = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    codes = [column for column in data.columns if CODE_COLUMN.search(str(column))]
    if codes:
        # A copy: the frame may be a cached query result shared by reruns.
        data = data.assign(**{str(c): data[c].map(in_words) for c in codes})
    config: dict[str, Any] = {
        str(column): str(column).replace("_", " ") for column in data.columns
    }
    for column, setting in (column_config or {}).items():
        if isinstance(setting, dict) and not setting.get("label"):
            setting = {**setting, "label": column.replace("_", " ")}
        config[column] = setting
    options.setdefault("hide_index", True)
    options.setdefault("placeholder", MISSING)
    return st.dataframe(data, column_config=config, **options)


# --------------------------------------------------------------------------
# Cached queries


def _function_path(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=512)
def _run_cached(
    database: str,
    path: str,
    university_id: str | None,
    filters: dict[str, Any],
    freshness: Any,
) -> Any:
    # The function travels as its import path: a stable, hashable cache key
    # that changes when a different query is asked for. ``freshness`` is only
    # part of the key.
    module_name, _, qualname = path.partition(":")
    fn = importlib.import_module(module_name)
    for part in qualname.split("."):
        fn = getattr(fn, part)

    with read_session(engine()) as session:
        if university_id is None:
            return fn(session, **filters)
        return fn(session, university_id, **filters)


def cached_query(
    fn: Callable[..., Any],
    university_id: str | None,
    *,
    freshness: Any = None,
    **filters: Any,
) -> Any:
    """``fn(session, university_id, **filters)`` in a read-only session,
    cached for ``CACHE_TTL_SECONDS``.

    Rule: the cache key holds the database URL, the function, the
    university id, every filter and ``freshness`` (a value that changes when
    the data behind the answer changes, such as ``results_version``; it is
    not passed to ``fn``), so two universities (or two filter choices) never
    share an answer and a changed result is never hidden. Pass
    ``university_id=None`` only for the one unscoped query, the list of
    universities. Filter values must be hashable by ``st.cache_data`` (str,
    numbers, dates, tuples, lists)."""
    key = f"{database_url()}#{engine().cache_token}"
    return _run_cached(key, _function_path(fn), university_id, filters, freshness)


def run_query(fn: Callable[..., Any], university_id: str | None, **filters: Any) -> Any:
    """``fn(session, university_id, **filters)`` in a read-only session,
    without the cache: for the cheap questions whose answer decides whether
    a cached one is still current (such as ``results_version``)."""
    with read_session(engine()) as session:
        if university_id is None:
            return fn(session, **filters)
        return fn(session, university_id, **filters)


def clear_caches() -> None:
    """Forget every cached query result.

    Rule: every write from a page calls this after its transaction commits,
    so that the rerun after the click reads the new state."""
    st.cache_data.clear()


# --------------------------------------------------------------------------
# Text people typed

# What markdown (and Streamlit's own syntax: $ for LaTeX, :colour[...]) reads
# as formatting anywhere in a line. Plain punctuation such as "." and "'"
# is left alone, so messages read the same in tests and logs.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]#$~:<>&|])")
# What starts a list or an underlined heading only at the start of a line.
_LINE_START_SPECIAL = re.compile(r"^(\s*(?:\d+)?)([-+=.)])", re.MULTILINE)
# Streamlit draws ":material/name:" as an icon even when its colons are
# escaped; a word joiner after the colon is invisible and breaks the match.
_ICON_START = re.compile(r":(?=material/)")


def literal(text: str) -> str:
    """``text`` escaped for Streamlit's markdown, so it reads as typed.

    Rule: names, titles, reasons and messages that carry them are shown
    literally: ``**x**`` stays two asterisks, ``[a](b)`` is not a link,
    ``$x$`` is not a formula, ``:material/delete:`` is not an icon, ``# x``
    is not a heading. Use it wherever text from a person or a file reaches
    ``st.markdown``, ``st.success``, ``st.error``, captions, headers or
    labels."""
    escaped = _ICON_START.sub(":\u2060", str(text))
    escaped = _INLINE_SPECIAL.sub(r"\\\1", escaped)
    return _LINE_START_SPECIAL.sub(r"\1\\\2", escaped)


# --------------------------------------------------------------------------
# Errors


def show_error(error: Exception, *, where: Any = None) -> None:
    """Show ``error`` to the person and log its detail.

    Rule: a ``DomainError`` carries a short message that says what to
    change; it is shown as it is. Anything else is a bug: the person sees a
    short apology and the traceback goes to the log, never to the screen."""
    target = where if where is not None else st
    if isinstance(error, DomainError):
        log.info("refused: %s: %s", type(error).__name__, error)
        target.error(literal(str(error)), icon=":material/error:")
        return
    log.error("unexpected error on a page", exc_info=error)
    target.error(
        "Something went wrong and nothing was changed. The details are in the "
        "server log; try again, and tell an administrator if it persists.",
        icon=":material/error:",
    )


# --------------------------------------------------------------------------
# The university selector


@dataclass(frozen=True)
class SelectedUniversity:
    """The university a page shows: what pages need to scope and label."""

    id: str
    name: str
    status: str
    max_agents: int
    max_concurrent_competitions: int
    storage_quota_mb: int

    @property
    def accepts_changes(self) -> bool:
        """Rule: only an active university accepts changes; a suspended or
        archived one can be watched."""
        return self.status == "active"


def next_step(university: SelectedUniversity, step: str) -> str:
    """``step`` (markdown: what a person does next, such as creating the
    first agent) while the university accepts changes; otherwise why
    nothing can be added, so an empty page does not invite a write the
    services would refuse."""
    if university.accepts_changes:
        return step
    return (
        f"It is {university.status} and accepts no changes until an "
        "administrator sets it back to active."
    )


def _list_universities(wanted: str | None) -> pd.DataFrame:
    """The selector's list, with ``wanted`` in it when that university
    exists: the cached list may predate it (created from the command line a
    moment ago) or stop before it (past ``UNIVERSITY_LIST_LIMIT``)."""
    from university_models.queries.universities import list_universities

    universities = cached_query(list_universities, None)
    if wanted is None or wanted in set(universities["id"].astype(str)):
        return universities

    found = run_query(list_universities, None, ids=(wanted,))
    if found.empty:
        return universities
    clear_caches()
    return pd.concat([universities, found], ignore_index=True)


def _remember(university_id: str) -> None:
    st.session_state[UNIVERSITY_STATE_KEY] = university_id
    if st.query_params.get(UNIVERSITY_PARAM) != university_id:
        st.query_params[UNIVERSITY_PARAM] = university_id


def _on_select() -> None:
    _remember(st.session_state[_SELECTBOX_KEY])


def _default_choice(universities: pd.DataFrame) -> str:
    # The first active university by name: a suspended or archived one is
    # rarely what someone opening the dashboard wants to watch.
    active = universities[universities["status"] == "active"]
    chosen = active if not active.empty else universities
    return str(chosen.iloc[0]["id"])


def select_university(*, required: bool = True) -> SelectedUniversity | None:
    """Render the sidebar selector and return the chosen university.

    Rules: the choice comes from the URL (``?university=<id>``) first, then
    from this browser session, then defaults to the first active university
    by name; it is written back to both, so a copied link opens the same
    university and switching pages keeps it. An id in the URL that names no
    university is reported and replaced by the default. When there is no
    university at all, the page shows how to create one and stops (unless
    ``required=False``, for the page that creates universities, which then
    gets ``None``)."""
    _ensure_entrypoint()
    wanted = st.query_params.get(UNIVERSITY_PARAM) or st.session_state.get(
        UNIVERSITY_STATE_KEY
    )
    universities = _list_universities(wanted)

    if universities.empty:
        if required:
            st.info(NO_UNIVERSITY_HELP, icon=":material/info:")
            st.stop()
        return None

    ids = universities["id"].astype(str).tolist()
    if wanted is not None and wanted not in ids:
        st.sidebar.warning(
            f"No university has the id {literal(repr(wanted))} (it may have "
            "been archived and purged); showing another one. Choose one below."
        )
        wanted = None
    chosen = wanted or _default_choice(universities)
    _remember(chosen)

    names = dict(zip(ids, universities["name"], strict=True))
    statuses = dict(zip(ids, universities["status"], strict=True))
    # Setting the widget's value through its key before it is drawn is how
    # a choice made elsewhere (the URL, another page) reaches the widget.
    st.session_state[_SELECTBOX_KEY] = chosen
    st.sidebar.selectbox(
        "University",
        ids,
        key=_SELECTBOX_KEY,
        format_func=lambda i: (
            names[i] if statuses[i] == "active" else f"{names[i]} ({statuses[i]})"
        ),
        on_change=_on_select,
        help="Every number, chart, table and export shows this university only.",
    )

    row = universities.loc[universities["id"] == chosen].iloc[0]
    selected = SelectedUniversity(
        id=str(row["id"]),
        name=str(row["name"]),
        status=str(row["status"]),
        max_agents=int(row["max_agents"]),
        max_concurrent_competitions=int(row["max_concurrent_competitions"]),
        storage_quota_mb=int(row["storage_quota_mb"]),
    )
    if not selected.accepts_changes:
        st.sidebar.warning(
            f"{literal(selected.name)} is {selected.status}: it can be watched but "
            "accepts no changes until an administrator sets it back to active."
        )
    return selected


# --------------------------------------------------------------------------
# Choices that outlive a visit to another page

_KEPT_PREFIX = "_kept_"


def keep_choices(*keys: str) -> None:
    """Keep the values of these widget keys while the person visits other
    pages, and put them back on return.

    Why: Streamlit forgets a widget's value when a run does not draw it, so
    a report and its filters were back at their defaults after a look at
    another page. Call this at the top of a page, before its widgets; give
    those widgets no ``value``/``index`` of their own, or Streamlit warns
    that the value came from two places."""
    for key in keys:
        kept = _KEPT_PREFIX + key
        if key in st.session_state:
            st.session_state[kept] = st.session_state[key]
        elif kept in st.session_state:
            st.session_state[key] = st.session_state[kept]


# --------------------------------------------------------------------------
# Tables people select rows in


def table_key(name: str, university_id: str, filters: dict, offset: int) -> str:
    """A widget key for a selectable table showing one university, filter
    and page of rows.

    Why: Streamlit keeps a table's selection by row position under its key;
    with one key for every view, ticks made on one page or filter would
    land on other records when the rows change."""
    view = repr((university_id, sorted(filters.items()), offset)).encode()
    return f"{name}_{hashlib.sha256(view).hexdigest()[:16]}"


# --------------------------------------------------------------------------
# Paging


def pager(total: int, *, page_size: int, key: str) -> int:
    """Render a page chooser for ``total`` rows and return the offset of the
    chosen page.

    Rule: tables on screen show at most ``page_size`` rows; the query does
    the paging (``LIMIT``/``OFFSET``), the page only says which page."""
    pages = max(1, -(-total // page_size))
    if pages == 1:
        return 0
    # A narrower filter can leave the remembered page beyond the last one.
    if st.session_state.get(key, 1) > pages:
        st.session_state[key] = pages
    page = st.number_input(
        f"Page (of {pages}, {total} rows)",
        min_value=1,
        max_value=pages,
        value=1,
        step=1,
        key=key,
    )
    return (int(page) - 1) * page_size


# --------------------------------------------------------------------------
# part 2: writes from the Act and Admin pages (agents, competitions,
# proposals, universities). Kept at the end so part 1's code stays as it is.

_FLASH_KEY = "part2_flash_message"
_REFUSAL_KEY = "part2_flash_refusal"


def expander(label: str, *, key: str, icon: str, expanded: bool = False) -> Any:
    """An expander (``st.expander``) that stays open or closed as the person
    left it; ``expanded`` is how it is first drawn.

    Why: a write reruns the page with its message at the top, which moves
    every element below it, and an expander whose state Streamlit does not
    track is then drawn anew, closed: the person would open a form again
    for each level or agent they add. A keyed expander that reruns when it
    is toggled keeps its state in the session."""
    return st.expander(label, expanded=expanded, key=key, on_change="rerun", icon=icon)


def run_write(
    action: Callable[[Any], Any],
    *,
    success: str | Callable[[Any], str],
    where: Any = None,
    reset_keys: tuple[str, ...] = (),
) -> None:
    """Run ``action(session)`` as one user action, then show the new state.

    Rules: one click is one transaction (``transaction(engine())``); a
    refusal rolls it back, is shown next to the form (``where``) and keeps
    what was typed; a success clears the cached queries, forgets the
    ``reset_keys`` widgets (so a creation form is empty for the next entry,
    and an edit form is drawn again from the record as saved), and reruns
    the page, which shows the success message at the top and as a toast
    (``show_flash``). A ``StaleVersion`` refusal (an edit form drawn before
    someone else saved the record) is the exception: what was typed was
    typed over values that are gone, so it also clears the caches, forgets
    the ``reset_keys`` and reruns, and the refusal shows at the top and as
    a toast above the form drawn again from the current values."""
    from university_models.db import transaction

    try:
        with transaction(engine()) as session:
            result = action(session)
            # The message reads the result while its session is open: after
            # the commit, columns the database filled in are not loaded.
            message = success(result) if callable(success) else success
    except StaleVersion as error:
        log.info("refused: %s: %s", type(error).__name__, error)
        _redraw(reset_keys, refusal=str(error))
    except Exception as error:  # noqa: BLE001  show_error tells refusals from bugs
        show_error(error, where=where)
        return

    log.info("page write done: %s", message)
    _redraw(reset_keys, message=message)


def _redraw(
    reset_keys: tuple[str, ...], *, message: str = "", refusal: str = ""
) -> None:
    """Clear the caches, forget ``reset_keys``, leave the message or the
    refusal for ``show_flash`` and rerun the page."""
    clear_caches()
    if message:
        st.session_state[_FLASH_KEY] = message
    if refusal:
        st.session_state[_REFUSAL_KEY] = refusal
    for key in reset_keys:
        reset_field(key)
    st.rerun()


FIELD_GENERATIONS_KEY = "part2_field_generations"


def field_key(key: str) -> str:
    """The widget key a form field named ``key`` has in this run: ``key``
    itself until the field is first reset, then ``key~1``, ``key~2``...

    Why: forgetting a widget's key and rerunning resets the widget in
    Streamlit's AppTest but not in a browser, which sends back the value it
    still shows, so a "cleared" form would submit what was typed before. A
    widget under a new key is a new widget, drawn with its default. Give a
    field that ``run_write`` resets (``reset_keys``) ``key=field_key(...)``
    and read its value with ``field_value``."""
    generation = st.session_state.get(FIELD_GENERATIONS_KEY, {}).get(key, 0)
    return f"{key}~{generation}" if generation else key


def field_value(key: str, default: Any = None) -> Any:
    """The value of the form field named ``key`` (see ``field_key``)."""
    return st.session_state.get(field_key(key), default)


def reset_field(key: str) -> None:
    """Forget ``key`` (a form field or any other session value) so the
    next run draws the field anew with its default (see ``field_key``)."""
    st.session_state.pop(field_key(key), None)
    st.session_state.pop(key, None)
    generations = dict(st.session_state.get(FIELD_GENERATIONS_KEY, {}))
    generations[key] = generations.get(key, 0) + 1
    st.session_state[FIELD_GENERATIONS_KEY] = generations


def drawn_version(state_key: str, field_keys: tuple[str, ...], current: str) -> str:
    """The version of the record an edit form's fields were filled from,
    for the service's ``seen_version``; ``current`` is the version of the
    record the page read. Call it before drawing the fields.

    Why: a widget with a key keeps its value across reruns and ignores a
    new ``value=``, so a form opened before another session saved still
    shows (and sends) the values of then, even once the page reads the new
    ones; the version is therefore taken when the fields take their values
    (their first draw, or a draw after Streamlit forgot them because a run
    did not draw them) and kept under ``state_key`` until they are
    forgotten. Put ``state_key`` with the fields in ``run_write``'s
    ``reset_keys``."""
    if state_key not in st.session_state or not all(
        field_key(key) in st.session_state for key in field_keys
    ):
        st.session_state[state_key] = current
    return st.session_state[state_key]


def confirmed(
    area: Any,
    question: str,
    *,
    state_key: str,
    confirm: str,
    keep: str,
    key: str,
) -> bool:
    """Ask ``question`` (markdown, already escaped) in ``area`` with a
    confirm and a keep button; True when the person confirmed.

    Rule: what cannot be undone asks once more. The page stores what the
    question is about under ``state_key`` and calls this while it is there;
    the keep button forgets it and redraws the page. The buttons' keys are
    ``{key}_confirm`` and ``{key}_keep``."""
    area.warning(question, icon=":material/warning:")
    confirm_column, keep_column = area.columns(2)
    if keep_column.button(keep, key=f"{key}_keep"):
        del st.session_state[state_key]
        st.rerun()
    return confirm_column.button(confirm, type="primary", key=f"{key}_confirm")


def show_flash() -> None:
    """Show (once) the success message the last ``run_write`` left: at the
    top of the page, where it stays, and as a toast, which shows wherever
    the person has scrolled (a form low on a long page, such as a profile's
    settings, is far below the top); likewise the refusal of a save over
    values someone else changed, after which the form shows the current
    ones."""
    message = st.session_state.pop(_FLASH_KEY, None)
    if message:
        st.success(literal(message), icon=":material/check_circle:")
        st.toast(literal(message), icon=":material/check_circle:")
    refusal = st.session_state.pop(_REFUSAL_KEY, None)
    if refusal:
        st.error(literal(refusal), icon=":material/error:")
        st.toast(literal(refusal), icon=":material/error:")


def parse_json_object(text: str, *, field: str) -> dict[str, Any]:
    """``text`` parsed as a JSON object, for a form's JSON text area.

    Rule: empty text is ``{}``; anything else must be a JSON object, and
    ``NaN``, ``Infinity`` and ``-Infinity`` are refused (Python reads them,
    JSON has no such values). A refusal (``InvalidInput``) names the field
    and the JSON problem with its line and column, so the person can find
    it."""
    import json

    from university_models.errors import InvalidInput
    from university_models.services.universities import json_error_text, too_deep

    def _refuse_constant(name: str) -> None:
        raise InvalidInput(
            f"{field} holds {name}, which is not JSON: write a finite number, or null."
        )

    if not text or not text.strip():
        return {}
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"{field} is not valid JSON: {json_error_text(error)}. Fix it, or "
            "leave the box empty for {}."
        ) from None
    except RecursionError:
        raise too_deep(field.lower()) from None
    if not isinstance(value, dict):
        raise InvalidInput(
            f"{field} must be a JSON object ({{...}}), not a "
            f"{type(value).__name__}; wrap the value in an object."
        )
    return value
