"""Reading a request with a memo of earlier requests gives exactly the layout a fresh read gives.

Invariant: as a conversation grows turn by turn, is edited in the middle, gains and loses
user checkpoints or changes its tool choice, ``Layout.of(request, memo=...)`` equals
``Layout.of(request)`` (same blocks, positions, sizes, fingerprints and checkpoints).
"""

from __future__ import annotations

import copy
from typing import Any

from bedrock_cache import Layout, cache_point
from bedrock_cache._layout import LayoutMemo

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def tool(name: str) -> dict[str, Any]:
    return {"toolSpec": {"name": name, "description": "d " * 200, "inputSchema": {"json": {}}}}


def test_memoized_layouts_equal_fresh_ones_as_a_conversation_changes() -> None:
    memo = LayoutMemo()
    request: dict[str, Any] = {
        "modelId": MODEL,
        "system": [{"text": "rules " * 500}, cache_point()],
        "toolConfig": {"tools": [tool("a"), tool("b")], "toolChoice": {"auto": {}}},
        "messages": [],
    }
    seen: list[dict[str, Any]] = []
    for turn in range(6):
        request["messages"].append({"role": "user", "content": [{"text": f"question {turn}"}]})
        seen.append(copy.deepcopy(request))
        use = {"toolUse": {"toolUseId": f"t{turn}", "name": "a", "input": {"n": turn}}}
        request["messages"].append({"role": "assistant", "content": [{"text": "ok"}, use]})
        result = {"toolResult": {"toolUseId": f"t{turn}", "content": [{"json": {"n": turn}}]}}
        request["messages"].append({"role": "user", "content": [result, cache_point()]})
        seen.append(copy.deepcopy(request))
    edited = copy.deepcopy(request)
    edited["messages"][2]["content"] = [{"text": "an edited answer"}]
    seen.append(edited)
    choice = copy.deepcopy(request)
    choice["toolConfig"]["toolChoice"] = {"any": {}}
    seen.append(choice)
    for req in [*seen, *seen]:  # the second pass reads everything from the memo
        assert Layout.of(req, memo=memo) == Layout.of(req)
