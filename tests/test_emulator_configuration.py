"""Wrong arguments to the emulator fail where they are passed, saying what to pass instead.

Invariant: every constructor argument and fault-injection parameter is checked when given; the
error names the argument and a value that works (for operations: the ones the emulator serves).
"""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_cache.emulator import BedrockEmulator, ManualClock, SimulatedLatency


@pytest.mark.parametrize(
    ("kwargs", "error", "says"),
    [
        ({"clock": "manual"}, TypeError, "ManualClock()"),
        ({"clock": 0}, TypeError, "now() method"),
        ({"table": {"anthropic.x": {}}}, TypeError, "ModelTable"),
        ({"latency": 50}, TypeError, "SimulatedLatency"),
        ({"port": -1}, ValueError, "1-65535"),
        ({"port": "8080"}, ValueError, "port must be"),
        ({"request_log_size": 0}, ValueError, "at least 1"),
        ({"read_timeout": 0}, ValueError, "more than 0 seconds"),
        ({"read_timeout": "30s"}, TypeError, "seconds"),
        ({"on_request": "print"}, TypeError, "RecordedRequest"),
    ],
)
def test_bad_constructor_arguments_are_refused(
    kwargs: dict[str, Any], error: type[Exception], says: str
) -> None:
    with pytest.raises(error) as raised:
        BedrockEmulator(**kwargs)
    assert says in str(raised.value)


def test_fault_injection_names_the_known_operations(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    with pytest.raises(ValueError) as raised:
        bedrock_emulator.inject_error(operation="converse")
    message = str(raised.value)
    assert "'converse'" in message
    for known in ("Converse", "ConverseStream", "CountTokens", "GetInferenceProfile"):
        assert known in message
    with pytest.raises(ValueError, match="ThrottlingException"):
        bedrock_emulator.inject_error("Throttled")
    with pytest.raises(ValueError, match="at least 1"):
        bedrock_emulator.inject_error(times=0)
    with pytest.raises(ValueError, match="0 or more"):
        bedrock_emulator.inject_stream_error(after_events=-1)
    with pytest.raises(ValueError, match="modelStreamErrorException"):
        bedrock_emulator.inject_stream_error(kind="boom")
    with pytest.raises(TypeError, match=r"Reply\.text"):
        bedrock_emulator.script([42])  # type: ignore[list-item]


def test_a_fault_for_one_operation_spares_the_others(
    bedrock_emulator: BedrockEmulator[ManualClock],
) -> None:
    client = bedrock_emulator.client()
    bedrock_emulator.inject_error("ServiceUnavailableException", operation="ConverseStream")
    request = {
        "modelId": "amazon.nova-2-lite-v1:0",
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
    }
    assert client.converse(**request)["stopReason"] == "end_turn"
    with pytest.raises(client.exceptions.ServiceUnavailableException):
        client.converse_stream(**request)


def test_simulated_latency_takes_no_negative_milliseconds() -> None:
    with pytest.raises(ValueError, match="per_uncached_token_ms must be milliseconds"):
        SimulatedLatency(per_uncached_token_ms=-1)
