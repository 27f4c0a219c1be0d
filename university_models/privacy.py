"""Personal data in training records: finding it and replacing it.

Anonymizing a training record replaces every item found here with a
placeholder naming its kind, so that the record stays readable ("write to
[EMAIL]") while nothing personal remains. Detection is rule-based and
offline (no model is downloaded at run time):

* e-mail addresses: a local part, ``@`` and a domain with a top-level part
  of at least two letters, in any script (``user@bücher.de``,
  ``почта@пример.рф``) or as punycode (``xn--...``);
* phone numbers: ``phonenumbers.PhoneNumberMatcher`` with leniency ``VALID``
  in each region of ``PHONE_REGIONS`` (international ``+`` numbers are found
  in any region; national formats in the regions listed), line by line;
  inside a run of digit groups too long for the matcher, windows of up to
  five groups written exactly as the region groups its numbers: at either
  end of the run, or starting with ``+`` or ``(``. A run of more than
  ``PHONE_WINDOW_MAX_RUN`` groups is a table of numbers: only what is
  written as a phone number of its own is looked for there (a window
  starting with ``+`` or ``(``, or one group of seven to fifteen digits),
  which keeps the search linear in the text (a 37 KB table of 800 lines of
  12 numbers takes milliseconds, not a minute);
* IP addresses: IPv4 and IPv6 candidates confirmed by the standard library's
  ``ipaddress`` (so ``999.1.1.1`` or ``std::vector`` are left alone);
* credit-card numbers: 13 to 19 digits, in one run or printed in the usual
  groups (4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4) separated by spaces, hyphens or
  dots, that pass the Luhn check;
* API keys and tokens: well-known prefixes (``sk-``, ``ghp_``/``gho_``/
  ``ghu_``/``ghs_``/``ghr_``, ``github_pat_``, ``xoxb-``/``xoxp-``/...,
  ``AKIA``/``ASIA``, ``AIza``, ``glpat-``, ``hf_``, ``ya29.``), JSON web
  tokens, PEM private keys, the token after ``Bearer``, the credentials of
  an ``Authorization`` header (``Basic``, ``Token``... or none with a
  digit in it), ``Basic`` and base64 of ``user:password`` anywhere, the
  value after ``password=``,
  ``api_key:``, ``secret=``, ``token=`` and the like, and long
  high-entropy strings (``HIGH_ENTROPY_MIN_LENGTH`` characters or more of
  letters, digits, ``+``, ``=``, ``_`` and ``-``, with letters and digits
  both present and at least ``HIGH_ENTROPY_MIN_BITS`` bits of Shannon
  entropy per character; hex digests and UUIDs stay below that).

When two findings overlap, the kind listed first in ``KIND_PRIORITY``
(secret, e-mail, card, IP address, phone) wins, then the longer finding (a
token that contains digits is one secret, not a phone number).

Rule for JSON (the spec is silent): every string is anonymized, in values
and in object keys alike (a key can be an e-mail address); when two keys
become equal after replacement, the later ones get a ``#2``, ``#3`` suffix
so no value is lost. Integers of seven digits or more, and floats without a
fraction of seven to 19 digits (``4155552671.0``), are checked as text (a
phone or card number stored as a number) and replaced by the placeholder
string when they hold personal data. Other numbers, booleans and null stay.

Anonymizing is idempotent: placeholders are never detected again, and the
replacement is repeated until nothing is found (a replacement can in
principle join two fragments into a new finding).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import ipaddress
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import phonenumbers
from phonenumbers import (
    Leniency,
    NumberParseException,
    PhoneMetadata,
    PhoneNumberMatcher,
)

log = logging.getLogger(__name__)

EMAIL = "email"
PHONE = "phone"
IP_ADDRESS = "ip_address"
CARD_NUMBER = "card_number"
SECRET = "secret"

# TODO: person names and postal addresses are not detected: that needs a
# language model, and nothing may download one at run time.

#: Which kind wins when two findings overlap, first wins.
KIND_PRIORITY = (SECRET, EMAIL, CARD_NUMBER, IP_ADDRESS, PHONE)

PLACEHOLDERS = {
    EMAIL: "[EMAIL]",
    PHONE: "[PHONE]",
    IP_ADDRESS: "[IP_ADDRESS]",
    CARD_NUMBER: "[CARD_NUMBER]",
    SECRET: "[SECRET]",
}

#: Regions whose national phone formats are recognised. International
#: numbers (with ``+`` and a country code) are recognised from any of them.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "BR", "JP", "IT", "ES", "AU")

HIGH_ENTROPY_MIN_LENGTH = 32
HIGH_ENTROPY_MIN_BITS = 4.0

#: Longest text whose findings are cached (bounds the cache's memory).
CACHED_TEXT_MAX_LENGTH = 2000

#: Smallest integer checked as text: shorter numbers are counts and years.
NUMBER_MIN_DIGITS = 7
#: Floats of more digits than this (the longest card number) stay.
NUMBER_MAX_DIGITS = 19

#: Letters and digits of any script: ``bücher.de`` and ``пример.рф`` are
#: domains as much as ``example.org`` (so is their punycode ``xn--...``).
_EMAIL_RE = re.compile(
    r"(?<![\w.%+-])[\w.%+-]+(?:'[\w.%+-]+)*"
    r"@(?:[^\W_]|-)+(?:\.(?:[^\W_]|-)+)*\.(?:[^\W\d_]{2,}|xn--[A-Za-z0-9-]+)\b"
)
_IPV4_RE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
_IPV6_RE = re.compile(r"(?<![\w:.])[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?![\w:])")
#: Card numbers as printed: 13 to 19 digits in one run, or 4-4-4-4(-3),
#: 4-6-5 (American Express) and 4-6-4 (Diners Club) groups with one
#: separator (space, hyphen or dot) throughout; not a piece of a longer
#: dotted or hyphenated chain of digits.
_CARD_RE = re.compile(
    r"""
    (?<![\d-])(?<!\d\.)
    (?:
        \d{13,19}
      | \d{4}(?P<sep>[ .-])\d{4}(?P=sep)\d{4}(?P=sep)\d{4}(?:(?P=sep)\d{3})?
      | \d{4}(?P<wide>[ .-])\d{6}(?P=wide)\d{4,5}
    )
    (?!\d)(?![.-]\d)
    """,
    re.VERBOSE,
)
_PREFIXED_SECRET_RE = re.compile(
    r"""
    (?<![A-Za-z0-9_-])
    (?:
        sk-[A-Za-z0-9_-]{16,}
      | gh[pousr]_[A-Za-z0-9]{20,}
      | github_pat_[A-Za-z0-9_]{20,}
      | xox[abposr]-[A-Za-z0-9-]{10,}
      | (?:AKIA|ASIA)[0-9A-Z]{16}
      | AIza[0-9A-Za-z_-]{35}
      | glpat-[A-Za-z0-9_-]{20,}
      | hf_[A-Za-z0-9]{30,}
      | ya29\.[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*
      | eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+
    )
    """,
    re.VERBOSE,
)
_PEM_RE = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
    re.DOTALL,
)
_BEARER_RE = re.compile(r"\bBearer\s+([A-Za-z0-9._~+/=-]{8,})")
#: The credentials of an ``Authorization`` header (the header and scheme
#: stay). After a known scheme any token of eight characters or more; with
#: no scheme, one holding a digit ("Authorization: required" is prose).
_AUTHORIZATION_RE = re.compile(
    r"""\bAuthorization["']?\s*[:=]\s*["']?"""
    r"(?:(?P<scheme>Basic|Bearer|Digest|Token|Negotiate|NTLM|ApiKey|Key)\s+)?"
    r"(?P<credentials>[A-Za-z0-9._~+/=-]{8,})",
    re.IGNORECASE,
)
#: ``Basic`` and a base64 text outside a header: credentials only when the
#: text decodes to ``user:password`` ("Basic understanding" stays).
_BASIC_RE = re.compile(r"\bBasic\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])")
_ASSIGNED_SECRET_RE = re.compile(
    r"""
    \b[\w-]*?(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key
       |private[_-]?key|auth[_-]?token|access[_-]?token|token)
    ["']?\s*[:=]\s*["']?
    ([^\s"',;}]{4,})
    """,
    re.VERBOSE | re.IGNORECASE,
)
_ENTROPY_CANDIDATE_RE = re.compile(r"(?<![A-Za-z0-9+=_-])[A-Za-z0-9+=_-]{32,}")
_PHONE_GROUP = r"[+(]?\d[\d()./-]*"
_PHONE_SEPARATOR = r"(?:[^\S\n]+[-./]?[^\S\n]*|[-./][^\S\n]*)"
_PHONE_RUN_RE = re.compile(rf"{_PHONE_GROUP}(?:{_PHONE_SEPARATOR}{_PHONE_GROUP})*")
#: Digits of the shortest and the longest phone number (E.164).
PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15
#: Most digit groups a written phone number has ("+44 20 7946 0958").
PHONE_MAX_GROUPS = 5
#: Most digit groups of a run whose windows are all tried: a phone number
#: and two more numbers next to it. A longer run is a table of numbers.
PHONE_WINDOW_MAX_RUN = PHONE_MAX_GROUPS + 2
_LINE_RE = re.compile(r"[^\n]+")
_PLACEHOLDER_RE = re.compile(
    "|".join(re.escape(placeholder) for placeholder in PLACEHOLDERS.values())
)


@dataclass(frozen=True)
class Finding:
    """One item of personal data: its kind and where it is in the text."""

    kind: str
    start: int
    end: int
    value: str


def shannon_bits_per_character(text: str) -> float:
    """The Shannon entropy of ``text`` in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check of card numbers."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        digit = int(character)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _secrets(text: str) -> list[Finding]:
    found = [
        Finding(SECRET, m.start(), m.end(), m.group())
        for pattern in (_PEM_RE, _PREFIXED_SECRET_RE)
        for m in pattern.finditer(text)
    ]
    found.extend(
        Finding(SECRET, m.start("credentials"), m.end("credentials"), m["credentials"])
        for m in _AUTHORIZATION_RE.finditer(text)
        if m["scheme"] or any(c.isdigit() for c in m["credentials"])
    )
    for pattern in (_BEARER_RE, _ASSIGNED_SECRET_RE):
        found.extend(
            Finding(SECRET, m.start(1), m.end(1), m.group(1))
            for m in pattern.finditer(text)
        )
    found.extend(
        Finding(SECRET, m.start(1), m.end(1), m.group(1))
        for m in _BASIC_RE.finditer(text)
        if _is_basic_credentials(m.group(1))
    )
    for m in _ENTROPY_CANDIDATE_RE.finditer(text):
        candidate = m.group()
        has_letters = any(c.isalpha() for c in candidate)
        has_digits = any(c.isdigit() for c in candidate)
        if (
            has_letters
            and has_digits
            and shannon_bits_per_character(candidate) >= HIGH_ENTROPY_MIN_BITS
        ):
            found.append(Finding(SECRET, m.start(), m.end(), candidate))
    return found


def _is_basic_credentials(token: str) -> bool:
    """Whether ``token`` is base64 of ``user:password`` (HTTP Basic)."""
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return ":" in decoded and decoded.isprintable()


def _emails(text: str) -> list[Finding]:
    return [
        Finding(EMAIL, m.start(), m.end(), m.group()) for m in _EMAIL_RE.finditer(text)
    ]


def _cards(text: str) -> list[Finding]:
    found = []
    for m in _CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found.append(Finding(CARD_NUMBER, m.start(), m.end(), m.group()))
    return found


def _ip_addresses(text: str) -> list[Finding]:
    found = []
    for m in _IPV4_RE.finditer(text):
        try:
            ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        found.append(Finding(IP_ADDRESS, m.start(), m.end(), m.group()))
    if ":" in text:
        for m in _IPV6_RE.finditer(text):
            candidate = m.group().rstrip(".")
            # "::" alone is a C++ scope or a separator far more often than the
            # unspecified address; require at least one hex digit.
            if candidate.count(":") < 2 or not any(c.isalnum() for c in candidate):
                continue
            try:
                ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            found.append(
                Finding(IP_ADDRESS, m.start(), m.start() + len(candidate), candidate)
            )
    return found


@dataclass(frozen=True)
class _RegionDigits:
    """What a quick check needs of one region's phone metadata."""

    region: str
    country_code: str
    national_number: re.Pattern[str]
    national_prefix: re.Pattern[str] | None
    transform_rule: str | None
    international_prefix: re.Pattern[str] | None


@functools.cache
def _region_digits() -> tuple[_RegionDigits, ...]:
    regions = []
    for region in PHONE_REGIONS:
        metadata = PhoneMetadata.metadata_for_region(region)
        regions.append(
            _RegionDigits(
                region=region,
                country_code=str(metadata.country_code),
                national_number=re.compile(
                    metadata.general_desc.national_number_pattern
                ),
                national_prefix=(
                    re.compile(metadata.national_prefix_for_parsing)
                    if metadata.national_prefix_for_parsing
                    else None
                ),
                transform_rule=metadata.national_prefix_transform_rule or None,
                international_prefix=(
                    re.compile(metadata.international_prefix)
                    if metadata.international_prefix
                    else None
                ),
            )
        )
    return tuple(regions)


def _could_be_valid_in(digits: str, region: _RegionDigits) -> bool:
    """A quick, generous check that ``digits`` (written without ``+``) may
    parse as a valid number of ``region``: some way ``phonenumbers.parse``
    could read them (as they are, without the region's own country code,
    without the national prefix, or after an international dialling prefix)
    fits the region's national-number pattern. It never says no to a number
    the library accepts; it only spares the matcher the hopeless cases."""
    if region.international_prefix is not None and region.international_prefix.match(
        digits
    ):
        return True
    readings = [digits]
    if digits.startswith(region.country_code):
        readings.append(digits[len(region.country_code) :])
    if region.national_prefix is not None:
        for reading in list(readings):
            prefix = region.national_prefix.match(reading)
            if prefix is None:
                continue
            readings.append(reading[prefix.end() :])
            if region.transform_rule:
                readings.append(
                    region.national_prefix.sub(region.transform_rule, reading, count=1)
                )
    return any(region.national_number.fullmatch(reading) for reading in readings)


def _matches_whole(text: str) -> bool:
    """Whether ``text`` is, from end to end, a valid number of a region,
    grouped the way that region writes it.

    An international number (``+`` and a country code) reads the same in
    every region, so one region is asked; a national one is asked only of
    the regions where its digits could be valid at all."""
    if text.lstrip("(").startswith("+"):
        regions = PHONE_REGIONS[:1]
    else:
        digits = "".join(c for c in text if c.isdigit())
        regions = tuple(
            region.region
            for region in _region_digits()
            if _could_be_valid_in(digits, region)
        )
    for region in regions:
        # The matcher parses and validates before it looks at the grouping;
        # asking the two first spares it most windows (a quarter the cost).
        try:
            number = phonenumbers.parse(text, region)
        except NumberParseException:
            continue
        if not phonenumbers.is_valid_number(number):
            continue
        matches = PhoneNumberMatcher(text, region, leniency=Leniency.EXACT_GROUPING)
        for match in matches:
            if match.start == 0 and match.end == len(text):
                return True
    return False


def _windows(groups: list[tuple[int, int]], text: str, *, table: bool):
    """The spans of up to ``PHONE_MAX_GROUPS`` consecutive groups to try as
    a whole number, longest first.

    In a run short enough to be a sentence's numbers: spans at either end
    of the run (a number with a version or a count beside it), spans that
    start at a group written as the start of a phone number (``+``, or an
    area code in brackets) and single groups. In a table (``table``) only
    the last two: a window in the middle of a line of numbers is a table
    cell far more often than a phone number, and trying them all cost a
    minute for a 37 KB table."""
    last = len(groups) - 1
    for size in range(min(PHONE_MAX_GROUPS, len(groups)), 0, -1):
        for first in range(len(groups) - size + 1):
            start, end = groups[first][0], groups[first + size - 1][1]
            marked = text[start] in "+("
            at_edge = first == 0 or first + size - 1 == last
            if size == 1 or marked or (at_edge and not table):
                yield start, end


def _phones(text: str) -> list[Finding]:
    # Phone numbers never span lines (the matcher's candidates do not
    # either), so lines are searched one by one and remembered: the second
    # pass of ``anonymize_text`` and repeated lines cost nothing.
    found: list[Finding] = []
    for line in _LINE_RE.finditer(text):
        if sum(c.isdigit() for c in line.group()) < PHONE_MIN_DIGITS:
            continue
        if len(line.group()) <= CACHED_TEXT_MAX_LENGTH:
            in_line = _line_phones_cached(line.group())
        else:
            in_line = _line_phones(line.group())
        found.extend(
            Finding(PHONE, line.start() + f.start, line.start() + f.end, f.value)
            for f in in_line
        )
    return found


@functools.lru_cache(maxsize=8192)
def _line_phones_cached(text: str) -> tuple[Finding, ...]:
    return tuple(_line_phones(text))


def _line_phones(text: str) -> list[Finding]:
    """The phone numbers in one line of text."""
    # The matcher is the slow part: run it only when some run of digit
    # groups holds the seven digits the shortest phone number has.
    runs = [
        run
        for run in _PHONE_RUN_RE.finditer(text)
        if sum(c.isdigit() for c in run.group()) >= PHONE_MIN_DIGITS
    ]
    if not runs:
        return []

    # A run of more groups than a phone number and its neighbours have
    # ("12 30 45 1999 2000") is a table of numbers: the matcher reads every
    # stretch of it as a candidate, which costs about a millisecond a line
    # in each region and finds numbers nobody wrote as one. It is blanked
    # out for the matcher (positions stay) and searched below for what is
    # written as a phone number.
    grouped = []
    masked = list(text)
    for run in runs:
        groups = [
            (run.start() + m.start(), run.start() + m.end())
            for m in re.finditer(r"\S+", run.group())
        ]
        table = len(groups) > PHONE_WINDOW_MAX_RUN
        if table:
            masked[run.start() : run.end()] = " " * (run.end() - run.start())
        grouped.append((run, groups, table))

    # TODO: a line of at most seven numbers still costs the matcher in ten
    # regions (1 to 4 ms), so a long table of such short lines takes
    # seconds; anonymizing runs outside the write lock, so this is the
    # person's wait, not other writers'.
    found: list[Finding] = []
    if any(not table for _, _, table in grouped):
        masked_text = "".join(masked)
        unique = {
            Finding(PHONE, match.start, match.end, match.raw_string)
            for region in PHONE_REGIONS
            for match in PhoneNumberMatcher(
                masked_text, region, leniency=Leniency.VALID
            )
        }
        found = sorted(unique, key=lambda f: (f.start, f.end))
    starts = [f.start for f in found]

    # The matcher takes a run of digit groups as one candidate and gives up
    # when the run is too long ("(415) 555-2671 3.11.4"), so windows of up
    # to PHONE_MAX_GROUPS groups of each run are tried as well, unless a
    # finding already covers them. Windows cut out of longer runs lose the
    # matcher's date and time exclusions, so they must be grouped exactly as
    # the region writes its numbers; like the matcher, a window that touches
    # a letter is not a number of its own ("id4155552671").
    windows: list[Finding] = []
    for run, groups, table in grouped:
        if len(groups) < 2 and not table:
            continue
        first = bisect.bisect_left(starts, run.start())
        last = bisect.bisect_left(starts, run.end())
        covering = found[first:last]
        for start, end in _windows(groups, text, table=table):
            window = text[start:end]
            digits = sum(c.isdigit() for c in window)
            if not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS:
                continue
            if (start > 0 and text[start - 1].isalpha()) or (
                end < len(text) and text[end].isalpha()
            ):
                continue
            if any(f.start <= start and end <= f.end for f in covering):
                continue
            if _matches_whole(window):
                finding = Finding(PHONE, start, end, window)
                covering.append(finding)
                windows.append(finding)
    return sorted([*found, *windows], key=lambda f: (f.start, f.end))


_DETECTORS = {
    SECRET: _secrets,
    EMAIL: _emails,
    CARD_NUMBER: _cards,
    IP_ADDRESS: _ip_addresses,
    PHONE: _phones,
}


@functools.lru_cache(maxsize=4096)
def _find_cached(text: str) -> tuple[Finding, ...]:
    return tuple(_find(text))


def find_personal_data(text: str) -> list[Finding]:
    """Every item of personal data in ``text``, without overlaps, in order.

    Rule: overlapping findings are resolved by ``KIND_PRIORITY`` and then by
    length (the longer wins); a finding that is itself a placeholder, or
    lies inside one, is ignored, so anonymized text is found clean. Results
    are cached: records repeat their system prompts and greetings.
    """
    if len(text) > CACHED_TEXT_MAX_LENGTH:
        return _find(text)
    return list(_find_cached(text))


def _find(text: str) -> list[Finding]:
    taken: list[Finding] = [
        Finding("placeholder", m.start(), m.end(), m.group())
        for m in _PLACEHOLDER_RE.finditer(text)
    ]
    accepted: list[Finding] = []
    for kind in KIND_PRIORITY:
        candidates = sorted(
            _DETECTORS[kind](text), key=lambda f: (-(f.end - f.start), f.start)
        )
        for finding in candidates:
            if finding.start == finding.end:
                continue
            if any(
                finding.start < other.end and other.start < finding.end
                for other in taken
            ):
                continue
            taken.append(finding)
            accepted.append(finding)
    return sorted(accepted, key=lambda f: f.start)


def _replace_once(text: str) -> tuple[str, int]:
    findings = find_personal_data(text)
    for finding in reversed(findings):
        text = text[: finding.start] + PLACEHOLDERS[finding.kind] + text[finding.end :]
    return text, len(findings)


def anonymize_text(text: str) -> str:
    """``text`` with every item of personal data replaced by its placeholder.

    Rule: the replacement is repeated until nothing is found, so the result
    holds no detected item and anonymizing it again changes nothing.
    """
    # Each pass replaces at least one finding with a shorter-or-equal marker
    # that is never detected again, so the loop ends; the bound is a guard.
    for _ in range(10):
        text, replaced = _replace_once(text)
        if not replaced:
            return text
    log.warning("anonymizing a text did not settle after 10 passes")
    return text


def _number_text(value: Any) -> str | None:
    """The digits to check of a JSON number, or ``None`` when it cannot hold
    a phone or card number.

    Rule: integers of ``NUMBER_MIN_DIGITS`` digits or more, and floats
    without a fraction in that range up to 19 digits (``4155552671.0``, a
    phone number that went through a spreadsheet), are checked as their
    integer digits; other numbers are measurements and stay."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= 10**NUMBER_MAX_DIGITS:
            return None
        value = int(value)
    if not isinstance(value, int) or abs(value) < 10 ** (NUMBER_MIN_DIGITS - 1):
        return None
    return str(value)


def _anonymize_number(value: int | float) -> int | float | str:
    text = _number_text(value)
    if text is None:
        return value
    findings = find_personal_data(text)
    if not findings:
        return value
    return PLACEHOLDERS[findings[0].kind]


def anonymize_json(value: Any) -> Any:
    """A copy of a JSON document with personal data replaced everywhere.

    Rule: strings are anonymized in values and in object keys; keys that
    become equal get ``#2``, ``#3`` suffixes; numbers of seven digits or
    more (integers, and floats without a fraction) that hold a phone or
    card number become the placeholder string.
    """
    if isinstance(value, str):
        return anonymize_text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return _anonymize_number(value)
    if isinstance(value, list | tuple):
        return [anonymize_json(item) for item in value]
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            new_key = anonymize_text(str(key))
            if new_key in result:
                suffix = 2
                while f"{new_key}#{suffix}" in result:
                    suffix += 1
                new_key = f"{new_key}#{suffix}"
            result[new_key] = anonymize_json(item)
        return result
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def find_personal_data_in_json(value: Any) -> list[Finding]:
    """Every finding in the strings (values and keys) and numbers of a
    JSON document, in document order."""
    found: list[Finding] = []
    if isinstance(value, str):
        found.extend(find_personal_data(value))
    elif isinstance(value, int | float):
        text = _number_text(value)
        if text is not None:
            found.extend(find_personal_data(text))
    elif isinstance(value, list | tuple):
        for item in value:
            found.extend(find_personal_data_in_json(item))
    elif isinstance(value, dict):
        for key, item in value.items():
            found.extend(find_personal_data(str(key)))
            found.extend(find_personal_data_in_json(item))
    return found
