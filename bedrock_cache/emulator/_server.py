"""The HTTP side: a threaded server on 127.0.0.1 speaking the rest-json routes of bedrock-runtime
and the bedrock control plane.

Every connection has its own thread, and every request a deadline for its headers and body, so a
stalled or half-sent request never holds up the others. Anything malformed -- bad headers, an
oversize or short body, an unknown route -- gets an AWS-shaped JSON error, never a dropped socket.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from ._errors import ERROR_NAMESPACE, EmulatedError, validation
from ._eventstream import CONTENT_TYPE as EVENTSTREAM
from ._responder import Call, JsonResponse, Response
from ._routes import Route, match, routes

HOST = "127.0.0.1"
#: Largest request body accepted (Bedrock's own limit is in the same range).
MAX_BODY_BYTES = 25 * 1024 * 1024
#: How long an open keep-alive connection may wait for its next request.
IDLE_TIMEOUT = 300.0
Handle = Callable[[Call], Response]
logger = logging.getLogger("bedrock_cache.emulator")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self, port: int, table: tuple[Route, ...], handle: Handle, read_timeout: float
    ) -> None:
        super().__init__((HOST, port), _Handler)
        self.routes = table
        self.handle = handle
        self.read_timeout = read_timeout
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can hang offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = HOST, self.server_address[1]

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Tracked so stop() can close keep-alive connections that boto3 holds open.
        with self.sockets_lock:
            self.open_sockets.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self.sockets_lock:
                self.open_sockets.discard(request)

    def close_connections(self) -> None:
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; avoid 40 ms stalls
    server_version = "BedrockEmulator"

    @property
    def _server(self) -> _Server:
        return cast(_Server, self.server)

    def handle_one_request(self) -> None:
        # Idle keep-alive connections may wait long; once a request starts, it has a deadline.
        self.connection.settimeout(IDLE_TIMEOUT)
        try:
            started = cast(io.BufferedReader, self.rfile).peek(1)
        except (TimeoutError, OSError):
            started = b""
        if not started:
            self.close_connection = True
            return
        self.connection.settimeout(self._server.read_timeout)
        super().handle_one_request()

    def _answer(self) -> None:
        try:
            body = self._body()
        except TimeoutError:
            timeout = self._server.read_timeout
            message = f"The request body did not arrive within {timeout:g} s."
            self._send_error(EmulatedError("RequestTimeoutException", message), close=True)
            return
        except EmulatedError as exc:
            self._send_error(exc, close=True)  # the rest of the body is still on the wire
            return
        self.connection.settimeout(self._server.read_timeout)
        path, _, query = self.path.partition("?")
        matched = match(self._server.routes, self.command, path)
        if matched is None:
            message = f"No operation at {self.command} {path}"
            self._send_error(EmulatedError("UnknownOperationException", message))
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        call = Call(matched.route.operation, matched.params, query, body, headers)
        try:
            response = self._server.handle(call)
        except EmulatedError as exc:
            self._send_error(exc)
            return
        except Exception:
            logger.exception("the emulator failed on %s", matched.route.operation)
            error = EmulatedError("InternalServerException", "The emulator failed; see its log.")
            self._send_error(error)
            return
        if isinstance(response, JsonResponse):
            self._send_json(matched.route.status, response.body, response.headers)
        else:
            self._send_stream(response.frames, response.headers)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def _body(self) -> bytes:
        """The request body, read within the read timeout; raises ``EmulatedError`` for bad
        framing headers and ``TimeoutError`` for a body that stops arriving."""
        deadline = time.monotonic() + self._server.read_timeout
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._chunked(deadline)
        length = self.headers.get("Content-Length")
        if length is None:
            if self.command in ("POST", "PUT", "PATCH"):
                raise EmulatedError(
                    "ValidationException", "A Content-Length header is required.", 411
                )
            return b""
        if not length.strip().isdigit():
            raise validation(f"Content-Length must be a number of bytes, not {length!r}.")
        return self._read(int(length), deadline)

    def _read(self, size: int, deadline: float, *, total: int | None = None) -> bytes:
        if (total or size) > MAX_BODY_BYTES:
            raise EmulatedError(
                "ValidationException",
                f"The request body of {total or size} bytes is over the limit of "
                f"{MAX_BODY_BYTES} bytes.",
                413,
            )
        parts: list[bytes] = []
        remaining = size
        while remaining:
            self.connection.settimeout(max(deadline - time.monotonic(), 0.001))
            part = self.rfile.read1(min(remaining, 1 << 16))
            if not part:
                got = size - remaining
                raise validation(f"The request body ended after {got} of {size} bytes.")
            parts.append(part)
            remaining -= len(part)
        return b"".join(parts)

    def _chunked(self, deadline: float) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            self.connection.settimeout(max(deadline - time.monotonic(), 0.001))
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise validation("Malformed chunked request body.") from None
            if size == 0:
                self.rfile.readline(1024)  # the blank line after the last chunk
                return b"".join(parts)
            total += size
            parts.append(self._read(size, deadline, total=total))
            self.rfile.readline(1024)  # the CRLF closing the chunk

    def _send_json(self, status: int, body: Any, headers: Mapping[str, str]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(raw)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own refusals (bad request line, unsupported method, oversize headers)
        # get the AWS JSON shape too, instead of an HTML page.
        name = "UnknownOperationException" if code == 501 else "ValidationException"
        text = message or self.responses.get(code, ("Bad request",))[0]
        self._send_error(EmulatedError(name, text, code), close=True)

    def _send_error(self, exc: EmulatedError, *, close: bool = False) -> None:
        if close:
            self.close_connection = True
        error_type = {"x-amzn-ErrorType": f"{exc.code}:{ERROR_NAMESPACE}"}
        self._send_json(exc.status, {"message": exc.message}, error_type)

    def _send_stream(self, frames: tuple[bytes, ...], headers: Mapping[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", EVENTSTREAM)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            for frame in frames:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client stopped reading; nothing left to do

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds the route and model id only, never prompt text.
        logger.debug("%s " + format, self.address_string(), *args)


class EmulatorServer:
    """A started-on-demand HTTP server on 127.0.0.1 that hands each matched request to
    ``handle``; ``operations`` are the botocore operation names it serves."""

    def __init__(
        self,
        handle: Handle,
        operations: Callable[[], list[str]],
        port: int = 0,
        read_timeout: float = 30.0,
    ) -> None:
        self._handle = handle
        self._operations = operations
        self._port = port
        self._read_timeout = read_timeout
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() or use it in a with")
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> None:
        if self._server is not None:
            return
        table = routes(self._operations())
        self._server = _Server(self._port, table, self._handle, self._read_timeout)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits for the serving loop
            name="bedrock-emulator",
            daemon=True,
        )
        self._thread.start()
        logger.info("Bedrock emulator listening on %s", self.url)

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
