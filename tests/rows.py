"""Rows written with SQL (Core inserts), bypassing the ORM and the services,
for testing what the database itself enforces."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from university_models.db import new_id
from university_models.models import (
    AgentProgress,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
    CurriculumLevel,
    CurriculumPath,
    ImprovementProposal,
    TrainingDataCollection,
    University,
    UniversityAgent,
    User,
)


def insert_row(connection: Connection, model, **values: Any) -> str:
    """Insert one row of ``model``'s table and return its id."""
    values.setdefault("id", new_id())
    connection.execute(insert(model.__table__).values(**values))
    return values["id"]


def valid_values(table: str, ids: dict[str, str]) -> dict[str, Any]:
    """The smallest valid row of ``table`` that refers to the rows in ``ids``."""
    return {
        "users": {"email": f"{new_id()}@example.org"},
        "universities": {"name": "Test U", "owner_user_id": ids.get("users")},
        "curriculum_paths": {"university_id": ids.get("universities"), "name": "P"},
        "curriculum_levels": {
            "curriculum_path_id": ids.get("curriculum_paths"),
            "level_number": 1,
            "name": "L1",
            "learning_objectives": ["read"],
            "challenges": [{"prompt": "a"}],
        },
        "university_agents": {
            "university_id": ids.get("universities"),
            "name": "A",
            "agent_type": "student",
            "configuration": {},
        },
        "agent_progress": {
            "agent_id": ids.get("university_agents"),
            "curriculum_level_id": ids.get("curriculum_levels"),
            "total_challenges": 1,
        },
        "competitions": {
            "university_id": ids.get("universities"),
            "name": "C",
            "competition_type": "solo",
            "rules": {},
            "evaluation_config": {},
        },
        "competition_participants": {
            "competition_id": ids.get("competitions"),
            "agent_id": ids.get("university_agents"),
        },
        "competition_matches": {
            "competition_id": ids.get("competitions"),
            "match_number": 1,
            "participant1_id": ids.get("competition_participants"),
            "match_config": {},
        },
        "training_data_collections": {
            "university_id": ids.get("universities"),
            "agent_id": ids.get("university_agents"),
            "source_type": "training",
            "data_type": "reasoning",
            "raw_data": {"steps": ["x"]},
        },
        "improvement_proposals": {
            "university_id": ids.get("universities"),
            "title": "T",
            "description": "D",
            "source_data_collection_id": ids.get("training_data_collections"),
        },
    }[table]


#: Tables in the order a full graph is inserted.
GRAPH = (
    ("users", User),
    ("universities", University),
    ("curriculum_paths", CurriculumPath),
    ("curriculum_levels", CurriculumLevel),
    ("university_agents", UniversityAgent),
    ("agent_progress", AgentProgress),
    ("competitions", Competition),
    ("competition_participants", CompetitionParticipant),
    ("competition_matches", CompetitionMatch),
    ("training_data_collections", TrainingDataCollection),
    ("improvement_proposals", ImprovementProposal),
)


def insert_graph(connection: Connection) -> dict[str, str]:
    """One row in every table of a university; returns their ids by table."""
    ids: dict[str, str] = {}
    for table, model in GRAPH:
        ids[table] = insert_row(connection, model, **valid_values(table, ids))
    return ids
