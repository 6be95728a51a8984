"""An instrumented client accepts and rejects exactly the requests botocore does.

Invariant: for any messages -- text-only ones, and ones that break that form in any way (a wrong
type, a missing or extra key, an empty block, two kinds in one block, a bad model id), with or
without shared context ahead of them that gets a checkpoint (which moves the blocks after it) --
after a valid history or from the start, a call through an instrumented client fails with
botocore's own message exactly when the same call through a plain client does, and succeeds
otherwise.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ParamValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_cache import BedrockCache
from bedrock_cache.emulator import BedrockEmulator

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SYSTEM = [{"text": "You answer questions about orders. " * 400}]
HISTORY = [
    {"role": "user", "content": [{"text": "Where is my order? " * 40}]},
    {"role": "assistant", "content": [{"text": "It left the warehouse today."}]},
]

#: Shared context long enough to get a checkpoint after it, ahead of the blocks that follow: a
#: request botocore rejects would then name indexes shifted by it, were it planned.
CONTEXT = {"text": "Order 1234 shipped on Monday from the north warehouse. " * 200}
texts = st.one_of(st.sampled_from(["Hello?", "", " spaced  out \n"]), st.text(max_size=20))
#: Ways to break a text-only message (or not), each applied to one message.
DEFECTS = [
    "none",
    "none",
    "role int",
    "role None",
    "no role",
    "no content",
    "extra key",
    "content str",
    "content tuple",
    "block str",
    "empty block",
    "two kinds",
    "text and more",
    "misspelt",
    "other kind",
    "text int",
    "text None",
    "text bytes",
    "message list",
]


@st.composite
def messages(draw: st.DrawFn) -> Any:
    content: Any = [{"text": text} for text in draw(st.lists(texts, min_size=1, max_size=2))]
    if draw(st.booleans()):
        content.insert(0, CONTEXT)
    message: dict[str, Any] = {"role": draw(st.sampled_from(["user", "assistant"]))}
    message["content"] = content
    defect = draw(st.sampled_from(DEFECTS))
    last = {"text": "x"}
    broken: dict[str, Any] = {
        "block str": "x",
        "empty block": {},
        "two kinds": {"text": "x", "cachePoint": {"type": "default"}},
        "text and more": {"text": "x", "colour": "blue"},
        "misspelt": {"txt": "x"},
        "other kind": {"json": {"a": 1}},
        "text int": {"text": 5},
        "text None": {"text": None},
        "text bytes": {"text": b"x"},
    }
    if defect in broken:
        last = broken[defect]
    content.append(last)
    if defect == "role int":
        message["role"] = 1
    elif defect == "role None":
        message["role"] = None
    elif defect == "no role":
        del message["role"]
    elif defect == "no content":
        del message["content"]
    elif defect == "extra key":
        message["colour"] = "blue"
    elif defect == "content str":
        message["content"] = "x"
    elif defect == "content tuple":
        message["content"] = tuple(content)
    elif defect == "message list":
        return [message]
    return message


def outcome(client: Any, request: dict[str, Any]) -> str:
    try:
        client.converse(**request)
    except ParamValidationError as exc:
        return f"invalid: {exc}"
    except client.exceptions.ClientError as exc:
        return f"rejected: {exc.response['Error']['Code']}"
    return "ok"


def test_instrumented_calls_are_valid_exactly_when_botocore_says_so() -> None:
    with BedrockEmulator() as emulator:
        plain = emulator.client()
        planned = BedrockCache().instrument(emulator.client())

        @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            st.booleans(),
            st.lists(messages(), min_size=1, max_size=2),
            st.sampled_from([SONNET, SONNET, "", 7]),
        )
        def check(after_history: bool, new: list[Any], model_id: Any) -> None:
            history = [dict(message) for message in HISTORY] if after_history else []
            request = {"modelId": model_id, "system": SYSTEM, "messages": [*history, *new]}
            expected = outcome(plain, request)
            assert outcome(planned, request) == expected
            if after_history:  # the same turn again: now its history was seen before
                assert outcome(planned, request) == expected

        for turn in range(2):  # a history the plugin has read, so later calls share it
            request = {"modelId": SONNET, "system": SYSTEM, "messages": HISTORY[: turn + 1]}
            assert outcome(planned, request) == "ok"
        check()


def test_blocks_after_a_checkpoint_keep_their_errors_in_every_section() -> None:
    """A checkpoint after a long system block or tool schema moves what follows in its list; a
    broken block there is still named at the caller's own index."""
    long_tool = {"toolSpec": {"name": "lookup", "description": "Looks up orders. " * 600}}
    long_tool["toolSpec"]["inputSchema"] = {"json": {"type": "object"}}
    # per section: the request with a broken block after the long one, and the same without it
    cases = {
        "system": ({"system": [*SYSTEM, {"text": 5}]}, {"system": SYSTEM}),
        "tools": (
            {"toolConfig": {"tools": [long_tool, {"toolSpec": {"name": 5}}]}},
            {"toolConfig": {"tools": [long_tool]}},
        ),
    }
    with BedrockEmulator() as emulator:
        plain = emulator.client()
        planned = BedrockCache().instrument(emulator.client())
        for section, (broken, fixed) in cases.items():
            request = {"modelId": SONNET, "messages": HISTORY[:1], **broken}
            expected = outcome(plain, request)
            assert expected.startswith("invalid") and section in expected
            for _ in range(3):  # first sight, then seen before (and planned as such)
                assert outcome(planned, request) == expected
            valid = {"modelId": SONNET, "messages": HISTORY[:1], **fixed}
            assert outcome(planned, valid) == "ok"  # and the same prefix, valid, is planned
