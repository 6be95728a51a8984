"""The emulator answers anything malformed with an AWS-shaped error and never stalls or grows.

Invariant: bad JSON, a body of the wrong shape, missing or lying framing headers and a body that
never finishes each get a 4xx JSON answer with ``x-amzn-ErrorType`` (boto3 raises the named
error), a stalled client never delays anyone else, and however many requests it serves the
emulator keeps only the recent ones -- with running totals over all of them.
"""

from __future__ import annotations

import json
import resource
import select
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from botocore.session import Session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_cache.emulator import BedrockEmulator, ManualClock

SONNET = "anthropic.claude-sonnet-4-6"
#: CountTokens came to bedrock-runtime after the botocore floor.
COUNT_TOKENS = "CountTokens" in Session().get_service_model("bedrock-runtime").operation_names
Emulator = BedrockEmulator[ManualClock]


def hello(model: str = SONNET) -> dict[str, Any]:
    return {"modelId": model, "messages": [{"role": "user", "content": [{"text": "Hello"}]}]}


def raw_request(
    emu: BedrockEmulator[Any], head: str, body: bytes = b""
) -> tuple[int, dict[str, str], Any]:
    """Send bytes exactly as given; return (status, headers, JSON body) of the answer."""
    port = int(emu.endpoint_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        return _response(sock)


def _response(sock: socket.socket) -> tuple[int, dict[str, str], Any]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed without an answer: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers["content-length"])
    while len(rest) < length:
        rest += sock.recv(65536)
    return int(lines[0].split()[1]), headers, json.loads(rest[:length])


def post(path: str, body: bytes, *extra: str) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *extra]
    return "\n".join(lines) + "\n"


CONVERSE = f"/model/{SONNET}/converse"


def error_code(headers: dict[str, str]) -> str:
    return headers["x-amzn-errortype"].split(":", 1)[0]


def test_unparseable_json_is_a_serialization_exception(bedrock_emulator: Emulator) -> None:
    body = b'{"messages": [ oops'
    status, headers, answer = raw_request(
        bedrock_emulator, post(CONVERSE, body, f"Content-Length: {len(body)}"), body
    )
    assert (status, error_code(headers)) == (400, "SerializationException")
    assert "not valid JSON" in answer["message"]


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"messages": "Hello"}, "messages must be an array"),
        ({"messages": [{"role": "user", "content": "Hello"}]}, "messages.0.content"),
        ({"system": [{"text": "a", "cachePoint": {"type": "default"}}]}, "system.0"),
        (
            {"system": [{"text": "a"}, {"cachePoint": {"type": "default", "ttl": "1H"}}]}
            | {"messages": hello()["messages"]},
            "system.1.cachePoint.ttl",
        ),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_validation_exception(
    bedrock_emulator: Emulator, body: dict[str, Any], names: str
) -> None:
    raw = json.dumps(body).encode()
    status, headers, answer = raw_request(
        bedrock_emulator, post(CONVERSE, raw, f"Content-Length: {len(raw)}"), raw
    )
    assert (status, error_code(headers)) == (400, "ValidationException")
    assert names in answer["message"]


@pytest.mark.parametrize(
    ("request_fields", "names"),
    [
        ({"messages": [{"role": "robot", "content": [{"text": "Hi"}]}]}, "messages.0.role"),
        (
            {"system": [{"text": "a"}, {"cachePoint": {"type": "forever"}}], **hello()},
            "system.1.cachePoint.type",
        ),
        ({"system": [{"text": "a"}, {"cachePoint": {"type": "default", "ttl": "1H"}}]}, "ttl"),
    ],
)
def test_boto3_gets_a_validation_exception_for_values_bedrock_refuses(
    bedrock_emulator: Emulator, request_fields: dict[str, Any], names: str, client_sends_ttl: bool
) -> None:
    client = bedrock_emulator.client()
    if names == "ttl" and not client_sends_ttl:  # this botocore refuses the key before sending
        with pytest.raises(ParamValidationError, match='cachePoint: "ttl"'):
            client.converse(**{**hello(), **request_fields})
        assert bedrock_emulator.requests == []
        return
    with pytest.raises(client.exceptions.ValidationException, match=names):
        client.converse(**{**hello(), **request_fields})
    assert bedrock_emulator.requests[-1].error == "ValidationException"


def test_framing_headers_that_lie_are_answered_not_dropped(bedrock_emulator: Emulator) -> None:
    body = json.dumps(hello()).encode()
    cases = {
        "Content-Length: twelve": (400, "ValidationException", "Content-Length"),
        "Content-Length: -5": (400, "ValidationException", "Content-Length"),
        "Content-Length: 999999999": (413, "ValidationException", "over the limit"),
        "X-Nothing: 1": (411, "ValidationException", "Content-Length header is required"),
    }
    for header, (status, code, says) in cases.items():
        got_status, headers, answer = raw_request(
            bedrock_emulator, post(CONVERSE, body, header), body
        )
        assert (got_status, error_code(headers)) == (status, code), header
        assert says in answer["message"], header


