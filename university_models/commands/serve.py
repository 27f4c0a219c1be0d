"""``serve``: the dashboard, as ``make run`` starts it.

Streamlit's other settings come from ``.streamlit/config.toml`` or from
``STREAMLIT_*`` environment variables (``STREAMLIT_SERVER_FILE_WATCHER_TYPE``
for ``server.fileWatcherType``)."""

from __future__ import annotations

import argparse

from university_models.config import PROJECT_ROOT

#: The entrypoint every page is reached through.
ENTRYPOINT = PROJECT_ROOT / "streamlit_app.py"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve the dashboard (what `make run` does after set-up)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8501, help="port to listen on")
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    # Streamlit treats a `pages/` folder beside the entrypoint as an
    # old-style multipage app until some session has run st.navigation, so
    # the first visitor of a fresh server who opened a page's link got that
    # page alone, without the app's configuration or navigation. Deciding it
    # before the server starts makes every link open the real app.
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    options = [
        "--server.address",
        args.host,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    return cli.main(["run", str(ENTRYPOINT), *options], standalone_mode=False) or 0
