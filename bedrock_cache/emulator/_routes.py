"""HTTP routes of the emulated operations, read from the installed botocore's service models.

An operation is served by adding a handler for its botocore name (``"Converse"``,
``"GetInferenceProfile"``, ...); its method, path template and success status come from the
``bedrock-runtime`` or ``bedrock`` model, so the emulator answers exactly where boto3 sends.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

#: The services one emulator endpoint speaks: the runtime and the control plane.
SERVICES = ("bedrock-runtime", "bedrock")


@dataclass(frozen=True)
class Route:
    """One operation's HTTP binding."""

    operation: str
    method: str
    pattern: re.Pattern[str]
    status: int


@dataclass(frozen=True)
class Matched:
    """A request matched to its operation, with its decoded path parameters."""

    route: Route
    params: dict[str, str]


@functools.cache
def _operations() -> dict[str, Mapping[str, Any]]:
    from botocore.loaders import create_loader

    loader = create_loader()
    found: dict[str, Mapping[str, Any]] = {}
    for service in SERVICES:
        model = loader.load_service_model(service, "service-2")
        for name, operation in model["operations"].items():
            found.setdefault(name, operation["http"])
    return found


def _pattern(uri: str) -> re.Pattern[str]:
    path = uri.split("?", 1)[0]
    parts = re.split(r"(\{[^}]+\})", path)
    regex = ""
    for part in parts:
        if part.startswith("{"):
            name = part[1:-1]
            greedy = name.endswith("+")
            regex += f"(?P<{name.rstrip('+')}>{'.+' if greedy else '[^/]+'})"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$")


def routes(operations: Iterable[str]) -> tuple[Route, ...]:
    """Routes of ``operations`` (botocore names). One the installed botocore does not know is
    not served: no client of this botocore can call it anyway."""
    known = _operations()
    result = []
    for name in operations:
        if name not in known:
            continue
        http = known[name]
        status = int(http.get("responseCode", 200))
        result.append(Route(name, http["method"], _pattern(http["requestUri"]), status))
    # Literal paths before templated ones, so /inference-profiles never reads as an identifier.
    return tuple(sorted(result, key=lambda route: route.pattern.pattern.count("(?P")))


def match(table: Iterable[Route], method: str, path: str) -> Matched | None:
    """The route serving ``method path`` (query string ignored), or ``None``."""
    path = path.split("?", 1)[0]
    for route in table:
        found = route.pattern.match(path)
        if found and route.method == method:
            params = {key: unquote(value) for key, value in found.groupdict().items()}
            return Matched(route, params)
    return None
