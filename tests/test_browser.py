"""The dashboard in a real browser: `streamlit run` on a free port against a
temporary demo database, driven by Debian's Chromium through Playwright.

It opens every page (and saves its screenshot), creates
an agent, schedules a competition, starts it and records a result, approves
a proposal by clicking, and downloads a CSV export and parses it. Every wait
is on something a person would see, never a sleep.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser_support import (
    CHROMIUM_ARGS,
    chromium_path,
    full_page_screenshot,
    streamlit_server,
    wait_until_idle,
)
from tests.conftest import unavailable
from university_models import migrate
from university_models.config import PROJECT_ROOT
from university_models.db import make_engine, read_session
from university_models.demo import build_demo
from university_models.models import (
    Competition,
    ImprovementProposal,
    University,
    UniversityAgent,
)

pytestmark = pytest.mark.browser

#: Where the screenshots go: tests/artifacts/ (ignored by git) unless
#: UNIVERSITY_SCREENSHOTS_DIR says otherwise; `make screenshots` points it at
#: docs/screenshots/ to refresh the README's pictures.
SCREENSHOTS = Path(
    os.environ.get(
        "UNIVERSITY_SCREENSHOTS_DIR",
        PROJECT_ROOT / "tests" / "artifacts" / "screenshots",
    )
)
#: Every page: its URL path (the overview is the default page) and title.
PAGES = {
    "overview": ("", "Overview"),
    "leaderboard": ("leaderboard", "Leaderboard"),
    "curriculum": ("curriculum", "Curriculum"),
    "training_data": ("training_data", "Training data"),
    "agents": ("agents", "Agents"),
    "competitions": ("competitions", "Competitions"),
    "proposals": ("proposals", "Proposals"),
    "exports": ("exports", "Exports"),
    "universities": ("universities", "Universities"),
}
DEMO_UNIVERSITY = "Athenaeum Demo Institute"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory) -> tuple[str, str]:
    """A migrated SQLite file holding the demo; its URL and the id of the
    university the tests act in."""
    path = tmp_path_factory.mktemp("browser") / "university.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    build_demo(engine, seed=0)
    with read_session(engine) as session:
        university_id = session.scalar(
            select(University.id).where(University.name == DEMO_UNIVERSITY)
        )
    engine.dispose()
    return url, university_id


@pytest.fixture(scope="module")
def two_agents(demo_database) -> list[str]:
    """The names of two active agents of the demo university."""
    url, university_id = demo_database
    engine = make_engine(url)
    with read_session(engine) as session:
        names = session.scalars(
            select(UniversityAgent.name)
            .where(
                UniversityAgent.university_id == university_id,
                UniversityAgent.status == "active",
            )
            .order_by(UniversityAgent.name)
            .limit(2)
        ).all()
    engine.dispose()
    assert len(names) == 2, "the demo has active agents"
    return list(names)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        unavailable(
            "the browser tests need Chromium from the system's packages "
            "(apt-get install chromium) at /usr/bin/chromium or "
            "$UNIVERSITY_TEST_CHROMIUM"
        )
    return path


@pytest.fixture(scope="module")
def server(demo_database, chromium, tmp_path_factory) -> Iterator[str]:
    url, _ = demo_database
    log_path = tmp_path_factory.mktemp("browser-log") / "streamlit.log"
    with streamlit_server(url, log_path) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser(chromium) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def open_page(page, server: str, university_id: str, name: str):
    """Open one page of the app for the demo university and wait until its
    title shows and its script run has ended without an exception."""
    path, title = PAGES[name]
    page.goto(f"{server}/{path}?university={university_id}")
    page.get_by_role("heading", name=title, level=1).wait_for()
    wait_until_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0, name
    # The real app's navigation (sections), even on a fresh server's first
    # visit straight to a page.
    assert "Act" in page.get_by_test_id("stSidebarNav").inner_text(), name
    return page


def open_section(page, label: str) -> None:
    """Open the expander ``label`` and wait for the rerun its opening asks
    for (ui.expander tracks its state): a field typed into while that run
    redraws the form can lose its click."""
    page.get_by_text(label).click()
    wait_until_idle(page)


def see(page, text: str | re.Pattern) -> None:
    """Wait until ``text`` is visible on the page."""
    page.get_by_text(text).first.wait_for(state="visible")


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``label``."""
    page.get_by_role("combobox", name=label, exact=True).click()
    # The list only draws the options in view: type to bring this one up.
    page.keyboard.type(option)
    page.get_by_role("option").filter(
        has_text=re.compile(f"^{re.escape(option)}$")
    ).click()
    wait_until_idle(page)


