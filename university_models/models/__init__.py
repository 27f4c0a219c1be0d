"""The agentic-university schema, one module per subject.

Importing this package registers every table on ``Base.metadata``.
"""

from university_models.models.agents import AGENT_STATUSES, AGENT_TYPES, UniversityAgent
from university_models.models.archive import (
    universities_archive,
    university_agents_archive,
)
from university_models.models.competitions import (
    COMPETITION_STATUSES,
    COMPETITION_TYPES,
    MATCH_STATUSES,
    PARTICIPANT_STATUSES,
    PARTICIPANT_TYPES,
    Competition,
    CompetitionMatch,
    CompetitionParticipant,
)
from university_models.models.curriculum import (
    DIFFICULTY_LEVELS,
    PATH_STATUSES,
    PROGRESS_STATUSES,
    AgentProgress,
    CurriculumLevel,
    CurriculumPath,
)
from university_models.models.proposals import (
    GENERATORS,
    IMPLEMENTATION_STATUSES,
    PROPOSAL_STATUSES,
    ImprovementProposal,
)
from university_models.models.tenancy import (
    DEFAULT_SETTINGS,
    ISOLATION_LEVELS,
    UNIVERSITY_STATUSES,
    ClientApplication,
    Organization,
    University,
    User,
)
from university_models.models.training_data import (
    DATA_TYPES,
    PRIVACY_LEVELS,
    SOURCE_TYPES,
    VALIDATION_STATUSES,
    TrainingDataCollection,
)

__all__ = [
    "AGENT_STATUSES",
    "AGENT_TYPES",
    "COMPETITION_STATUSES",
    "COMPETITION_TYPES",
    "DATA_TYPES",
    "DEFAULT_SETTINGS",
    "DIFFICULTY_LEVELS",
    "GENERATORS",
    "IMPLEMENTATION_STATUSES",
    "ISOLATION_LEVELS",
    "MATCH_STATUSES",
    "PARTICIPANT_STATUSES",
    "PARTICIPANT_TYPES",
    "PATH_STATUSES",
    "PRIVACY_LEVELS",
    "PROGRESS_STATUSES",
    "PROPOSAL_STATUSES",
    "SOURCE_TYPES",
    "UNIVERSITY_STATUSES",
    "VALIDATION_STATUSES",
    "AgentProgress",
    "ClientApplication",
    "Competition",
    "CompetitionMatch",
    "CompetitionParticipant",
    "CurriculumLevel",
    "CurriculumPath",
    "ImprovementProposal",
    "Organization",
    "TrainingDataCollection",
    "University",
    "UniversityAgent",
    "User",
    "universities_archive",
    "university_agents_archive",
]
