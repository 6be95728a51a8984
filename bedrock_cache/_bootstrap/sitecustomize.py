"""Loaded by ``bedrock-cache run`` through PYTHONPATH: turns planning on before the app starts.

Equivalent to ``bedrock_cache.instrument_all()`` as the app's first line; at exit the process's
cache numbers go to stderr (unless ``BEDROCK_CACHE_RUN_QUIET=1``). An app's own
``sitecustomize`` further down the path still runs.
"""

import atexit
import importlib
import os
import sys


def _start() -> None:
    import bedrock_cache

    cache = bedrock_cache.instrument_all()
    if os.environ.get("BEDROCK_CACHE_RUN_QUIET") != "1":
        atexit.register(lambda: print(f"bedrock-cache: {cache.summary()}", file=sys.stderr))


def _chain() -> None:
    """Run the next ``sitecustomize`` on the path, the one this file shadows."""
    here = os.path.dirname(os.path.abspath(__file__))
    own = sys.modules.pop("sitecustomize", None)
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    try:
        importlib.import_module("sitecustomize")
    except ImportError:
        pass
    finally:
        sys.path[:] = saved
        if own is not None and "sitecustomize" not in sys.modules:
            sys.modules["sitecustomize"] = own


try:
    _start()
except Exception as exc:  # the app must start even if planning cannot be turned on
    print(f"bedrock-cache: planning is off ({exc})", file=sys.stderr)
_chain()
