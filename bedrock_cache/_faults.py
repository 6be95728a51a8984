"""Readable failure: a fault inside the plugin is reported once a minute, never per call.

Every place that catches an exception calls :func:`fault`: the first occurrence of a distinct
fault (where it happened, and the exception's type) is one ``WARNING`` line; repeats within the
next minute are counted and reported with the next line. Tracebacks go to ``DEBUG`` only. No
exception message is logged (it may quote the prompt). :func:`warn_user` points a ``warnings``
warning at the user's own frame, past this package and the frameworks it runs inside.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import sysconfig
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

logger = logging.getLogger("bedrock_cache")

#: Seconds between two log lines about the same fault.
INTERVAL = 60.0
_DISTINCT = 1024
#: Packages whose frames a warning skips to reach the user's code.
_LIBRARIES = (
    "bedrock_cache",
    "langchain_bedrock_cache",
    "llama_index_bedrock_cache",
    "langchain",
    "langchain_core",
    "langchain_aws",
    "langgraph",
    "langsmith",
    "llama_index",
    "llama_index_instrumentation",
    "botocore",
    "boto3",
    "pydantic",
)


class FaultLog:
    """Rate-limits fault lines per distinct fault; thread-safe and bounded."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        # fault key -> (time of its last line, occurrences since)
        self._seen: OrderedDict[tuple[str, str], tuple[float, int]] = OrderedDict()

    def report(self, where: str, exc: BaseException | None = None) -> bool:
        """Log ``where`` (what failed and what happened instead) unless it was logged in the
        last minute; ``True`` if a line was written."""
        key = (where, type(exc).__name__ if exc is not None else "")
        now = self._clock()
        with self._lock:
            last, suppressed = self._seen.get(key, (float("-inf"), 0))
            if now - last < INTERVAL:
                self._seen[key] = (last, suppressed + 1)
                return False
            self._seen[key] = (now, 0)
            self._seen.move_to_end(key)
            while len(self._seen) > _DISTINCT:
                self._seen.popitem(last=False)
        cause = f" ({key[1]})" if exc is not None else ""
        repeats = f"; {suppressed} more since the last report" if suppressed else ""
        logger.warning("bedrock_cache: %s%s%s", where, cause, repeats)
        if exc is not None and logger.isEnabledFor(logging.DEBUG):
            logger.debug("bedrock_cache: %s", where, exc_info=exc)
        return True


_LOG = FaultLog()


def fault(where: str, exc: BaseException | None = None) -> None:
    """Report a fault the plugin caught (see the module doc); never raises."""
    with contextlib.suppress(Exception):  # logging itself failed; the call must go on
        _LOG.report(where, exc)


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first frame outside this package, the frameworks
    and the standard library: the user's line that set this in motion."""
    warnings.warn(message, category, stacklevel=_user_stacklevel())


def _library_paths() -> tuple[str, ...]:
    paths = [sysconfig.get_paths()["stdlib"]]
    for name in _LIBRARIES:
        spec = find_spec(name) if name not in sys.modules else sys.modules[name].__spec__
        for location in (spec.submodule_search_locations or []) if spec else []:
            paths.append(str(Path(location)))
    return tuple(paths)


_PATHS: tuple[str, ...] | None = None


def _user_stacklevel() -> int:
    global _PATHS
    if _PATHS is None:
        _PATHS = _library_paths()
    frame = sys._getframe(2)  # warn_user's caller: stacklevel 2 of warn_user's warnings.warn
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PATHS):
        frame = frame.f_back
        level += 1
    return level
