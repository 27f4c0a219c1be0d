"""Universities: creation, settings, quotas and status.

A university is the unit of isolation and of quotas. The rules here are also
written down in ``docs/domain.md`` under "Universities and quotas".
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import LargeBinary, Text, cast, func, literal, select, text
from sqlalchemy.orm import Session

from university_models.db import utcnow
from university_models.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
)
from university_models.models import (
    DEFAULT_SETTINGS,
    ISOLATION_LEVELS,
    UNIVERSITY_STATUSES,
    Competition,
    Organization,
    TrainingDataCollection,
    University,
    UniversityAgent,
    User,
)
from university_models.services.validation import (
    edit_version,
    refuse_stale_version,
    whole_number,
)

log = logging.getLogger(__name__)

#: Longest name a university, an organization or a user e-mail may have.
NAME_MAX_LENGTH = 255

#: Bytes in one megabyte of ``storage_quota_mb``.
BYTES_PER_MB = 1024 * 1024

#: Settings keys that mirror a column or argument and must always equal it.
MIRRORED_SETTINGS = ("max_agents", "max_concurrent_competitions", "data_retention_days")

#: How a refusal names each quota and the retention period: the words of
#: the Universities page's field, then the argument's name, which is also
#: the command line's option (``max_agents``, ``--max-agents``), so that a
#: person recognises the field wherever they typed it.
FIELD_WORDS = {
    "max_agents": "agent quota (max_agents)",
    "max_concurrent_competitions": (
        "concurrent competitions quota (max_concurrent_competitions)"
    ),
    "storage_quota_mb": "storage quota in MB (storage_quota_mb)",
    "data_retention_days": "retention period in days (data_retention_days)",
}

#: The fields ``update_university`` accepts.
UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "description",
        "settings",
        "isolation_level",
        "max_agents",
        "max_concurrent_competitions",
        "storage_quota_mb",
        "data_retention_days",
    }
)

#: How many existing names a "no such university" message lists at most.
NAMES_LISTED_IN_NOT_FOUND = 20

#: The PostgreSQL advisory lock that serialises creating and renaming
#: universities, so two sessions cannot both take the same free name.
UNIVERSITY_NAMES_LOCK_KEY = 7_311_042_001


def get_university(session: Session, university_id: str) -> University:
    """The university with ``university_id``, or ``NotFound``."""
    university = session.get(University, university_id)
    if university is None:
        raise NotFound(f"No university has the id {university_id!r}.")
    return university


def lock_university_for_write(session: Session, university_id: str) -> University:
    """Lock a university for one write, check it accepts writes, and mark the
    activity.

    Rules: every write to a university goes through here first. The row lock
    (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write transactions
    already hold the database lock) serialises writers of one university, so
    a quota check and the insert it guards cannot interleave with another
    session's. A suspended or archived university refuses every write except
    changing its status back (``set_university_status`` does not call this).
    Every write updates ``last_activity_at``.
    """
    university = session.scalars(
        select(University)
        .where(University.id == university_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if university is None:
        raise NotFound(f"No university has the id {university_id!r}.")
    if university.status != "active":
        raise InvalidTransition(
            f"University {university.name!r} is {university.status}: it accepts no "
            "changes until an administrator sets it back to active."
        )
    university.last_activity_at = utcnow()
    return university


def university_version(university: Any) -> str:
    """The version of the values ``update_university`` can change (the
    Universities page's "Quotas and settings" form shows them all)."""
    return edit_version(university, UPDATABLE_FIELDS)


#: C0 control characters (U+0000 to U+001F): none may be in a name or a
#: one-line text; free text may hold tab, line feed and carriage return.
#: PostgreSQL refuses NUL in every text column (SQLite would store it), and
#: the others are invisible on screen and in CSV.
_CONTROL_RE = re.compile(r"[\x00-\x1f]")
_FREE_TEXT_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def refuse_control_characters(text: str, *, what: str, single_line: bool) -> str:
    """``text`` unchanged; ``InvalidInput`` naming ``what`` (the start of a
    sentence: "The agent name"), the character and its position when it
    holds a C0 control character.

    Rule: a name or other one-line text (``single_line``) holds none; free
    text may hold tabs and line breaks (LF, CR) but no other (NUL above all:
    PostgreSQL cannot store it, SQLite would). Every service that stores
    text a person typed checks it here (``clean_name``, ``clean_text``)."""
    pattern = _CONTROL_RE if single_line else _FREE_TEXT_CONTROL_RE
    found = pattern.search(text)
    if found is None:
        return text
    code = ord(found.group())
    label = f"U+{code:04X}" + (" (NUL)" if code == 0 else "")
    allowed = (
        "a name is one line of plain text"
        if single_line
        else "free text may hold tabs and line breaks, no other control character"
    )
    raise InvalidInput(
        f"{what} {text[:40]!r} holds the control character {label} at "
        f"position {found.start() + 1}: remove it ({allowed})."
    )


_SPACE_RUN_RE = re.compile(r" {2,}")


def tidy_name(value: str) -> str:
    """``value`` trimmed, with every run of spaces inside it made one.

    Rule: a page draws "Lyceum   Demo" as "Lyceum Demo", so names that
    differ only there would be twins nobody can tell apart; names are
    stored this way (``clean_name``) and looked up this way (the
    ``find_...`` functions, the importers)."""
    return _SPACE_RUN_RE.sub(" ", value.strip())


def clean_name(value: Any, *, what: str) -> str:
    """``value`` tidied (``tidy_name``); refused unless a non-empty text of
    at most 255 characters without control characters. ``what`` names the
    field in the message.

    Rule: every service's names go through here (universities,
    organizations, agents, curriculum paths and levels), so a name is the
    same kind of thing on both engines."""
    if not isinstance(value, str):
        raise InvalidInput(f"The {what} must be text, not {value!r}.")
    name = tidy_name(value)
    if not name:
        raise InvalidInput(f"The {what} is empty: give it a name.")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            f"The {what} {name[:40]!r}... has {len(name)} characters: shorten it "
            f"to at most {NAME_MAX_LENGTH}."
        )
    return refuse_control_characters(name, what=f"The {what}", single_line=True)