def add_to_multiselect(page, label: str, option: str, attempts: int = 3) -> None:
    """Add ``option`` to the multiselect labelled ``label`` and wait until it
    shows among the picks.

    The first pick in a form that an expander has just opened is sometimes
    lost (Streamlit's list opens while the expander is still laid out and
    closes again), so a pick that does not show is made again, at most
    ``attempts`` times; the final state is checked either way."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    box = page.get_by_role("combobox", name=label, exact=True)
    picks = page.get_by_test_id("stMultiSelect").filter(has=box)
    for _ in range(attempts):
        box.click()
        # The list only draws the options in view: type to bring this one up.
        page.keyboard.type(option)
        page.get_by_role("option").filter(
            has_text=re.compile(f"^{re.escape(option)}$")
        ).click()
        page.keyboard.press("Escape")
        try:
            picks.get_by_text(option, exact=True).wait_for(timeout=5_000)
            return
        except PlaywrightTimeoutError:
            continue
    picks.get_by_text(option, exact=True).wait_for()


@pytest.fixture(scope="module")
def a_tournament(demo_database) -> str:
    """The name of a tournament of the demo university that has matches."""
    url, university_id = demo_database
    engine = make_engine(url)
    with read_session(engine) as session:
        name = session.scalar(
            select(Competition.name)
            .where(
                Competition.university_id == university_id,
                Competition.competition_type == "tournament",
                Competition.status.in_(["active", "completed"]),
            )
            .order_by(Competition.status, Competition.name)
            .limit(1)
        )
    engine.dispose()
    assert name is not None, "the demo has a tournament"
    return name


def test_every_page_opens_for_the_demo_and_is_captured(
    server, demo_database, two_agents, a_tournament, page
):
    _, university_id = demo_database
    for name in PAGES:
        open_page(page, server, university_id, name)
        # The chosen university stays in the URL on every page.
        assert f"university={university_id}" in page.url, name
        # The Act pages are captured with what a person opens there.
        if name == "agents":
            choose(page, "Open the profile of", two_agents[0])
            page.get_by_role("tab", name="Competition record").click()
            wait_until_idle(page)
        if name == "competitions":
            choose(page, "Open", a_tournament)
            page.get_by_role("tab", name="Bracket").click()
            wait_until_idle(page)
            see(page, "Round 1")
        full_page_screenshot(page, SCREENSHOTS / f"{name}.png")

    assert all((SCREENSHOTS / f"{name}.png").stat().st_size > 10_000 for name in PAGES)


def test_a_link_to_a_page_opens_the_real_app_on_a_fresh_server(
    demo_database, page, tmp_path
):
    url, university_id = demo_database
    # A server nobody has visited yet, opened straight at a page's link.
    with streamlit_server(url, tmp_path / "streamlit.log") as fresh:
        # open_page checks the page's heading and the app's sectioned
        # navigation, which a page run on its own does not have.
        open_page(page, fresh, university_id, "leaderboard")

        assert page.title() == "Agentic University"
        assert f"university={university_id}" in page.url


def test_the_overview_opens_at_its_own_name_too(server, demo_database, page):
    _, university_id = demo_database
    page.goto(f"{server}/overview?university={university_id}")
    page.get_by_role("heading", name="Overview", level=1).wait_for()
    wait_until_idle(page)

    assert page.get_by_text("does not seem to exist").count() == 0
    assert f"university={university_id}" in page.url


def test_creating_an_agent_in_the_browser_leaves_its_form_open_and_empty(
    server, demo_database, page
):
    _, university_id = demo_database
    open_page(page, server, university_id, "agents")
    open_section(page, "Create an agent")
    page.get_by_role("textbox", name="Name", exact=True).fill("Browser Bot")
    page.get_by_role("textbox", name="Specialization (optional)", exact=True).fill(
        "ui testing"
    )
    page.get_by_role("textbox", name="Configuration (JSON object)", exact=True).fill(
        '{"llm": {"model": "x"}}'
    )
    page.get_by_role("button", name="Create agent").click()

    see(page, "Agent 'Browser Bot' created.")
    # The form stays open (ui.expander) and empty for the next agent: the
    # browser does not send the typed values back (a field reset is a new
    # widget, ui.field_key).
    name = page.get_by_role("textbox", name="Name", exact=True)
    assert name.is_visible()
    assert name.input_value() == ""
    page.get_by_role("textbox", name="Name contains", exact=True).fill("browser bot")
    page.keyboard.press("Enter")
    see(page, "Matching agents: 1.")


def test_saving_an_agents_settings_stays_on_the_settings_tab(
    server, demo_database, two_agents, page
):
    _, university_id = demo_database
    open_page(page, server, university_id, "agents")
    choose(page, "Open the profile of", two_agents[1])
    page.get_by_role("tab", name="Settings").click()
    wait_until_idle(page)
    page.get_by_role("textbox", name="Description", exact=True).fill(
        "Edited in the browser."
    )
    page.get_by_role("button", name="Save agent").click()

    see(page, f"Saved {two_agents[1]}.")
    settings = page.get_by_role("tab", name="Settings")
    assert settings.get_attribute("aria-selected") == "true"


def test_a_profile_stays_open_when_another_session_renames_its_agent(
    server, demo_database, browser, page
):
    _, university_id = demo_database
    open_page(page, server, university_id, "agents")
    # Created on the page, whose write clears the server's cached choices.
    open_section(page, "Create an agent")
    page.get_by_role("textbox", name="Name", exact=True).fill("Rename Me")
    page.get_by_role("button", name="Create agent").click()
    see(page, "Agent 'Rename Me' created.")
    choose(page, "Open the profile of", "Rename Me")

    # Someone else renames it from their own browser.
    other = browser.new_context(viewport={"width": 1400, "height": 900})
    other.set_default_timeout(TIMEOUT_MS)
    elsewhere = other.new_page()
    open_page(elsewhere, server, university_id, "agents")
    choose(elsewhere, "Open the profile of", "Rename Me")
    elsewhere.get_by_role("tab", name="Settings").click()
    wait_until_idle(elsewhere)
    elsewhere.get_by_role("textbox", name="Name", exact=True).fill("Aardvark Bot")
    elsewhere.get_by_role("button", name="Save agent").click()
    see(elsewhere, "Saved Aardvark Bot.")
    other.close()

    # The first person's next click still shows the same agent, renamed.
    page.get_by_role("tab", name="Competition record").click()
    wait_until_idle(page)
    page.get_by_role("heading", name="Aardvark Bot").wait_for()
    picker = page.get_by_role("combobox", name="Open the profile of", exact=True)
    assert "Choose an agent" not in picker.locator("xpath=..").inner_text()


def test_scheduling_starting_and_recording_a_competition_in_the_browser(
    server, demo_database, two_agents, page
):
    _, university_id = demo_database
    open_page(page, server, university_id, "competitions")
    open_section(page, "Schedule a competition")
    page.get_by_role("textbox", name="Name", exact=True).fill("Browser Sprint")
    for name in two_agents:
        add_to_multiselect(page, "Participants", name)
    page.get_by_role("button", name="Schedule competition").click()
    see(page, "Competition 'Browser Sprint' scheduled with 2 participants.")

    choose(page, "Open", "Browser Sprint")
    page.get_by_role("button", name="Start").click()
    see(page, "Browser Sprint started")

    page.get_by_role("tab", name="Matches").click()
    # A tab change reruns the page (the open tab is kept): a value typed
    # during that run would be drawn over.
    wait_until_idle(page)
    page.get_by_role("spinbutton", name="Score of the first side").fill("0.75")
    page.get_by_role("button", name="Record result").click()
    see(page, re.compile(r"Result of match #1 .* recorded"))
    # The form moves on to the next match, with no score left over from the
    # result just recorded (a reset field is a new widget, ui.field_key).
    form = page.get_by_test_id("stForm").filter(has_text="Record a result")
    from playwright.sync_api import expect

    picker = form.get_by_role("combobox", name="Match", exact=True)
    expect(picker).to_have_value(re.compile(r"^match #2 \("))
    score = form.get_by_role("spinbutton", name="Score of the first side")
    assert score.input_value() == ""


def test_a_settings_form_drawn_before_another_save_is_refused_and_redrawn(
    server, demo_database, two_agents, browser, page
):
    _, university_id = demo_database
    other = browser.new_context(viewport={"width": 1400, "height": 900})
    other.set_default_timeout(TIMEOUT_MS)
    theirs = other.new_page()
    for tab in (page, theirs):
        open_page(tab, server, university_id, "agents")
        choose(tab, "Open the profile of", two_agents[0])
        tab.get_by_role("tab", name="Settings").click()
        wait_until_idle(tab)

    description = {"name": "Description", "exact": True}
    theirs.get_by_role("textbox", **description).fill("Saved first elsewhere.")
    theirs.get_by_role("button", name="Save agent").click()
    see(theirs, f"Saved {two_agents[0]}.")
    other.close()

    page.get_by_role("textbox", **description).fill("Typed over old values.")
    page.get_by_role("button", name="Save agent").click()
    see(page, "was changed by someone else after this form was opened")
    # The form now shows the values saved elsewhere, and saving it again
    # keeps them rather than putting the old ones back.
    from playwright.sync_api import expect

    box = page.get_by_role("textbox", **description)
    expect(box).to_have_value("Saved first elsewhere.", timeout=TIMEOUT_MS)


def test_approving_a_proposal_by_clicking(server, demo_database, page):
    url, university_id = demo_database
    open_page(page, server, university_id, "proposals")
    page.get_by_role("textbox", name="Your name or e-mail", exact=True).fill(
        "browser@example.org"
    )
    page.keyboard.press("Enter")
    wait_until_idle(page)
    page.get_by_role("button", name="Approve", exact=True).first.click()

    see(page, re.compile(r"^Approved '.*'\.$"))
    history = page.get_by_test_id("stDataFrame").last
    history.wait_for()
    full_page_screenshot(page, SCREENSHOTS / "proposals.png")
    shown = page.get_by_text(re.compile(r"^Approved '.*'\.$")).first.inner_text()
    title = shown.removeprefix("Approved '").removesuffix("'.")
    engine = make_engine(url)
    with read_session(engine) as session:
        decision = session.execute(
            select(
                ImprovementProposal.validation_status, ImprovementProposal.validated_by
            ).where(
                ImprovementProposal.university_id == university_id,
                ImprovementProposal.title == title,
            )
        ).one()
    engine.dispose()
    assert tuple(decision) == ("approved", "browser@example.org")


def test_a_name_full_of_markdown_reads_as_typed(server, demo_database, page):
    _, university_id = demo_database
    name = "**Mallory** [x](http://evil.example) $y$ :material/delete:"
    open_page(page, server, university_id, "agents")
    open_section(page, "Create an agent")
    page.get_by_role("textbox", name="Name", exact=True).fill(name)
    page.get_by_role("button", name="Create agent").click()

    message = page.get_by_test_id("stAlertContentSuccess").get_by_test_id(
        "stMarkdownContainer"
    )
    message.wait_for()
    assert message.inner_text().replace("\u2060", "") == f"Agent {name!r} created."
    # No link hides where it goes: a bare address may still be drawn as a
    # link, but only with the address itself as its text.
    for link in message.locator("a").all():
        assert link.inner_text() == link.get_attribute("href")


def test_downloading_a_csv_export_and_parsing_it(server, demo_database, page):
    _, university_id = demo_database
    open_page(page, server, university_id, "exports")
    announced = int(page.get_by_test_id("stMetricValue").first.inner_text())
    page.get_by_role(
        "button", name=re.compile(r"^Prepare the CSV of \d+ rows?")
    ).click()
    button = page.get_by_test_id("stDownloadButton").first
    button.wait_for()
    with page.expect_download() as download_info:
        button.click()
    download = download_info.value

    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == announced > 0, "the file holds the rows the page announced"
    header = list(rows[0])
    assert all(re.fullmatch(r"[a-z0-9_]+", name) for name in header), header
