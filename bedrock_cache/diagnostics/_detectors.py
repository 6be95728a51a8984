"""Dynamic-content detectors: the spans of a text that change from one request to the next.

A timestamp, a date, an epoch number, a UUID or a request id inside a cached prefix makes every
request a new prefix (BEDROCK.md §7). Each detector is a named regular expression; the lint
reports what they find, and the miss explainer uses them to point at the start of the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAYS = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"

#: Detector name -> pattern, most specific first: an ISO timestamp is reported once (not as a date
#: and a time), and 'today is ...' only where no date or time inside it was found.
PATTERNS: dict[str, re.Pattern[str]] = {
    "iso_datetime": re.compile(
        r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    ),
    "uuid": re.compile(
        r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE
    ),
    "request_id": re.compile(
        r"\b(?:(?:request|req|trace|correlation|session|run)[ _-]?id\b[\"']?\s*[:=]\s*[\"']?"
        r"[\w-]{6,}|(?:req|msg|run|trace)_[A-Za-z0-9]{8,})",
        re.IGNORECASE,
    ),
    "iso_date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
    "natural_date": re.compile(
        rf"\b(?:{_DAYS},?\s+)?(?:{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
        rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\.?,?\s+\d{{4}})\b",
        re.IGNORECASE,
    ),
    "time": re.compile(r"\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?[ap]\.?m\.?)?\b", re.IGNORECASE),
    "epoch": re.compile(r"(?<![\d.])1[5-9]\d{8}(?:\d{3}(?:\d{3})?)?(?:\.\d+)?(?!\.?\d)"),
    "today_is": re.compile(
        r"\b(?:today(?:'s date)? is|current (?:date|time|datetime)(?: is)?|the date is"
        r"|the time is|as of)\b[:\s]*\S[^\n.]{0,60}",
        re.IGNORECASE,
    ),
}

#: What each detector finds, for messages.
DESCRIPTIONS = {
    "today_is": "a 'today is ...' statement",
    "iso_datetime": "a timestamp",
    "uuid": "a UUID",
    "request_id": "a request id",
    "iso_date": "a date",
    "natural_date": "a date",
    "time": "a time of day",
    "epoch": "an epoch timestamp",
}


@dataclass(frozen=True)
class DynamicSpan:
    """One piece of text that changes between requests: ``text[start:end]`` matched ``kind``."""

    kind: str
    start: int
    end: int

    @property
    def description(self) -> str:
        return DESCRIPTIONS.get(self.kind, self.kind)


def find_dynamic_content(text: str) -> list[DynamicSpan]:
    """Every dynamic span in ``text``, in order; overlapping matches are reported once."""
    found: list[DynamicSpan] = []
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            start, end = match.span()
            if not any(s.start < end and start < s.end for s in found):
                found.append(DynamicSpan(kind, start, end))
    return sorted(found, key=lambda span: span.start)


def dynamic_span_near(text: str, start: int, end: int) -> DynamicSpan | None:
    """The first dynamic span overlapping ``text[start:end]``, if any."""
    for span in find_dynamic_content(text):
        if span.start < end and start < span.end:
            return span
    return None
