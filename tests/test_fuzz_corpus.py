"""Invariant, over generated traffic: no call fails because of us, no input is changed, and the
stats equal the usage the emulator reported.

Every model in the table x Converse / ConverseStream x boto3 / LangChain / LlamaIndex x random
``CachePolicy`` and ``base_model`` settings x random conversations (system prompt, turns, a
document block and a question, tool use and results).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_aws import ChatBedrockConverse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from llama_index.core.llms import ChatMessage

from bedrock_cache import BedrockCache, CachePolicy, CacheUsage, default_table, usage_from_converse
from bedrock_cache.emulator import BedrockEmulator, ManualClock
from langchain_bedrock_cache import with_bedrock_cache
from llama_index_bedrock_cache import CachingBedrockConverse

Emulator = BedrockEmulator[ManualClock]
MODELS = sorted(spec.model_id for spec in default_table().models())
PROFILE = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/fuzz"
SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
#: Every model gets a few examples through boto3; the frameworks sample the models.
PER_MODEL = settings(max_examples=4, deadline=None, suppress_health_check=SLOW)
FUZZ = settings(max_examples=8, deadline=None, suppress_health_check=SLOW)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with BedrockEmulator(clock=ManualClock()) as emulator:
        yield emulator


policies = st.builds(
    CachePolicy,
    cache_tools=st.booleans(),
    cache_system=st.booleans(),
    cache_documents=st.booleans(),
    cache_conversation=st.booleans(),
    static_ttl=st.sampled_from(["5m", "1h", "auto"]),
    skip_one_off_writes=st.booleans(),
    max_checkpoints=st.none() | st.integers(0, 4),
)
base_models = st.none() | st.sampled_from(MODELS) | st.just({PROFILE: MODELS[0]})
texts = st.integers(1, 2_500).map(lambda words: "Context line. " * words)


@st.composite
def conversations(draw: st.DrawFn) -> tuple[str, list[tuple[str, list[str]]]]:
    """A system prompt and turns of (role, text blocks), ending with a user turn."""
    system = draw(texts)
    turns: list[tuple[str, list[str]]] = []
    for _ in range(draw(st.integers(0, 3))):
        turns += [("user", [draw(texts)]), ("assistant", ["Noted."])]
    last = [draw(texts), "What does it say?"] if draw(st.booleans()) else ["What now?"]
    return system, [*turns, ("user", last)]


def converse_request(system: str, turns: list[tuple[str, list[str]]]) -> dict[str, Any]:
    messages = [{"role": role, "content": [{"text": t} for t in blocks]} for role, blocks in turns]
    return {"system": [{"text": system}], "messages": messages}


def emulator_usage(emulator: Emulator) -> CacheUsage:
    total = CacheUsage()
    for record in emulator.requests:
        assert record.error is None, record.error_message  # no call failed because of us
        assert record.usage is not None
        total = total + usage_from_converse(record.usage)
    return total


def check(emulator: Emulator, cache: BedrockCache) -> None:
    assert cache.stats.total().usage == emulator_usage(emulator)
    assert cache.stats.total().requests == len(emulator.requests)
    assert cache.stats.total().unfinished == 0


@pytest.mark.parametrize("model", MODELS)
@PER_MODEL
@given(
    stream=st.booleans(),
    policy=policies,
    base_model=base_models,
    conversation=conversations(),
)
def test_boto3(
    emulator: Emulator,
    model: str,
    stream: bool,
    policy: CachePolicy,
    base_model: Any,
    conversation: tuple[str, list[tuple[str, list[str]]]],
) -> None:
    emulator.reset()
    cache = BedrockCache(policy, base_model=base_model)
    client = cache.instrument(emulator.client())
    request = converse_request(*conversation)
    before = copy.deepcopy(request)
    for _ in range(2):  # the second call reads what the first wrote
        if stream:
            list(client.converse_stream(modelId=model, **request)["stream"])
        else:
            client.converse(modelId=model, **request)
    assert request == before
    check(emulator, cache)


def langchain_messages(system: str, turns: list[tuple[str, list[str]]]) -> list[BaseMessage]:
    result: list[BaseMessage] = [SystemMessage(system)]
    for role, blocks in turns:
        content: list[str | dict[str, Any]] = [{"type": "text", "text": t} for t in blocks]
        result.append(HumanMessage(content) if role == "user" else AIMessage(content))
    return result


@FUZZ
@given(
    model=st.sampled_from(MODELS),
    stream=st.booleans(),
    policy=policies,
    base_model=base_models,
    conversation=conversations(),
)
def test_langchain(
    emulator: Emulator,
    model: str,
    stream: bool,
    policy: CachePolicy,
    base_model: Any,
    conversation: tuple[str, list[tuple[str, list[str]]]],
) -> None:
    emulator.reset()
    cache = BedrockCache(policy, base_model=base_model)
    llm = with_bedrock_cache(ChatBedrockConverse(model=model, **emulator.connection_kwargs), cache)
    messages = langchain_messages(*conversation)
    before = copy.deepcopy(messages)
    for _ in range(2):
        if stream:
            assert list(llm.stream(messages))
        else:
            assert llm.invoke(messages)
    assert messages == before
    check(emulator, cache)


@FUZZ
@given(
    model=st.sampled_from(MODELS),
    stream=st.booleans(),
    policy=policies,
    base_model=base_models,
    conversation=conversations(),
)
def test_llama_index(
    emulator: Emulator,
    model: str,
    stream: bool,
    policy: CachePolicy,
    base_model: Any,
    conversation: tuple[str, list[tuple[str, list[str]]]],
) -> None:
    emulator.reset()
    cache = BedrockCache(policy, base_model=base_model)
    llm = CachingBedrockConverse(model=model, cache=cache, **emulator.connection_kwargs)
    system, turns = conversation
    messages = [ChatMessage(role="system", content=system)] + [
        ChatMessage(role=role, content="\n\n".join(blocks)) for role, blocks in turns
    ]
    before = copy.deepcopy(messages)
    for _ in range(2):
        if stream:
            assert list(llm.stream_chat(messages))
        else:
            assert llm.chat(messages)
    assert messages == before
    check(emulator, cache)