def test_requests_http_itself_refuses_still_get_the_aws_shape(bedrock_emulator: Emulator) -> None:
    status, headers, answer = raw_request(bedrock_emulator, "BREW /model/x/converse HTTP/1.1\n")
    assert (status, error_code(headers)) == (501, "UnknownOperationException")
    assert "BREW" in answer["message"]


def test_a_chunked_body_is_read_like_any_other(bedrock_emulator: Emulator) -> None:
    body = json.dumps({"messages": hello()["messages"]}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    status, _, answer = raw_request(
        bedrock_emulator, post(CONVERSE, chunked, "Transfer-Encoding: chunked"), chunked
    )
    assert status == 200 and answer["stopReason"] == "end_turn"


def test_a_body_cut_short_is_answered_with_what_arrived(bedrock_emulator: Emulator) -> None:
    port = int(bedrock_emulator.endpoint_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(post(CONVERSE, b"", "Content-Length: 100").replace("\n", "\r\n").encode())
        sock.sendall(b"\r\n" + b'{"messages"')
        sock.shutdown(socket.SHUT_WR)
        status, headers, answer = _response(sock)
    assert (status, error_code(headers)) == (400, "ValidationException")
    assert "ended after 11 of 100 bytes" in answer["message"]


def test_unknown_routes_are_an_aws_error(bedrock_emulator: Emulator) -> None:
    status, headers, answer = raw_request(bedrock_emulator, "GET /nowhere HTTP/1.1\nHost: x\n")
    assert (status, error_code(headers)) == (404, "UnknownOperationException")
    assert "GET /nowhere" in answer["message"]


def test_a_stalled_client_times_out_without_delaying_anyone() -> None:
    with BedrockEmulator(clock=ManualClock(), read_timeout=2) as emu:
        port = int(emu.endpoint_url.rsplit(":", 1)[1])
        half_headers = socket.create_connection(("127.0.0.1", port), timeout=10)
        half_headers.sendall(b"POST " + CONVERSE.encode() + b" HTTP/1.1\r\nHost: x\r\n")
        half_body = socket.create_connection(("127.0.0.1", port), timeout=10)
        half_body.sendall(post(CONVERSE, b"", "Content-Length: 50").replace("\n", "\r\n").encode())
        half_body.sendall(b"\r\n{")

        client = emu.client()
        for _ in range(5):
            assert client.converse(**hello())["stopReason"] == "end_turn"
        waiting, _, _ = select.select([half_body, half_headers], [], [], 0)
        assert waiting == [], "others were served while both stalled requests were still open"

        status, headers, answer = _response(half_body)
        assert (status, error_code(headers)) == (408, "RequestTimeoutException")
        assert "did not arrive within 2 s" in answer["message"]
        assert half_headers.recv(1024) == b"", "a request that never finished its headers is closed"
        half_headers.close()
        half_body.close()


def test_request_log_is_a_bounded_ring_and_totals_count_everything() -> None:
    with BedrockEmulator(clock=ManualClock(), request_log_size=3) as emu:
        client = emu.client()
        for n in range(5):
            client.converse(
                modelId=SONNET,
                system=[{"text": "Policy. " * 800}, {"cachePoint": {"type": "default"}}],
                messages=[{"role": "user", "content": [{"text": f"question {n}"}]}],
            )
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.converse(**hello("acme.unknown-v1:0"))
        kept = emu.requests
        assert len(kept) == 3
        assert kept[-1].error == "ResourceNotFoundException"
        totals = emu.totals
        assert (totals.requests, totals.rejected) == (6, 1)
        usages = [r.usage for r in kept if r.usage]
        assert usages[-1]["cacheReadInputTokens"] > 0
        write = totals.cache_write_tokens
        assert totals.cache_read_tokens == 4 * write, "one write, then four reads of it"
        assert totals.output_tokens > 0 and totals.uncached_input_tokens > 0
        emu.reset()
        assert emu.requests == [] and emu.totals.requests == 0


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def test_memory_stays_flat_over_five_thousand_boto3_calls() -> None:
    """4 threads x 1,250 calls of an 8 KB prompt: the request log keeps 100, RSS stays flat."""
    document = "Reference text for the support assistant. " * 190
    with BedrockEmulator(request_log_size=100) as emu:
        clients = [emu.client() for _ in range(4)]

        def calls(worker: int, count: int) -> None:
            for n in range(count):
                clients[worker].converse(
                    modelId=SONNET,
                    system=[{"text": document}, {"cachePoint": {"type": "default"}}],
                    messages=[{"role": "user", "content": [{"text": f"q {worker} {n}"}]}],
                )

        def batch(per_worker: int) -> None:
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(calls, range(4), [per_worker] * 4))

        batch(250)  # warm up: connection pools, caches, the first 1,000 records
        before = _peak_rss_mb()
        batch(1000)
        grown = _peak_rss_mb() - before
        assert emu.totals.requests == 5000 and emu.totals.rejected == 0
        assert len(emu.requests) == 100
        # Keeping every request would add ~40 MB here.
        assert grown < 10, f"peak RSS grew {grown:.1f} MB over 4,000 calls"


def test_expired_cache_entries_do_not_pile_up(bedrock_emulator: Emulator) -> None:
    """400 distinct cached prefixes, 5 minutes passing after every 50: expired ones are swept."""
    client = bedrock_emulator.client()
    policy = "Policy text for the assistant. " * 150
    for n in range(400):
        if n and n % 50 == 0:
            bedrock_emulator.clock.advance(301)
        usage = client.converse(
            modelId=SONNET,
            system=[{"text": f"Tenant {n}. {policy}"}, {"cachePoint": {"type": "default"}}],
            messages=hello()["messages"],
        )["usage"]
        assert usage["cacheWriteInputTokens"] > 0
    assert len(bedrock_emulator.cache) <= 200, "only the entries of the last minutes remain"


def test_many_clients_at_once_are_all_answered(bedrock_emulator: Emulator) -> None:
    errors: list[BaseException] = []

    def one() -> None:
        try:
            bedrock_emulator.client().converse(**hello())
        except (ClientError, OSError) as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and bedrock_emulator.totals.requests == 32


def status_of(emu: Emulator, path: str, body: dict[str, Any]) -> int:
    """The HTTP status the emulator answers a JSON POST with."""
    raw = json.dumps(body).encode()
    head = post(path, raw, f"Content-Length: {len(raw)}", "Connection: close")
    port = int(emu.endpoint_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + raw)
        return int(sock.recv(64).split()[1])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
BLOCK = st.one_of(
    st.fixed_dictionaries({"text": JSON}),
    st.fixed_dictionaries({"cachePoint": JSON}),
    st.fixed_dictionaries({"toolSpec": JSON}),
    st.fixed_dictionaries({"toolChoice": JSON}),
    st.fixed_dictionaries({"role": JSON, "content": st.lists(JSON, max_size=3)}),
    JSON,
)
SCHEMA = st.dictionaries(
    st.sampled_from(["type", "properties", "required", "enum", "minimum", "minItems", "$ref"]),
    JSON,
    max_size=4,
)
TOOL = st.fixed_dictionaries(
    {
        "toolSpec": st.fixed_dictionaries(
            {
                "name": st.sampled_from(["a", "b"]),
                "inputSchema": st.fixed_dictionaries({"json": SCHEMA}),
            }
        )
    }
)
CHOICE = st.sampled_from([{"any": {}}, {"auto": {}}, {"tool": {"name": "a"}}, {"tool": "a"}]) | JSON
TOOL_CONFIG = st.fixed_dictionaries(
    {"tools": st.lists(TOOL | BLOCK, max_size=3), "toolChoice": CHOICE}
)
MESSAGE = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "assistant"]) | JSON,
        "content": st.lists(BLOCK, max_size=3) | JSON,
    }
)
BODY = st.fixed_dictionaries(
    {},
    optional={
        "messages": st.just(hello()["messages"]) | st.lists(MESSAGE | BLOCK, max_size=3) | JSON,
        "system": st.just([{"text": "Policy."}]) | st.lists(BLOCK, max_size=3) | JSON,
        "toolConfig": TOOL_CONFIG | JSON,
        "inferenceConfig": st.fixed_dictionaries({"maxTokens": JSON}) | JSON,
        "additionalModelRequestFields": JSON,
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODY, operation=st.sampled_from(["converse", "converse-stream", "count-tokens"]))
def test_any_json_body_gets_an_answer_never_a_server_error(
    bedrock_emulator: Emulator, body: dict[str, Any], operation: str
) -> None:
    answers = (200, 400)
    if operation == "count-tokens":
        body = {"input": {"converse": body}}
        if not COUNT_TOKENS:
            answers = (404,)  # not served where the installed botocore cannot call it
    assert status_of(bedrock_emulator, f"/model/{SONNET}/{operation}", body) in answers, body


PROFILE_BODY = st.fixed_dictionaries(
    {},
    optional={
        "inferenceProfileName": st.text(max_size=8) | JSON,
        "modelSource": st.fixed_dictionaries({"copyFrom": st.text(max_size=8) | JSON}) | JSON,
    },
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=PROFILE_BODY)
def test_any_control_plane_body_gets_an_answer_never_a_server_error(
    bedrock_emulator: Emulator, body: dict[str, Any]
) -> None:
    assert status_of(bedrock_emulator, "/inference-profiles", body) in (201, 400), body
