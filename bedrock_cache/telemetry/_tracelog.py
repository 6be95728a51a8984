"""The trace log: one JSON line per call, bounded by size with one rollover file.

A line holds the call's time, ids, model, plan (checkpoint positions and TTLs), usage, cost and
miss explanation -- :meth:`CallReport.as_dict` plus the context around it -- and no prompt text
unless asked for (``include_request``: then the request as sent, which ``bedrock-cache lint``
checks). Writing is thread-safe and never fails the call.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._callhooks import active_call
from ._faults import log_fault
from ._ids import current_ids

if TYPE_CHECKING:
    from .._session import CallReport

#: Environment variable naming a trace log for every :class:`BedrockCache` made without one.
TRACE_LOG_ENV = "BEDROCK_CACHE_TRACE_LOG"
#: Set to ``1`` to log each request as sent (prompt text included) in the env-named log.
TRACE_LOG_REQUESTS_ENV = "BEDROCK_CACHE_TRACE_LOG_REQUESTS"
#: Default size at which the log rolls over to ``<path>.1`` (replacing an older rollover).
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: Version of the line format; readers skip lines of a newer major version they do not know.
FORMAT_VERSION = 1


_shared: dict[Path, TraceLog] = {}
_shared_lock = threading.Lock()


class TraceLog:
    """Appends one JSON line per recorded call to ``path``; at most ``2 * max_bytes`` on disk.

    One instance per file is shared by every cache in the process (:meth:`at`), so concurrent
    writers never interleave lines. Usable as a report listener: ``cache.add_listener(log)``.

    Args:
        path: the log file; its directory is created on first write.
        max_bytes: size at which the file is renamed to ``<path>.1`` and a new one started.
        include_request: also log each request as sent (``"request"``: prompt text, checkpoints
            included; bytes as base64). Off by default: the log then holds no prompt text.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        include_request: bool = False,
    ) -> None:
        if not str(path):
            raise ValueError("trace_log needs a file path, e.g. 'bedrock-cache.jsonl'")
        if max_bytes < 1024:
            raise ValueError("max_bytes must be at least 1024 (bytes per file before rollover)")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.include_request = include_request
        self._lock = threading.Lock()

    @classmethod
    def at(cls, path: str | os.PathLike[str], *, include_request: bool = False) -> TraceLog:
        """The process-wide log for ``path`` (created on first use, with ``include_request``)."""
        key = Path(path).absolute()
        with _shared_lock:
            log = _shared.get(key)
            if log is None:
                log = _shared[key] = cls(path, include_request=include_request)
            return log

    @property
    def rollover_path(self) -> Path:
        return self.path.with_name(self.path.name + ".1")

    def __call__(self, report: CallReport) -> None:
        """Write ``report``'s line; a fault is logged (rate-limited), never raised."""
        try:
            record = trace_record(report, include_request=self.include_request)
            line = json.dumps(record, separators=(",", ":"), default=_plain) + "\n"
            data = line.encode()
            with self._lock:
                self._write(data)
        except Exception as exc:
            log_fault(f"writing the trace log {self.path}", exc)

    def _write(self, data: bytes) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            size = 0
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if size and size + len(data) > self.max_bytes:
            os.replace(self.path, self.rollover_path)
        with open(self.path, "ab") as file:
            file.write(data)

    def __repr__(self) -> str:
        return f"TraceLog({str(self.path)!r}, max_bytes={self.max_bytes})"


def trace_record(report: CallReport, *, include_request: bool = False) -> dict[str, Any]:
    """The trace-log line of ``report`` as a dict, with the ids of the current context (and the
    request as sent, when ``include_request`` and the call is active in this context)."""
    record: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "ids": current_ids(),
        **report.as_dict(),
    }
    if report.plan is not None:
        detail = report.plan.as_dict()
        record["checkpoints"] = detail["checkpoints"]
        record["user_checkpoints"] = detail["user_checkpoints"]
    if include_request:
        call = active_call()
        record["request"] = dict(call.request) if call is not None else None
    return record


def _plain(value: Any) -> Any:
    """JSON for what ``json`` cannot write: bytes (images, documents) as base64."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def read_trace_log(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every call in the log at ``path``, oldest first (its rollover file too).

    Lines that are not JSON objects (a line cut short by a crash) are skipped.
    """
    current = Path(path)
    if not current.exists():
        raise FileNotFoundError(
            f"no trace log at {current}; run with trace_log= or {TRACE_LOG_ENV} set first"
        )
    for part in (current.with_name(current.name + ".1"), current):
        if not part.exists():
            continue
        with open(part, encoding="utf-8", errors="replace") as file:
            for line in file:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("v", 1) == FORMAT_VERSION:
                    yield record