def clean_text(
    value: Any,
    *,
    what: str,
    max_length: int | None = None,
    single_line: bool = False,
) -> str | None:
    """Optional text trimmed, ``None`` when missing or blank.

    Rules: refused unless text; at most ``max_length`` characters when given;
    no control characters except tab and line breaks in free text, none in a
    ``single_line`` text (``refuse_control_characters``)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"The {what} must be text, not {value!r}.")
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        raise InvalidInput(
            f"The {what} {value[:40]!r}... has {len(value)} characters: shorten it "
            f"to at most {max_length}."
        )
    refuse_control_characters(value, what=f"The {what}", single_line=single_line)
    return value or None


def normalise_email(value: Any) -> str:
    """The e-mail address trimmed and in lower case.

    Rules: an address is one a mail server would take, as the
    email-validator package reads it (without looking the domain up: no
    spaces, markup or control characters, one ``@``, a domain with a dot
    that is not a reserved name such as ``localhost``), of at most 255
    characters; addresses are compared in lower case, so ``Ada@Example.org``
    and ``ada@example.org`` are one user.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("The owner's e-mail address is missing: enter one.")
    email = value.strip()
    if len(email) > NAME_MAX_LENGTH:
        raise InvalidInput(
            f"The e-mail address {email[:40]!r}... has {len(email)} characters: "
            f"an address has at most {NAME_MAX_LENGTH}."
        )
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput(
            f"{value!r} is not an e-mail address ({error}): write it as "
            "name@domain.org."
        ) from None
    return checked.normalized.lower()


