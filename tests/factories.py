"""Test data written straight through the ORM, for setting the scene of a
test. Tests of a rule call the service that enforces it instead."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from university_models.db import new_id
from university_models.models import University, UniversityAgent, User


def make_user(session: Session, **values: Any) -> User:
    values.setdefault("email", f"{new_id()[:8]}@example.org")
    user = User(**values)
    session.add(user)
    session.flush()
    return user


def make_university(session: Session, **values: Any) -> University:
    if "owner" not in values and "owner_user_id" not in values:
        values["owner"] = make_user(session)
    values.setdefault("name", f"University {new_id()[:8]}")
    university = University(**values)
    session.add(university)
    session.flush()
    return university


def make_agent(
    session: Session, university: University, **values: Any
) -> UniversityAgent:
    values.setdefault("name", f"agent-{new_id()[:8]}")
    values.setdefault("agent_type", "student")
    values.setdefault("configuration", {})
    agent = UniversityAgent(university=university, **values)
    session.add(agent)
    session.flush()
    return agent
