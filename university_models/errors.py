"""The refusals of the domain.

Every service refuses with one of these. The message is for a person: it
names the offending value and says what to change. A refusal is raised before
anything is written, or inside the caller's transaction, which then rolls
back, so the database is left exactly as it was.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal a person can act on."""


class NotFound(DomainError):
    """The named row does not exist in this university."""


class InvalidInput(DomainError):
    """A value is out of range, of the wrong shape, or missing."""


class QuotaExceeded(DomainError):
    """The action would take the university past one of its quotas."""


class InvalidTransition(DomainError):
    """The row's current status does not allow this change."""


class Conflict(DomainError):
    """Someone else changed the row first (for example, decided a proposal)."""


class StaleVersion(Conflict):
    """The change was made over values someone else has changed since (an
    edit form drawn before another session saved the same record)."""