def _quota(value: Any, field: str) -> int:
    """A quota or the retention period: a whole number from 1 to
    2,147,483,647 (``whole_number``), refused in the words of
    ``FIELD_WORDS``."""
    return whole_number(value, what=FIELD_WORDS[field])


def _isolation_level(value: Any) -> str:
    if value not in ISOLATION_LEVELS:
        raise InvalidInput(
            f"Isolation level {value!r} is unknown: use one of "
            f"{', '.join(ISOLATION_LEVELS)}."
        )
    return value


def _merged_settings(
    base: dict[str, Any], given: Any, mirrored: dict[str, int]
) -> dict[str, Any]:
    """``given`` merged over ``base`` with the mirrored keys set from the
    columns; refuses a mirrored key in ``given`` that disagrees."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise InvalidInput(
            f"Settings must be a JSON object (key: value pairs), not {given!r}."
        )
    for key, value in mirrored.items():
        if key in given and given[key] != value:
            raise InvalidInput(
                f"settings[{key!r}] is {given[key]!r} but the {FIELD_WORDS[key]} "
                f"is {value!r}: set the {FIELD_WORDS[key]} with its own field, not "
                "inside the settings."
            )
    # Round-trip: the stored document is plain JSON, not shared with the
    # caller, and a value JSON cannot hold is refused here, not at flush.
    return storable_json({**base, **given, **mirrored}, what="settings")


def _lock_university_names(session: Session) -> None:
    """Serialise the sessions that create or rename universities.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: every write
    transaction already holds the database's write lock (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"),
            {"key": UNIVERSITY_NAMES_LOCK_KEY},
        )


def _refuse_taken_name(
    session: Session, name: str, *, except_id: str | None = None
) -> None:
    query = select(University.name).where(
        func.lower(University.name) == func.lower(literal(name))
    )
    if except_id is not None:
        query = query.where(University.id != except_id)
    taken = session.scalars(query.limit(1)).first()
    if taken is not None:
        raise Conflict(
            f"A university named {taken!r} already exists: choose another name "
            f"than {name!r} (names are compared without regard to case)."
        )


def _owner(
    session: Session,
    email: str,
    display_name: str | None,
    organization: Organization | None,
) -> User:
    """The user with ``email``, created (in ``organization``) when missing."""
    user = session.scalars(
        select(User).where(func.lower(User.email) == email).limit(1)
    ).first()
    if user is not None:
        return user

    user = User(email=email, display_name=display_name, organization=organization)
    session.add(user)
    log.info("created user %s", email)
    return user


def _organization(session: Session, name: str) -> Organization:
    """The organization named ``name`` (any case), created when missing."""
    organization = session.scalars(
        select(Organization)
        .where(func.lower(Organization.name) == func.lower(literal(name)))
        .limit(1)
    ).first()
    if organization is not None:
        return organization

    organization = Organization(name=name)
    session.add(organization)
    log.info("created organization %s", name)
    return organization


