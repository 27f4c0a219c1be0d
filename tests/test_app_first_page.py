"""The first page renders on an empty database and lists universities."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from university_models.config import PROJECT_ROOT
from university_models.db import transaction
from university_models.models import University, User

APP = PROJECT_ROOT / "streamlit_app.py"


@pytest.fixture
def configured(engine, monkeypatch):
    monkeypatch.setenv(
        "UNIVERSITY_DATABASE_URL", engine.url.render_as_string(hide_password=False)
    )
    from university_models import ui

    ui.engine.clear()
    yield engine
    ui.engine.clear()


def test_first_page_explains_how_to_create_a_university_when_empty(configured):
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not app.exception
    assert "no university yet" in app.info[0].value


def test_first_page_lists_the_universities(configured):
    with transaction(configured) as session:
        owner = User(email="dean@example.org")
        session.add_all([owner, University(name="Listed U", owner=owner)])
    # The Overview opens first; the list lives on the Universities page.
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    app.switch_page("pages/universities.py").run()
    assert not app.exception
    assert "Listed U" in app.dataframe[0].value["name"].tolist()
