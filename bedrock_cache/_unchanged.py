"""How many leading messages a request shares with one seen before, found in one comparison.

A chat re-sends its whole history every turn. Rather than reading each message again (keying,
hashing, validating), the history seen last time is kept as a private copy and compared with the
new request's messages by ``==``, in C. That comparison is exact only for plain JSON-like text
(``1 == 1.0 == True``, yet they serialize differently), so a message holding anything other than
dicts, lists, strings, bytes and ``None`` ends the shared part: it and what follows are read
anew. A copy, because the caller may change its own lists in place between calls.

Within :func:`one_request` (nothing changes the request meanwhile), a value found equal to a
copy, or copied, is not compared or copied again: the parts of a request that validation
and the layout both keep (the tool schemas, a new message) share one comparison and one copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple

#: Within :func:`one_request`: values known equal to a private copy, by identity.
_PROVEN: ContextVar[dict[int, tuple[Any, Any]] | None] = ContextVar(
    "bedrock_cache_proven", default=None
)


class one_request:  # lower case: used like a function, ``with one_request():``
    """Read one request, unchanged until the block ends, with one comparison per value. (A
    class, not a generator-based context manager: it wraps every planned call.)"""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _PROVEN.set({})

    def __exit__(self, *_: object) -> None:
        _PROVEN.reset(self._token)


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
    proven = _PROVEN.get()
    if proven is not None:
        known = proven.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
    copy = _plain_copy(value)
    if copy is _NOT_PLAIN:
        return None
    if proven is not None:
        _prove(proven, value, copy)
    return copy


def same(value: Any, copy: Any) -> bool:
    """``value`` equals a :func:`plain_copy` (so it serializes exactly as that did)."""
    if copy is None:
        return False
    proven = _PROVEN.get()
    if proven is None:
        return _equal(value, copy)
    known = proven.get(id(value))
    if known is not None and known[0] is value and known[1] is copy:
        return True
    if not _equal(value, copy):
        return False
    _prove(proven, value, copy)
    return True


def _prove(proven: dict[int, tuple[Any, Any]], value: Any, copy: Any) -> None:
    """Note that ``value`` equals ``copy``, and so does each item of a dict its counterpart."""
    proven[id(value)] = (value, copy)
    if type(value) is dict:
        for key, item in value.items():
            proven[id(item)] = (item, copy[key])


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
