"""``BedrockEmulator``: the public face of the local Bedrock stand-in."""

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
from ._service import EmulatedBedrock, EmulatorTotals, RecordedRequest, RequestListener

ClockT = TypeVar("ClockT", bound=Clock)
REGION = "us-east-1"
DUMMY_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
#: Requests kept in ``BedrockEmulator.requests`` unless told otherwise (totals cover all).
DEFAULT_LOG_SIZE = 1000
#: Seconds a started request may take to send its headers and body.
DEFAULT_READ_TIMEOUT = 30.0

_SESSION_LOCK = threading.Lock()


@functools.cache
def _session() -> Any:
    # One shared session: it caches the loaded service models (~0.1 s per new session).
    import boto3

    return boto3.session.Session(region_name=REGION, **DUMMY_CREDENTIALS)


def _check_args(
    clock: Any, table: Any, latency: Any, port: Any, log_size: Any, read_timeout: Any
) -> None:
    """Bad arguments fail here, saying what to pass, instead of at the first request."""
    if clock is not None and not callable(getattr(clock, "now", None)):
        raise TypeError(
            f"clock must be a clock object such as ManualClock() or WallClock() (anything with "
            f"a now() method returning seconds), not {clock!r}"
        )
    if table is not None and not isinstance(table, ModelTable):
        raise TypeError(f"table must be a bedrock_cache.ModelTable, not {type(table).__name__}")
    if latency is not None and not isinstance(latency, SimulatedLatency):
        raise TypeError(
            f"latency must be SimulatedLatency(...) or None, not {type(latency).__name__}"
        )
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be 0 (a free port) or 1-65535, not {port!r}")
    if isinstance(log_size, bool) or not isinstance(log_size, int) or log_size < 1:
        raise ValueError(f"request_log_size must be a whole number, at least 1; got {log_size!r}")
    if isinstance(read_timeout, bool) or not isinstance(read_timeout, int | float):
        raise TypeError(f"read_timeout must be seconds (a number), not {read_timeout!r}")
    if read_timeout <= 0:
        raise ValueError(f"read_timeout must be more than 0 seconds, got {read_timeout!r}")


class BedrockEmulator(Generic[ClockT]):
    """A local Bedrock -- bedrock-runtime's Converse, ConverseStream and CountTokens with
    Bedrock's caching rules, and the control plane's inference profiles -- served over HTTP on
    127.0.0.1 so real boto3 clients work unmodified::

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
        request_log_size: int = DEFAULT_LOG_SIZE,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        on_request: RequestListener | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self: BedrockEmulator[ClockT],
        *,
        clock: ClockT,
        table: ModelTable | None = None,
        latency: SimulatedLatency | None = None,
        port: int = 0,
        request_log_size: int = DEFAULT_LOG_SIZE,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        on_request: RequestListener | None = None,
    ) -> None: ...

    def __init__(
        self,
        *,
        clock: Any = None,
        table: ModelTable | None = None,
        latency: SimulatedLatency | None = None,
        port: int = 0,
        request_log_size: int = DEFAULT_LOG_SIZE,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        on_request: RequestListener | None = None,
    ) -> None:
        """``clock``: cache time (wall time by default; ``ManualClock()`` in tests).
        ``table``: the models it knows (default :func:`bedrock_cache.default_table`).
        ``latency``: simulated model latency, off by default. ``port``: 0 picks a free port.
        ``request_log_size``: how many recent requests :attr:`requests` keeps (the
        :attr:`totals` count all). ``read_timeout``: seconds a request may take to arrive once
        started; a slower one is answered with a 408. ``on_request``: called with each
        :class:`RecordedRequest` (e.g. to log it), from the serving thread.
        """
        _check_args(clock, table, latency, port, request_log_size, read_timeout)
        if on_request is not None and not callable(on_request):
            raise TypeError("on_request must be a function taking a RecordedRequest")
        self._clock: ClockT = clock if clock is not None else cast(ClockT, WallClock())
        self._service = EmulatedBedrock(
            self._clock,
            table or default_table(),
            latency,
            region=REGION,
            log_size=request_log_size,
            listener=on_request,
        )
        self._server = EmulatorServer(
            self._service.handle, lambda: list(self._service.handlers), port, read_timeout
        )

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
        return self._client("bedrock-runtime", config)

    def control_client(self, **config: Any) -> Any:
        """A real boto3 ``bedrock`` (control plane) client for this emulator, e.g. for
        ``create_inference_profile``; same settings as :meth:`client`."""
        return self._client("bedrock", config)

    def _client(self, service: str, config: dict[str, Any]) -> Any:
        from botocore.config import Config

        settings: dict[str, Any] = {"retries": {"total_max_attempts": 1}, "read_timeout": 60}
        with _SESSION_LOCK:  # boto3 sessions are not thread-safe; creating clients is cheap
            return _session().client(
                service, endpoint_url=self.endpoint_url, config=Config(**{**settings, **config})
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
        """The most recent requests (up to ``request_log_size``), oldest first (a snapshot)."""
        return self._service.records()

    @property
    def totals(self) -> EmulatorTotals:
        """Request, rejection and token counts over every request since start or reset."""
        return self._service.totals()

    def reset(self) -> None:
        """Forget cache entries, recorded requests and totals, scripted replies, injected faults
        and inference profiles."""
        self._service.reset()

    def script(self, replies: Iterable[Reply | str]) -> None:
        """Queue answers, consumed one per Converse/ConverseStream call; a ``str`` is a text
        reply. Scripted replies win over everything else, a forced ``toolChoice`` included;
        when the queue is empty the deterministic default answer is used."""
        self._service.script(replies)

    def inject_error(
        self,
        code: str = "ThrottlingException",
        *,
        times: int = 1,
        message: str = "Too many requests, please wait before trying again.",
        operation: str | None = None,
    ) -> None:
        """Fail the next ``times`` requests (of ``operation``, a botocore operation name such as
        ``"Converse"``, or any) with Bedrock error ``code`` before they touch the cache."""
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
