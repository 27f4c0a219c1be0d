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
SHARED_DATA_VARIABLE = "UNIVERSITY_SHARED_DATA"


def database_url() -> str:
    """The configured database URL, or the embedded SQLite file's."""
    url = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    return url or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def shared_data_dir() -> Path:
    """The folder of published result sets the demo imports: ``../shared/data``
    beside the project, or the folder named by ``UNIVERSITY_SHARED_DATA``."""
    named = os.environ.get(SHARED_DATA_VARIABLE, "").strip()
    return Path(named) if named else PROJECT_ROOT.parent / "shared" / "data"
