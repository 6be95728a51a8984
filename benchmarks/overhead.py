"""The plugin's overhead: its time as a ratio to the framework's own time for the same call.

The transport is stubbed at botocore's ``before-call`` event, which returns a canned Converse
response, so no HTTP is timed: what remains is the framework (message conversion, botocore
parameter validation and serialization, response parsing) and, when instrumented, the plugin
(planning in ``before-parameter-build``, recording in ``after-call``). Two kinds of turn are
timed: a *new question* re-sends the same history with another last question (a regenerated or
edited question), and a *next turn* adds the answer to the previous question and a new question
to a conversation whose two previous turns were sent just before (untimed, through the same
model), as a chat does every turn; each next turn is another conversation, so every timed call
reads two new messages, after history the plugin has seen more than once. Plain and instrumented
calls alternate. Only the framework's call is timed: the turn's messages (and the previous turns)
are built and sent before the clock starts. The stub answers last among ``before-call``
handlers, so the plugin's own handlers there are timed too.
``BedrockCache.prepare`` alone is timed on requests of 1,000 and 8,000 blocks, first sight and
next turn, and within the next turn the planner itself
(:func:`~bedrock_cache.plan_checkpoints`: boundaries, valuation, allocation), apart from reading
the request (which compares the re-sent history with the last one, in time proportional to it)
and explaining misses. Times are CPU time of the calling thread (``time.thread_time``), so
other load on the machine does not count.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from bedrock_cache import BedrockCache, Layout, plan_checkpoints, resolve_model
from bedrock_cache._boundaries import boundaries, lookup_keys
from bedrock_cache.emulator import BedrockEmulator

from .calls import filler
from .workloads._common import SONNET_45, agent_tools

SIZES = (10, 50, 200)
REPEATS = 100
WARMUP = 3


def canned_response() -> dict[str, Any]:
    """A fresh Converse response each call: langchain-aws rewrites parts of the one it gets (a
    shared one would grow on every call, and with it the framework's time)."""
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": "Canned answer."}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 100, "outputTokens": 3, "totalTokens": 103},
        "metrics": {"latencyMs": 1},
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }


def stub_transport(client: Any) -> None:
    """Answer every Converse call with :func:`canned_response` before any HTTP is sent (last,
    after every other ``before-call`` handler, so call it after instrumenting the client)."""
    from botocore.awsrequest import AWSResponse

    def canned(**_: Any) -> tuple[Any, dict[str, Any]]:
        http = AWSResponse("http://127.0.0.1/stub", 200, {}, None)
        return http, canned_response()

    client.meta.events.register_last("before-call.bedrock-runtime.Converse", canned)


#: The kinds of turn timed (see the module doc).
NEW_QUESTION, NEXT_TURN = "new question", "next turn"
SHAPES = (NEW_QUESTION, NEXT_TURN)


def _texts(count: int, turn: int) -> list[tuple[str, str]]:
    """``count`` alternating user/assistant texts; the last (a question) changes per turn."""
    texts = [
        ("user" if n % 2 == 0 else "assistant", filler(150, f"overhead-{n}"))
        for n in range(count - 1)
    ]
    return [*texts, ("user", filler(80, f"overhead-question-{turn}"))]


def _conversation(count: int, turn: int) -> list[tuple[str, str]]:
    """Conversation ``turn``: ``count`` (odd) user/assistant texts, each question 80 tokens and
    each answer 150, from the first question to the last."""
    return [
        ("user", filler(80, f"question-{turn}-{n}"))
        if n % 2 == 0
        else ("assistant", filler(150, f"answer-{turn}-{n}"))
        for n in range(count)
    ]


