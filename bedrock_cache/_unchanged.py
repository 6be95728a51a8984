"""How many leading messages a request shares with one seen before, found in one comparison.

A chat re-sends its whole history every turn. Rather than reading each message again (keying,
hashing), the history seen last time is kept as a private copy and compared with the new
request's messages by ``==``, in C. That comparison is exact only for plain JSON-like text
(``1 == 1.0 == True``, yet they serialize differently), so a message holding anything other than
dicts, lists, strings, bytes and ``None`` ends the shared part: it and what follows are read
anew. A copy, because the caller may change its own lists in place between calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple


class Seen(NamedTuple):
    """Copies of the messages of a request, as far as they can be compared exactly."""

    messages: list[Any]
    """Copies of the leading messages that hold only plain values (never changed)."""


def remember(messages: Sequence[Any], earlier: Seen | None = None, shared: int = 0) -> Seen:
    """A :class:`Seen` of ``messages``, reusing the copies of the first ``shared`` ones (equal to
    ``earlier``'s, as :func:`shared_count` found)."""
    copies = list(earlier.messages[:shared]) if earlier is not None else []
    if len(copies) == shared:
        for message in messages[shared:]:
            copy = plain_copy(message)
            if copy is None:
                break
            copies.append(copy)
    return Seen(copies)


def shared_count(messages: Sequence[Any], seen: Seen) -> int:
    """How many leading ``messages`` equal those of ``seen``: at least all but the last it kept
    (a new turn, or the last question replaced), checked in one comparison, or else found one
    by one. Only a list is compared."""
    known = seen.messages
    if type(messages) is not list:
        return 0
    most = min(len(messages), len(known))
    if most and _equal(messages[: most - 1], known[: most - 1]):
        return most if _equal(messages[most - 1], known[most - 1]) else most - 1
    count = 0
    for new, old in zip(messages, known, strict=False):
        if not _equal(new, old):
            break
        count += 1
    return count


def most_shared(messages: Sequence[Any], candidates: Sequence[Seen]) -> tuple[int | None, int]:
    """Which of ``candidates`` shares the most leading messages with ``messages`` (its index,
    ``None`` if none shares any), and how many; the first that shares all but at most its last
    kept message is taken without looking further."""
    best: tuple[int | None, int] = (None, 0)
    for index, seen in enumerate(candidates):
        shared = shared_count(messages, seen)
        if shared > best[1]:
            best = (index, shared)
        if shared and shared >= len(seen.messages) - 1:
            break
    return best


def plain_copy(value: Any) -> Any | None:
    """A private copy of ``value`` that ``==`` compares exactly, or ``None`` if it holds
    anything but dicts, lists, strings, bytes and ``None``."""
    copy = _plain_copy(value)
    return None if copy is _NOT_PLAIN else copy


def same(value: Any, copy: Any) -> bool:
    """``value`` equals a :func:`plain_copy` (so it serializes exactly as that did)."""
    return copy is not None and _equal(value, copy)


def _equal(new: Any, old: Any) -> bool:
    try:
        return bool(new == old)
    except Exception:  # an exotic value that cannot be compared: not shared
        return False


class _NotPlain:
    pass


_NOT_PLAIN: Any = _NotPlain()
_ATOMS = (str, bytes, type(None))


def _plain_copy(value: Any) -> Any:
    """A copy sharing the immutable leaves, or :data:`_NOT_PLAIN` for anything that ``==`` could
    confuse with a different serialization (numbers, booleans, other objects)."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        copied = {}
        for key, item in value.items():
            if type(key) is not str:
                return _NOT_PLAIN
            copy = _plain_copy(item)
            if copy is _NOT_PLAIN:
                return _NOT_PLAIN
            copied[key] = copy
        return copied
    if kind is list:
        items = []
        for item in value:
            copy = _plain_copy(item)
            if copy is _NOT_PLAIN:
                return _NOT_PLAIN
            items.append(copy)
        return items
    return _NOT_PLAIN