def create_university(
    session: Session,
    *,
    name: str,
    owner_email: str,
    owner_display_name: str | None = None,
    organization: str | None = None,
    description: str | None = None,
    settings: dict[str, Any] | None = None,
    isolation_level: str = "strict",
    max_agents: int = 100,
    max_concurrent_competitions: int = 10,
    storage_quota_mb: int = 1024,
    data_retention_days: int = 365,
    tenant_id: str | None = None,
) -> University:
    """Create an active university, with its owner user and organization when
    they do not exist yet.

    Rules:

    * the name is trimmed, non-empty, at most 255 characters, and unique in
      the installation without regard to case (the CLI and the importers
      find a university by its name); a taken name is refused with
      ``Conflict``;
    * the owner is found by e-mail address (lower case) or created; a new
      owner joins ``organization``; the organization is found by name (any
      case) or created;
    * ``settings`` is ``DEFAULT_SETTINGS`` with the given keys over it; its
      ``max_agents``, ``max_concurrent_competitions`` and
      ``data_retention_days`` always equal the arguments (a given settings
      value that disagrees is refused: set them with their own argument);
    * quotas and the retention period are whole numbers from 1 to
      2,147,483,647 (``whole_number``: the database's INTEGER); refusals
      name them as the page and the command line do (``FIELD_WORDS``:
      "agent quota (max_agents)"); the isolation level is one of
      ``ISOLATION_LEVELS``.
    """
    name = clean_name(name, what="university name")
    email = normalise_email(owner_email)
    owner_display_name = clean_text(
        owner_display_name,
        what="owner's name",
        max_length=NAME_MAX_LENGTH,
        single_line=True,
    )
    organization_name = (
        clean_name(organization, what="organization name")
        if organization is not None
        else None
    )
    description = clean_text(description, what="description")
    isolation_level = _isolation_level(isolation_level)
    mirrored = {
        "max_agents": _quota(max_agents, "max_agents"),
        "max_concurrent_competitions": _quota(
            max_concurrent_competitions, "max_concurrent_competitions"
        ),
        "data_retention_days": _quota(data_retention_days, "data_retention_days"),
    }
    storage_quota_mb = _quota(storage_quota_mb, "storage_quota_mb")
    merged = _merged_settings(DEFAULT_SETTINGS, settings, mirrored)
    tenant_id = clean_text(
        tenant_id, what="tenant id", max_length=NAME_MAX_LENGTH, single_line=True
    )

    _lock_university_names(session)
    _refuse_taken_name(session, name)

    org = _organization(session, organization_name) if organization_name else None
    owner = _owner(session, email, owner_display_name, org)
    now = utcnow()
    university = University(
        name=name,
        description=description,
        owner=owner,
        organization=org,
        tenant_id=tenant_id,
        settings=merged,
        isolation_level=isolation_level,
        max_agents=mirrored["max_agents"],
        max_concurrent_competitions=mirrored["max_concurrent_competitions"],
        storage_quota_mb=storage_quota_mb,
        status="active",
        last_activity_at=now,
    )
    session.add(university)
    session.flush()

    log.info("created university %s (%s) for %s", name, university.id, email)
    return university


def non_archived_agent_count(session: Session, university_id: str) -> int:
    """How many agents of the university count against ``max_agents``."""
    return session.scalar(
        select(func.count()).where(
            UniversityAgent.university_id == university_id,
            UniversityAgent.status != "archived",
        )
    )