def turn_texts(
    shape: str, size: int, turn: int
) -> tuple[list[list[tuple[str, str]]], list[tuple[str, str]]]:
    """The requests (their texts) sent before the timed call -- none for a new question, whose
    history the turns before it sent; a next turn's conversation at its two previous turns --
    and the texts of the timed call. A next turn has ``size + 1`` messages, so that it starts
    and ends with a question."""
    if shape == NEW_QUESTION:
        return [], _texts(size, turn)
    texts = _conversation(size + 1, turn)
    return [texts[:-4], texts[:-2]], texts


def _timed(call: Callable[[], object]) -> float:
    started = time.thread_time()
    call()
    return time.thread_time() - started


#: Builds one turn's call (its messages, and sends the turns before it) and returns the call
#: itself, which alone is timed.
Turn = Callable[[int], Callable[[], object]]


def _paired_ms(plain: Turn, planned: Turn) -> tuple[float, float]:
    """Median ms of the plain call, and the median of what each planned call took more than the
    plain one timed just before it, on the same turn: pairs side by side in time, so a change in
    the host's load while they run moves both calls of a pair, not the difference."""
    for turn in range(WARMUP):
        plain(-1 - turn)()
        planned(-1 - turn)()
    plain_times, differences = [], []
    for turn in range(REPEATS):
        alone = _timed(plain(turn))
        plain_times.append(alone)
        differences.append(_timed(planned(turn)) - alone)
    return statistics.median(plain_times) * 1000, statistics.median(differences) * 1000


def _langchain(size: int, instrumented: bool, connection: dict[str, str], shape: str) -> Turn:
    from langchain_aws import ChatBedrockConverse
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    from langchain_bedrock_cache import with_bedrock_cache

    from .calls import Call
    from .strategies.langchain import tool_specs

    llm = ChatBedrockConverse(model=SONNET_45, **connection)
    if instrumented:
        with_bedrock_cache(llm, BedrockCache())
    stub_transport(llm.client)
    bound = llm.bind_tools(tool_specs(Call(0.0, (), (), agent_tools())))
    system = SystemMessage(filler(2_000, "overhead-system"))

    def messages(texts: list[tuple[str, str]]) -> list[Any]:
        return [HumanMessage(text) if role == "user" else AIMessage(text) for role, text in texts]

    def call(turn: int) -> Callable[[], object]:
        before, texts = turn_texts(shape, size, turn)
        for earlier in before:
            bound.invoke([system, *messages(earlier)])
        history = messages(texts)
        return lambda: bound.invoke([system, *history])

    return call


def _llama_index(size: int, instrumented: bool, connection: dict[str, str], shape: str) -> Turn:
    from llama_index.core.base.llms.types import ChatMessage
    from llama_index.core.tools import FunctionTool
    from llama_index.llms.bedrock_converse import BedrockConverse

    from llama_index_bedrock_cache import with_bedrock_cache

    llm = BedrockConverse(model=SONNET_45, max_retries=1, **connection)
    if instrumented:
        with_bedrock_cache(llm, BedrockCache())
    stub_transport(llm._client)

    def lookup(query: str) -> str:
        """Look up records."""
        return query

    tools = [
        FunctionTool.from_defaults(fn=lookup, name=t.name, description=t.description)
        for t in agent_tools()
    ]
    system = ChatMessage(role="system", content=filler(2_000, "overhead-system"))

    def messages(texts: list[tuple[str, str]]) -> list[Any]:
        return [ChatMessage(role=role, content=text) for role, text in texts]

    def call(turn: int) -> Callable[[], object]:
        before, texts = turn_texts(shape, size, turn)
        for earlier in before:
            llm.chat_with_tools(tools, chat_history=[system, *messages(earlier)])
        history = messages(texts)
        return lambda: llm.chat_with_tools(tools, chat_history=[system, *history])

    return call


FRAMEWORKS: dict[str, Callable[[int, bool, dict[str, str], str], Turn]] = {
    "LangChain ChatBedrockConverse": _langchain,
    "LlamaIndex BedrockConverse": _llama_index,
}


