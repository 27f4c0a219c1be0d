"""What the real-browser tests need: a `streamlit run` server on a free port,
Debian's Chromium driven by Playwright, and waits on what a person sees.

Chromium is never downloaded: the tests use the browser installed by the
system's packages (`/usr/bin/chromium`, or `UNIVERSITY_TEST_CHROMIUM`).
Without it they are skipped with the reason, which fails the run under
`UNIVERSITY_TEST_STRICT=1`.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from university_models.config import DATABASE_URL_VARIABLE, PROJECT_ROOT

log = logging.getLogger(__name__)

CHROMIUM_VARIABLE = "UNIVERSITY_TEST_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Seconds to wait for the server to answer its health check.
STARTUP_TIMEOUT_S = 90


def chromium_path() -> str | None:
    """The Chromium executable to drive, or None when there is none."""
    path = os.environ.get(CHROMIUM_VARIABLE, DEFAULT_CHROMIUM)
    return path if Path(path).is_file() and os.access(path, os.X_OK) else None


def free_port() -> int:
    """A TCP port nothing listens on right now, on the loopback address."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
            return reply.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def streamlit_server(database_url: str, log_path: Path) -> Iterator[str]:
    """Run the dashboard as ``make run`` does (``python -m university_models
    serve``) against ``database_url`` and yield its base URL once its health
    check answers; stop it at the end. The server's output goes to
    ``log_path`` (shown if it fails to start)."""
    port = free_port()
    env = {
        **os.environ,
        DATABASE_URL_VARIABLE: database_url,
        # Nothing changes the sources during a test; watching them costs CPU.
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
    }
    command = [
        sys.executable,
        "-m",
        "university_models",
        "serve",
        "--port",
        str(port),
    ]
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as output:
        server = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while not _healthy(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"streamlit did not start on {url}:\n{log_path.read_text()}"
                    )
                time.sleep(0.25)
            log.info("streamlit serves %s (pid %s)", url, server.pid)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)


def wait_until_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until the app's script run has ended and what it drew is shown:
    Streamlit marks its root ``data-test-script-state="notRunning"``, no
    element is stale (it fades stale elements while a rerun is in flight)
    and no skeleton placeholder is left (it draws those before a page's
    first elements arrive)."""
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app
                && app.getAttribute("data-test-script-state") === "notRunning"
                && !document.querySelector('[data-stale="true"]')
                && !document.querySelector('[data-testid="stSkeleton"]');
        }""",
        timeout=timeout_ms,
    )


def full_page_screenshot(page, path: Path, *, width: int = 1400) -> None:
    """Save the whole page, not just the viewport, ``width`` pixels wide.

    Streamlit scrolls inside its main block rather than the document, so
    the viewport is first grown to the height of that block."""
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]')
                || document.querySelector('section.main');
            return main ? main.scrollHeight : document.body.scrollHeight;
        }"""
    )
    page.set_viewport_size({"width": width, "height": max(900, min(height, 6000))})
    wait_until_idle(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 900})


#: Where a failed browser test leaves a picture of its page (git ignores it).
FAILURES = PROJECT_ROOT / "tests" / "artifacts" / "failures"


def describe_failed_page(page, test_name: str) -> str:
    """A failed test's page for its report: the address, the messages on it
    (success, warning, error) and a full-page screenshot's path."""
    picture = FAILURES / f"{test_name}.png"
    try:
        picture.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=picture, full_page=True)
        messages = page.locator('[data-testid="stAlert"]').all_inner_texts()
    except Exception as error:  # noqa: BLE001  the test's own failure matters more
        return f"{page.url}: the page could not be read ({error})"
    shown = "\n".join(f"  - {text}" for text in messages) or "  (none)"
    return f"address: {page.url}\nscreenshot: {picture}\nmessages:\n{shown}"