def update_university(
    session: Session,
    university_id: str,
    *,
    seen_version: str | None = None,
    **changes: Any,
) -> University:
    """Change a university's name, description, settings, isolation level,
    quotas or retention period.

    Rules: only the fields in ``UPDATABLE_FIELDS`` can change (owner and
    status have their own actions); the same checks as at creation apply.
    Given ``settings`` replace the current ones as at creation
    (``DEFAULT_SETTINGS`` with the given keys over it, so a key left out is
    removed or back to its default); the mirrored keys always equal the
    columns. A quota cannot be lowered below what is in use now:
    ``max_agents`` below the non-archived agents,
    ``max_concurrent_competitions`` below the active competitions,
    ``storage_quota_mb`` below the stored training data (``QuotaExceeded``,
    naming both numbers). A suspended or archived university refuses.
    With ``seen_version`` (an edit form's ``university_version`` of the
    values it showed), a university whose values changed since is refused
    (``StaleVersion``) and nothing is written: the form would put back the
    values it showed over the other change.
    """
    unknown = sorted(set(changes) - UPDATABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            f"Cannot change {', '.join(unknown)} of a university: change only "
            f"{', '.join(sorted(UPDATABLE_FIELDS))}."
        )

    university = lock_university_for_write(session, university_id)
    # Compared under the row lock, so no other save lands in between.
    refuse_stale_version(
        seen_version,
        university_version(university),
        what=f"University {university.name!r}",
    )

    if "name" in changes:
        name = clean_name(changes["name"], what="university name")
        if name != university.name:
            _lock_university_names(session)
            _refuse_taken_name(session, name, except_id=university.id)
        university.name = name
    if "description" in changes:
        university.description = clean_text(changes["description"], what="description")
    if "isolation_level" in changes:
        university.isolation_level = _isolation_level(changes["isolation_level"])

    mirrored = {
        "max_agents": university.max_agents,
        "max_concurrent_competitions": university.max_concurrent_competitions,
        "data_retention_days": university.data_retention_days,
    }
    for key in MIRRORED_SETTINGS:
        if key in changes:
            mirrored[key] = _quota(changes[key], key)
    _refuse_quota_below_usage(session, university, mirrored, changes)

    if "storage_quota_mb" in changes:
        university.storage_quota_mb = changes["storage_quota_mb"]
    university.max_agents = mirrored["max_agents"]
    university.max_concurrent_competitions = mirrored["max_concurrent_competitions"]
    # Given settings replace the current ones (a key left out is gone, as in
    # a form that shows them all); otherwise only the mirrored keys follow.
    if "settings" in changes:
        base, given = DEFAULT_SETTINGS, changes["settings"]
    else:
        base, given = dict(university.settings or {}), None
    university.settings = _merged_settings(base, given, mirrored)
    session.flush()

    log.info("updated university %s: %s", university.id, ", ".join(sorted(changes)))
    return university


def _refuse_quota_below_usage(
    session: Session,
    university: University,
    mirrored: dict[str, int],
    changes: dict[str, Any],
) -> None:
    if mirrored["max_agents"] < university.max_agents:
        agents = non_archived_agent_count(session, university.id)
        if mirrored["max_agents"] < agents:
            raise QuotaExceeded(
                f"The {FIELD_WORDS['max_agents']} cannot be "
                f"{mirrored['max_agents']}: university {university.name!r} has "
                f"{agents} agents that are not archived. Archive agents first or "
                "choose at least that many."
            )

    limit = mirrored["max_concurrent_competitions"]
    if limit < university.max_concurrent_competitions:
        active = session.scalar(
            select(func.count()).where(
                Competition.university_id == university.id,
                Competition.status == "active",
            )
        )
        if limit < active:
            raise QuotaExceeded(
                f"The {FIELD_WORDS['max_concurrent_competitions']} cannot be "
                f"{limit}: university {university.name!r} has {active} active "
                "competitions. Complete or cancel some first or choose at least "
                "that many."
            )

    if "storage_quota_mb" in changes:
        quota_mb = _quota(changes["storage_quota_mb"], "storage_quota_mb")
        used = storage_used_bytes(session, university.id)
        if quota_mb * BYTES_PER_MB < used:
            raise QuotaExceeded(
                f"The {FIELD_WORDS['storage_quota_mb']} cannot be {quota_mb}: "
                f"university {university.name!r} already stores {used} bytes of "
                f"training data ({used / BYTES_PER_MB:.2f} MB). Choose a larger quota."
            )


