"""Where the database lives.

One setting chooses it: the environment variable ``UNIVERSITY_DATABASE_URL``
(any SQLAlchemy URL, for example
``postgresql+psycopg://postgres@127.0.0.1:5432/university``). Unset, the
product uses an embedded SQLite file in ``var/`` inside the project folder.
"""

from __future__ import annotations

import os
from pathlib import Path

DATABASE_URL_VARIABLE = "UNIVERSITY_DATABASE_URL"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "university.db"
PUBLISHED_DATA_VARIABLE = "UNIVERSITY_PUBLISHED_DATA"
PUBLISHED_DATA_DIR = Path(__file__).resolve().parent / "published_data"


def database_url() -> str:
    """The configured database URL, or the embedded SQLite file's."""
    url = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    return url or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def published_data_dir() -> Path:
    """The folder of published result sets the demo and the real-data tests
    import: the unchanged copies in ``university_models/published_data`` (see
    its README), or the folder named by ``UNIVERSITY_PUBLISHED_DATA``.

    The copies ship with the project because a clone, the CI's included, may
    sit anywhere: a folder found relative to the checkout would vanish with it.
    """
    named = os.environ.get(PUBLISHED_DATA_VARIABLE, "").strip()
    return Path(named) if named else PUBLISHED_DATA_DIR
