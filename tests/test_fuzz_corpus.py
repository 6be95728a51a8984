"""Invariant, over generated traffic: no call fails because of us, no input is changed, and the
stats equal the usage the emulator reported.

Every model in the table x Converse / ConverseStream x boto3 / LangChain / LlamaIndex x random
``CachePolicy`` and ``base_model`` settings x random conversations (system prompt, turns, a
document block and a question, tool use and results).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Case:
    """One generated call pattern: the model, streamed or not, the settings, the conversation."""

    model: str
    stream: bool
    policy: CachePolicy
    base_model: Any
    system: str
    turns: list[tuple[str, list[str]]]

    def cache(self) -> BedrockCache:
        return BedrockCache(self.policy, base_model=self.base_model)


ANY_MODEL = st.sampled_from(MODELS)


def cases(model: st.SearchStrategy[str] = ANY_MODEL) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda model, stream, policy, base_model, conversation: Case(
            model, stream, policy, base_model, *conversation
        ),
        model,
        st.booleans(),
        policies,
        base_models,
        conversations(),
    )


def twice_unchanged(emulator: Emulator, cache: BedrockCache, payload: Any, call: Any) -> None:
    """Make the call twice (the second reads what the first wrote); the caller's input is
    unchanged and the stats equal what the emulator reported."""
    before = copy.deepcopy(payload)
    for _ in range(2):
        assert call(payload)
    assert payload == before
    check(emulator, cache)


@pytest.mark.parametrize("model", MODELS)
@PER_MODEL
@given(data=st.data())
def test_boto3(emulator: Emulator, model: str, data: st.DataObject) -> None:
    case = data.draw(cases(st.just(model)))
    emulator.reset()
    cache = case.cache()
    client = cache.instrument(emulator.client())

    def call(request: dict[str, Any]) -> Any:
        if case.stream:
            return list(client.converse_stream(modelId=model, **request)["stream"])
        return client.converse(modelId=model, **request)

    twice_unchanged(emulator, cache, converse_request(case.system, case.turns), call)


def langchain_messages(system: str, turns: list[tuple[str, list[str]]]) -> list[BaseMessage]:
    result: list[BaseMessage] = [SystemMessage(system)]
    for role, blocks in turns:
        content: list[str | dict[str, Any]] = [{"type": "text", "text": t} for t in blocks]
        result.append(HumanMessage(content) if role == "user" else AIMessage(content))
    return result


@FUZZ
@given(case=cases())
def test_langchain(emulator: Emulator, case: Case) -> None:
    emulator.reset()
    cache = case.cache()
    llm = with_bedrock_cache(
        ChatBedrockConverse(model=case.model, **emulator.connection_kwargs), cache
    )
    call = (lambda m: list(llm.stream(m))) if case.stream else llm.invoke
    twice_unchanged(emulator, cache, langchain_messages(case.system, case.turns), call)


@FUZZ
@given(case=cases())
def test_llama_index(emulator: Emulator, case: Case) -> None:
    emulator.reset()
    cache = case.cache()
    llm = CachingBedrockConverse(model=case.model, cache=cache, **emulator.connection_kwargs)
    messages = [ChatMessage(role="system", content=case.system)] + [
        ChatMessage(role=role, content="\n\n".join(blocks)) for role, blocks in case.turns
    ]
    call = (lambda m: list(llm.stream_chat(m))) if case.stream else llm.chat
    twice_unchanged(emulator, cache, messages, call)