def set_university_status(
    session: Session, university_id: str, status: str
) -> University:
    """Set a university ``active``, ``suspended`` or ``archived``.

    Rules: this is the only write a suspended or archived university accepts
    (it is how it comes back); any of the three statuses can follow any
    other. It locks the row like every write and updates
    ``last_activity_at``; setting the status the university already has
    changes nothing (so re-archiving does not restart the retention clock).
    """
    if status not in UNIVERSITY_STATUSES:
        raise InvalidInput(
            f"University status {status!r} is unknown: use one of "
            f"{', '.join(UNIVERSITY_STATUSES)}."
        )

    university = session.scalars(
        select(University)
        .where(University.id == university_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if university is None:
        raise NotFound(f"No university has the id {university_id!r}.")
    if university.status == status:
        return university

    previous = university.status
    university.status = status
    university.last_activity_at = utcnow()
    session.flush()

    log.info("university %s: %s -> %s", university.id, previous, status)
    return university


def find_university(session: Session, name: str) -> University:
    """The university named ``name`` (trimmed, any case), or ``NotFound``
    listing the names that exist (at most 20)."""
    wanted = tidy_name(name) if isinstance(name, str) else name
    university = session.scalars(
        select(University)
        .where(func.lower(University.name) == func.lower(literal(wanted)))
        .limit(1)
    ).first()
    if university is not None:
        return university

    names = session.scalars(
        select(University.name)
        .order_by(University.name)
        .limit(NAMES_LISTED_IN_NOT_FOUND + 1)
    ).all()
    if not names:
        raise NotFound(f"No university is named {name!r}: there is none yet.")
    listed = ", ".join(repr(n) for n in names[:NAMES_LISTED_IN_NOT_FOUND])
    more = ", ..." if len(names) > NAMES_LISTED_IN_NOT_FOUND else ""
    raise NotFound(f"No university is named {name!r}; there are {listed}{more}.")


#: How deep a stored JSON document may nest. Configurations, rules and
#: metadata are a few levels deep; a far deeper one is refused before the
#: change tracking of the JSON columns, which walks it level by level,
#: runs out of Python's stack.
JSON_MAX_DEPTH = 64


def too_deep(what: str) -> InvalidInput:
    """The refusal of a JSON document nested deeper than ``JSON_MAX_DEPTH``."""
    return InvalidInput(
        f"Lists and objects in the {what} are nested more than {JSON_MAX_DEPTH} "
        "levels deep: flatten it."
    )


def _json_depth(value: Any) -> int:
    """How many lists and objects deep ``value`` nests, counted without
    recursion (a scalar is 0)."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return deepest


def storable_json(value: Any, *, what: str) -> Any:
    """``value`` as a plain JSON copy that every engine can store.

    Rule: anything JSON cannot store is refused with ``InvalidInput`` naming
    ``what`` and the bad value: NaN and Infinity (SQLite would keep the
    non-JSON text ``NaN``, PostgreSQL refuses it), objects JSON has no type
    for, and the character U+0000 (NUL) in a text or a key (both engines
    store it, but PostgreSQL cannot turn it into text or ``jsonb``, so
    reading the value back or merging metadata fails there). The copy is not
    shared with the caller's dict or list. Every service that takes a JSON
    document checks it here, and refuses one nested deeper than
    ``JSON_MAX_DEPTH``."""
    try:
        text = json.dumps(value, allow_nan=False)
    except RecursionError:
        raise too_deep(what) from None
    except ValueError as error:
        # Only an out-of-range float is looked for: a circular document
        # would send the search round for ever.
        if "Out of range" not in str(error):
            raise InvalidInput(
                f"The {what} cannot be stored as JSON ({error}): give a plain document."
            ) from None
        raise InvalidInput(
            f"The {what} holds {_first_non_finite(value)}, which JSON cannot store: "
            "use a finite number, or null."
        ) from None
    except TypeError as error:
        raise InvalidInput(
            f"The {what} holds a value JSON cannot store ({error}): use texts, "
            "numbers, true/false, null, lists and objects only."
        ) from None
    # json.dumps writes NUL as \u0000; a text holding a backslash and "u0000"
    # is written \\u0000 and found again below, then not refused.
    if "\\u0000" in text:
        where = _first_nul(value)
        if where:
            raise InvalidInput(
                f"The {what} holds the character U+0000 (NUL) {where}, which "
                "PostgreSQL cannot store in JSON: remove it."
            )
    if _json_depth(value) > JSON_MAX_DEPTH:
        raise too_deep(what)
    return json.loads(text)


def _children(value: Any):
    if isinstance(value, dict):
        return value.items()
    if isinstance(value, list | tuple):
        return enumerate(value)
    return ()


def _step(key: Any) -> str:
    return f"[{key}]" if isinstance(key, int) else f"[{json.dumps(str(key))}]"


def _first_non_finite(value: Any, path: str = "") -> str:
    """Where the first NaN or infinity in a JSON document sits, for a
    message: ``NaN at "x"[0]``."""
    if isinstance(value, float) and not math.isfinite(value):
        label = "NaN" if math.isnan(value) else ("-" * (value < 0)) + "Infinity"
        return f"{label} at {path}" if path else label
    for key, child in _children(value):
        found = _first_non_finite(child, path + _step(key))
        if found:
            return found
    return ""


def _first_nul(value: Any, path: str = "") -> str:
    """Where the first NUL in a JSON document sits, for a message: ``in the
    text at ["a"][0]`` or ``in the key ["a\\u0000"]``."""
    if isinstance(value, str) and "\x00" in value:
        return f"in the text at {path}" if path else "in the text"
    for key, child in _children(value):
        if isinstance(key, str) and "\x00" in key:
            return f"in the key {path}{_step(key)}"
        found = _first_nul(child, path + _step(key))
        if found:
            return found
    return ""


def json_error_text(error: json.JSONDecodeError) -> str:
    """A decoding error as words for a person: "Expecting value at line 1,
    column 9". Some of Python's messages already end in "at" ("Unterminated
    string starting at"), so that word is not doubled."""
    where = f"line {error.lineno}, column {error.colno}"
    if error.msg.endswith(" at"):
        return f"{error.msg} {where}"
    return f"{error.msg} at {where}"


def json_size_bytes(value: Any) -> int:
    """The bytes a JSON value takes once stored: the length of its UTF-8 JSON
    text as SQLAlchemy writes it (``json.dumps``), which is what
    ``storage_used_bytes`` measures in the database."""
    return len(json.dumps(value).encode("utf-8"))


def storage_used_bytes(session: Session, university_id: str) -> int:
    """The bytes of training data a university stores: the JSON text of every
    record's ``raw_data`` plus its ``processed_data``, summed in SQL.

    Rule: this is what ``storage_quota_mb`` limits; metadata does not count.
    """
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's length() counts characters of text; through a BLOB it
        # counts bytes (SQLite 3.40 has no octet_length()).
        def size(column):
            return func.length(cast(cast(column, Text), LargeBinary))
    else:

        def size(column):
            return func.octet_length(cast(column, Text))

    used = session.scalar(
        select(
            func.coalesce(
                func.sum(
                    size(TrainingDataCollection.raw_data)
                    + func.coalesce(size(TrainingDataCollection.processed_data), 0)
                ),
                0,
            )
        ).where(TrainingDataCollection.university_id == university_id)
    )
    return int(used)


def check_storage_quota(
    session: Session, university: University, additional_bytes: int
) -> None:
    """Refuse storing ``additional_bytes`` more training data when it would
    pass the university's ``storage_quota_mb``.

    Rule: stored bytes (``storage_used_bytes``) plus the new record's bytes
    may reach the quota but not pass it; ``QuotaExceeded`` names the quota,
    the usage and the record size.
    """
    if isinstance(additional_bytes, bool) or not isinstance(additional_bytes, int):
        raise InvalidInput(
            f"A record size must be whole bytes, not {additional_bytes!r}."
        )
    if additional_bytes < 0:
        raise InvalidInput(f"A record size cannot be negative ({additional_bytes}).")

    quota = university.storage_quota_mb * BYTES_PER_MB
    used = storage_used_bytes(session, university.id)
    if used + additional_bytes > quota:
        raise QuotaExceeded(
            f"University {university.name!r} stores {used} bytes of training data; "
            f"a record of {additional_bytes} bytes would pass its storage quota of "
            f"{university.storage_quota_mb} MB ({quota} bytes). Raise the "
            f"{FIELD_WORDS['storage_quota_mb']} or remove training data first."
        )