def framework_overhead() -> list[tuple[str, str, int, float, float]]:
    """(framework, turn, messages, framework ms, plugin ms) per kind of turn and size."""
    rows = []
    with BedrockEmulator() as emu:  # only for connection settings; no request reaches it
        connection = emu.connection_kwargs
        for name, make in FRAMEWORKS.items():
            for shape in SHAPES:
                for size in SIZES:
                    plain, plugin = _paired_ms(
                        make(size, False, connection, shape), make(size, True, connection, shape)
                    )
                    count = len(turn_texts(shape, size, 0)[1])  # a next turn has one more
                    rows.append((name, shape, count, plain, max(0.0, plugin)))
    return rows


def _wide_request(blocks: int, turn: int) -> dict[str, Any]:
    """A Converse request of ``blocks`` content blocks over messages of 10 blocks each."""
    messages = []
    for number in range(blocks // 10):
        role = "user" if number % 2 == 0 else "assistant"
        content = [{"text": filler(20, f"wide-{number}-{b}")} for b in range(10)]
        messages.append({"role": role, "content": content})
    messages[-1] = {"role": "user", "content": [{"text": f"question {turn}"}] * 10}
    return {"modelId": SONNET_45, "system": [{"text": filler(2_000, "s")}], "messages": messages}


def planning_ms(blocks: int) -> tuple[float, float]:
    """Median ms of ``BedrockCache.prepare``: first sight of the request, and the next turn's
    request after the previous one was planned."""
    first = []
    for turn in range(5):
        request = _wide_request(blocks, turn)
        first.append(_timed(lambda: BedrockCache().prepare(request)))  # noqa: B023
    cache = BedrockCache()
    cache.prepare(_wide_request(blocks, -1))
    following = []
    for turn in range(5):
        request = _wide_request(blocks, turn)
        following.append(_timed(lambda: cache.prepare(request)))  # noqa: B023
    return statistics.median(first) * 1000, statistics.median(following) * 1000


def planner_ms(blocks: int) -> float:
    """Median ms of :func:`~bedrock_cache.plan_checkpoints` on the next turn's request, with
    what the store knows after the turns before it."""
    cache = BedrockCache()
    spec = resolve_model(SONNET_45).spec
    cache.prepare(_wide_request(blocks, -1))
    times = []
    for turn in range(5):
        request = _wide_request(blocks, turn)
        layout = Layout.of(request)
        observations = cache.store.lookup(lookup_keys(boundaries(layout, spec, cache.policy)))
        now = time.time()  # BedrockCache's default clock
        times.append(
            _timed(lambda: plan_checkpoints(layout, spec, cache.policy, observations, now))  # noqa: B023
        )
        cache.prepare(request)
    return statistics.median(times) * 1000


def overhead_report() -> str:
    """The overhead table as printed by ``make bench``."""
    lines = [
        "Overhead: plugin time / framework time for the same call (20 tools, transport stubbed "
        f"at botocore before-call; medians of {REPEATS} calls, thread CPU time)",
        f"  {'framework':<32}{'turn':<14}{'messages':>9}{'framework ms':>14}{'plugin ms':>11}"
        f"{'ratio':>8}",
    ]
    for name, shape, size, plain, plugin in framework_overhead():
        lines.append(
            f"  {name:<32}{shape:<14}{size:>9}{plain:>14.2f}{plugin:>11.2f}{plugin / plain:>8.2f}"
        )
    lines.append(
        "Planning: BedrockCache.prepare on one request, and the planner alone in the next turn "
        "(medians of 5)"
    )
    lines.append(f"  {'blocks':>8}{'first sight ms':>16}{'next turn ms':>14}{'planner ms':>12}")
    for blocks in (1_000, 8_000):
        first, following = planning_ms(blocks)
        lines.append(f"  {blocks:>8}{first:>16.2f}{following:>14.2f}{planner_ms(blocks):>12.2f}")
    return "\n".join(lines)
