"""``BedrockEmulator``: the public face of the local bedrock-runtime stand-in."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Generic, TypeVar, cast, overload

from .._models import ModelTable, default_table
from ._cache import PromptCache
from ._clock import Clock, WallClock
from ._replies import Reply, SimulatedLatency
from ._server import EmulatorServer
from ._service import EmulatedBedrock, RecordedRequest

ClockT = TypeVar("ClockT", bound=Clock)
REGION = "us-east-1"
DUMMY_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}

_SESSION_LOCK = threading.Lock()


@functools.cache
def _session() -> Any:
    # One shared session: it caches the loaded service model (~0.1 s per new session).
    import boto3

    return boto3.session.Session(region_name=REGION, **DUMMY_CREDENTIALS)


class BedrockEmulator(Generic[ClockT]):
    """A local bedrock-runtime (Converse, ConverseStream, CountTokens) with Bedrock's caching
    rules, served over HTTP on 127.0.0.1 so real boto3 clients work unmodified::

        with BedrockEmulator(clock=ManualClock()) as emu:
            client = emu.client()
            client.converse(modelId="us.anthropic.claude-sonnet-4-6", messages=[...])
            emu.clock.advance(301)  # the 5-minute entries expire
    """

    @overload
    def __init__(
        self: BedrockEmulator[WallClock],
        *,
        clock: None = None,
        table: ModelTable | None = None,
        latency: SimulatedLatency | None = None,
        port: int = 0,
    ) -> None: ...

    @overload
    def __init__(
        self: BedrockEmulator[ClockT],
        *,
        clock: ClockT,
        table: ModelTable | None = None,
        latency: SimulatedLatency | None = None,
        port: int = 0,
    ) -> None: ...

    def __init__(
        self,
        *,
        clock: Any = None,
        table: ModelTable | None = None,
        latency: SimulatedLatency | None = None,
        port: int = 0,
    ) -> None:
        """``clock``: cache time (wall time by default; ``ManualClock()`` in tests).
        ``table``: the models it knows (default :func:`bedrock_cache._models.default_table`).
        ``latency``: simulated model latency, off by default. ``port``: 0 picks a free port.
        """
        self._clock: ClockT = clock if clock is not None else cast(ClockT, WallClock())
        self._service = EmulatedBedrock(self._clock, table or default_table(), latency)
        self._server = EmulatorServer(self._service.dispatch, port)

    def start(self) -> BedrockEmulator[ClockT]:
        """Start serving (idempotent); returns ``self``."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and close open connections (idempotent)."""
        self._server.stop()

    def __enter__(self) -> BedrockEmulator[ClockT]:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>``: pass it as ``endpoint_url`` to boto3 or a framework."""
        return self._server.url

    @property
    def connection_kwargs(self) -> dict[str, str]:
        """``endpoint_url``, ``region_name`` and dummy credentials: the keyword arguments that
        ``boto3.client("bedrock-runtime", ...)``, ``ChatBedrockConverse`` and ``BedrockConverse``
        take to talk to this emulator."""
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": REGION,
            "aws_access_key_id": DUMMY_CREDENTIALS["aws_access_key_id"],
            "aws_secret_access_key": DUMMY_CREDENTIALS["aws_secret_access_key"],
        }

    def client(self, **config: Any) -> Any:
        """A real boto3 ``bedrock-runtime`` client for this emulator (dummy credentials,
        us-east-1, no retries). ``config`` overrides fields of the botocore ``Config``."""
        from botocore.config import Config

        settings: dict[str, Any] = {"retries": {"total_max_attempts": 1}, "read_timeout": 60}
        with _SESSION_LOCK:  # boto3 sessions are not thread-safe; creating clients is cheap
            return _session().client(
                "bedrock-runtime",
                endpoint_url=self.endpoint_url,
                config=Config(**{**settings, **config}),
            )

    @property
    def clock(self) -> ClockT:
        """The clock cache TTLs run on."""
        return self._clock

    @property
    def cache(self) -> PromptCache:
        """The prompt cache shared by every model (entries keyed by base model)."""
        return self._service.cache

    @property
    def table(self) -> ModelTable:
        """The model table requests are resolved in."""
        return self._service.table

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a snapshot)."""
        return self._service.records()

    def reset(self) -> None:
        """Forget cache entries, recorded requests, scripted replies and injected faults."""
        self._service.reset()

    def script(self, replies: Iterable[Reply | str]) -> None:
        """Queue answers, consumed one per Converse/ConverseStream call; a ``str`` is a text
        reply. When the queue is empty the deterministic default answer is used."""
        self._service.script(replies)

    def inject_error(
        self,
        code: str = "ThrottlingException",
        *,
        times: int = 1,
        message: str = "Too many requests, please wait before trying again.",
        operation: str | None = None,
    ) -> None:
        """Fail the next ``times`` requests (of ``operation``, e.g. ``"Converse"``, or any) with
        Bedrock error ``code`` before they touch the cache."""
        self._service.inject_error(code, times, message, operation)

    def inject_stream_error(
        self,
        *,
        after_events: int = 1,
        kind: str = "modelStreamErrorException",
        times: int = 1,
        message: str = "The model stream was interrupted (injected by the emulator).",
    ) -> None:
        """Cut the next ``times`` ConverseStream responses after ``after_events`` events with an
        exception frame of ``kind``; the cache is already updated, as on Bedrock."""
        self._service.inject_stream_error(kind, after_events, times, message)
