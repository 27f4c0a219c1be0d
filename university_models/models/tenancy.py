"""Who owns what: organizations, users, client applications and universities.

A university is the unit of isolation: every other table hangs off one, and
every query the product runs is scoped to one.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from university_models.db import Base
from university_models.models._columns import (
    created_at_column,
    dependents,
    id_column,
    in_list,
    integer_column,
    json_column,
    last_activity_at_column,
    reference,
    text_choice,
    updated_at_column,
)

if TYPE_CHECKING:
    from university_models.models.agents import UniversityAgent
    from university_models.models.competitions import Competition
    from university_models.models.curriculum import CurriculumPath
    from university_models.models.proposals import ImprovementProposal
    from university_models.models.training_data import TrainingDataCollection

ISOLATION_LEVELS = ("strict", "shared", "collaborative")
UNIVERSITY_STATUSES = ("active", "suspended", "archived")

DEFAULT_SETTINGS = {
    "max_agents": 100,
    "max_concurrent_competitions": 10,
    "data_retention_days": 365,
    "privacy_level": "strict",
}


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    # ON DELETE SET NULL: the ORM nulls loaded users, the database the rest.
    users: Mapped[list[User]] = relationship(
        back_populates="organization", passive_deletes=True
    )
    # No ON DELETE: an organization that universities name cannot be deleted.
    universities: Mapped[list[University]] = dependents("organization")


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    organization_id: Mapped[str | None] = reference(
        "organizations.id", ondelete="SET NULL", nullable=True
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    organization: Mapped[Organization | None] = relationship(back_populates="users")
    universities: Mapped[list[University]] = dependents("owner")


class ClientApplication(Base):
    __tablename__ = "client_applications"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    # No ON DELETE: an application that universities name cannot be deleted.
    universities: Mapped[list[University]] = dependents("client_application")


class University(Base):
    __tablename__ = "universities"
    __table_args__ = (
        CheckConstraint(
            in_list("isolation_level", ISOLATION_LEVELS), name="isolation_level_valid"
        ),
        CheckConstraint("max_agents > 0", name="max_agents_positive"),
        CheckConstraint(
            "max_concurrent_competitions > 0",
            name="max_concurrent_competitions_positive",
        ),
        CheckConstraint("storage_quota_mb > 0", name="storage_quota_mb_positive"),
        CheckConstraint(in_list("status", UNIVERSITY_STATUSES), name="status_valid"),
        Index("idx_universities_owner", "owner_user_id"),
        Index("idx_universities_tenant", "tenant_id"),
        Index("idx_universities_org", "organization_id"),
        Index("idx_universities_status", "status"),
    )

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    owner_user_id: Mapped[str] = reference("users.id", ondelete="CASCADE", length=255)

    client_app_id: Mapped[str | None] = reference(
        "client_applications.id", nullable=True, length=255
    )
    tenant_id: Mapped[str | None] = mapped_column(String(255))
    organization_id: Mapped[str | None] = reference(
        "organizations.id", nullable=True, length=255
    )

    settings: Mapped[dict[str, Any]] = json_column(DEFAULT_SETTINGS)
    isolation_level: Mapped[str] = text_choice(50, "strict")

    max_agents: Mapped[int] = integer_column(100)
    max_concurrent_competitions: Mapped[int] = integer_column(10)
    storage_quota_mb: Mapped[int] = integer_column(1024)

    status: Mapped[str] = text_choice(50, "active")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    last_activity_at: Mapped[datetime] = last_activity_at_column()

    owner: Mapped[User] = relationship(back_populates="universities")
    organization: Mapped[Organization | None] = relationship(
        back_populates="universities"
    )
    client_application: Mapped[ClientApplication | None] = relationship(
        back_populates="universities"
    )

    agents: Mapped[list[UniversityAgent]] = dependents("university")
    curriculum_paths: Mapped[list[CurriculumPath]] = dependents("university")
    competitions: Mapped[list[Competition]] = dependents("university")
    training_records: Mapped[list[TrainingDataCollection]] = dependents("university")
    proposals: Mapped[list[ImprovementProposal]] = dependents("university")

    @property
    def data_retention_days(self) -> int:
        """Days an archived, inactive university is kept live (default 365)."""
        return int((self.settings or {}).get("data_retention_days", 365))
