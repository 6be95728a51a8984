"""Does the caller's own request pass botocore's parameter validation? Cheaply, turn after turn.

The instrumentation sends an invalid request exactly as built, so that botocore's error names the
caller's own block indexes. Validating every request in full would cost as much again as
botocore's own validation; instead what passed before is remembered and only what is new is
validated: each top-level parameter (the tool config, the system list, the inference config...)
as compared with the last valid one (:mod:`._unchanged`), or else by its exact serialized form
(``marshal``: types, values and key order), and the messages a chat re-sends by
:mod:`._unchanged` too; new text-only messages and the model id quickly, as botocore would
(:mod:`._quick_validation`). A part that cannot be serialized (a custom mapping, a file object)
is validated every time.
"""

from __future__ import annotations

import marshal
import threading
from collections.abc import Mapping
from typing import Any

from botocore.validate import ParamValidator

from ._quick_validation import TextOnly
from ._unchanged import Seen, most_shared, plain_copy, remember, same

#: Top-level parameters validated every time: the (required) model id, and the messages,
#: which are remembered one by one.
ALWAYS = frozenset({"modelId", "messages"})
#: Valid message histories kept (concurrent conversations).
RECENT_HISTORIES = 8
#: botocore's validator keeps no state between calls.
_VALIDATOR = ParamValidator()


class ValidParts:
    """Request parts that passed validation (bounded: cleared past ``max_bytes``)."""

    def __init__(self, max_bytes: int = 16 << 20) -> None:
        self.max_bytes = max_bytes
        self._valid: set[bytes] = set()
        self._size = 0
        self._histories: tuple[tuple[str, Seen], ...] = ()
        self._last: dict[tuple[str, str], Any] = {}
        """The last valid value of each whole part (by operation), as a plain copy."""
        self._lock = threading.Lock()

    def invalid(self, params: Mapping[str, Any], operation: Any) -> bool:
        """Whether ``params`` fail botocore's validation for ``operation``."""
        rest = dict(params)
        tag = str(operation.name)
        fresh, copies = [], {}
        for name, value in params.items():
            if name in ALWAYS:
                continue
            if same(value, self._last.get((tag, name))):
                del rest[name]
                continue
            key = _serialized(tag, name, value)
            if key is not None and key in self._valid:
                del rest[name]
            elif key is not None:
                fresh.append(key)
            copies[(tag, name)] = plain_copy(value)
        messages: Any = rest.get("messages")
        history, shared = self._closest(tag, messages)
        quick = TextOnly.of(operation)
        if quick is not None and quick.valid(messages, shared):
            del rest["messages"]
        elif history is not None:
            rest["messages"] = messages[shared:]
        judged = quick is not None and quick.valid_model_id(rest)
        if not judged and _VALIDATOR.validate(rest, operation.input_shape).has_errors():
            return True
        self._keep(fresh)
        self._last.update(copies)
        if type(messages) is list:
            seen = remember(messages, history, shared)
            with self._lock:
                others = tuple(h for h in self._histories if h[1] is not history)
                self._histories = ((tag, seen), *others)[:RECENT_HISTORIES]
        return False

    def _closest(self, tag: str, messages: Any) -> tuple[Seen | None, int]:
        """The valid history ``messages`` share most leading messages with, and how many."""
        mine = [seen for operation, seen in self._histories if operation == tag]
        at, shared = most_shared(messages, mine)
        return (mine[at] if at is not None else None), shared

    def _keep(self, fresh: list[bytes]) -> None:
        size = sum(map(len, fresh))
        with self._lock:
            if self._size + size > self.max_bytes:
                self._valid, self._size = set(), 0
            self._valid.update(fresh)
            self._size += size


def _serialized(tag: str, part: str, value: Any) -> bytes | None:
    """``value`` exactly, as bytes: marshal format 2 (no back-references, so equal data gives
    equal bytes however it is shared), after the operation and part names."""
    try:
        return f"{tag}|{part}|".encode() + marshal.dumps(value, 2)
    except (ValueError, TypeError):  # not plain data: validate it every time
        return None
