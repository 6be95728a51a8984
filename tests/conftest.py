"""Shared test setup.

The ``bedrock_emulator`` fixture comes from the installed ``pytest11`` entry point
(``bedrock_cache.emulator.pytest_plugin``); do not list it in ``pytest_plugins`` as well.
"""

from __future__ import annotations

import importlib.util
import json
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _at_least(distribution: str, floor: tuple[int, ...]) -> bool:
    try:
        installed = version(distribution)
    except PackageNotFoundError:
        return False
    parts = tuple(int(p) for p in re.findall(r"\d+", installed)[: len(floor)])
    return parts >= floor


def _bedrock_runtime_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("bedrock-runtime")


def _bedrock_runtime_operations() -> list[str]:
    return list(_bedrock_runtime_model().operation_names)


@pytest.fixture(scope="session")
def client_sends_ttl() -> bool:
    """The installed botocore can send a cachePoint ``ttl`` (1.43 and later; older ones refuse
    it client-side, so there 1h entries are off and no ``ttl`` is ever sent)."""
    return "ttl" in _bedrock_runtime_model().shape_for("CachePointBlock").members


#: ``make test-lowest`` also runs the suite on the langchain-core 0.3 line, where langchain 1.x
#: (the ``[agents]`` extra: ``create_agent`` and its middleware) cannot be installed, without
#: the ``[llama-index]`` extra (its floor needs a newer boto3 than the core's), and with a
#: langchain-aws that predates its own caching strategy (the benchmark's peer), and with a
#: botocore that predates CountTokens. Test modules that
#: need either are left out there, and the run says which and why.
_NEEDS: list[tuple[re.Pattern[str], bool, str]] = [
    (
        re.compile(  # not `module.BedrockCacheMiddleware`: that is the lazy import's own test
            r"langchain\.agents|(?<![.\w])BedrockCacheMiddleware"
            r"|from integrations\.langchain import"
        ),
        _importable("langchain.agents.middleware"),
        "langchain >= 1.0 (the [agents] extra)",
    ),
    (
        re.compile(r"^(from|import) (llama_index|integrations\.llama_index)", re.MULTILINE),
        _importable("llama_index.llms.bedrock_converse"),
        "the [llama-index] extra",
    ),
    (
        re.compile(r"\bChatBedrock\b"),
        _at_least("langchain-aws", (1, 9, 1)),
        "langchain-aws >= 1.9.1: the ChatBedrock (InvokeModel) usage these tests pin",
    ),
    (
        re.compile(r"from benchmarks"),
        _importable("langchain_aws.middleware"),
        "a langchain-aws with its own caching middleware (the benchmark's peer)",
    ),
    (
        re.compile(r"\.count_tokens\("),
        "CountTokens" in _bedrock_runtime_operations(),
        "a botocore whose bedrock-runtime model has CountTokens (newer than the floor)",
    ),
]
_left_out: dict[str, str] = {}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    text = collection_path.read_text("utf-8")
    for pattern, available, reason in _NEEDS:
        if not available and pattern.search(text):
            _left_out[collection_path.name] = reason
            return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A notebook that needs what this environment lacks is skipped, saying what it needs."""
    for item in items:
        params = getattr(item, "callspec", None)
        path = params.params.get("path") if params is not None else None
        if not isinstance(path, Path) or path.suffix != ".ipynb":
            continue
        cells = json.loads(path.read_text("utf-8")).get("cells", [])
        code = "\n".join("".join(c.get("source", [])) for c in cells if c["cell_type"] == "code")
        for pattern, available, reason in _NEEDS:
            if not available and pattern.search(code):
                item.add_marker(pytest.mark.skip(reason=f"needs {reason}"))
                break


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for name, reason in sorted(_left_out.items()):
        terminalreporter.write_line(f"left out {name}: needs {reason}")
