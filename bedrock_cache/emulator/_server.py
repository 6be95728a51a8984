"""The HTTP side: a threaded server on 127.0.0.1 speaking bedrock-runtime's rest-json routes."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import socketserver
import threading
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import unquote

from ._errors import ERROR_NAMESPACE, EmulatedError
from ._eventstream import CONTENT_TYPE as EVENTSTREAM
from ._responder import JsonResponse, Response
from ._service import Operation

HOST = "127.0.0.1"
Dispatch = Callable[[Operation, str, bytes], Response]
logger = logging.getLogger("bedrock_cache.emulator")

_ROUTE = re.compile(
    r"^/model/(?P<model>[^/]+)/"
    r"(?P<op>converse|converse-stream|count-tokens|invoke|invoke-with-response-stream)$"
)
_OPERATIONS: dict[str, Operation] = {
    "converse": "Converse",
    "converse-stream": "ConverseStream",
    "count-tokens": "CountTokens",
    "invoke": "InvokeModel",
    "invoke-with-response-stream": "InvokeModelWithResponseStream",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, dispatch: Dispatch) -> None:
        super().__init__((HOST, port), _Handler)
        self.dispatch = dispatch
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

    def do_POST(self) -> None:
        match = _ROUTE.match(self.path.split("?", 1)[0])
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if match is None:
            self._send_error("UnknownOperationException", 404, f"No route for {self.command}")
            return
        operation = _OPERATIONS[match["op"]]
        dispatch = cast(_Server, self.server).dispatch
        try:
            response = dispatch(operation, unquote(match["model"]), body)
        except EmulatedError as exc:
            self._send_error(exc.code, exc.status, exc.message)
            return
        if isinstance(response, JsonResponse):
            self._send_json(200, response.body, response.headers)
        else:
            self._send_stream(response.frames, response.headers)

    def do_GET(self) -> None:
        self._send_error("UnknownOperationException", 404, "Only POST routes exist")

    def _send_json(self, status: int, body: Any, headers: Mapping[str, str]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def _send_error(self, code: str, status: int, message: str) -> None:
        error_type = {"x-amzn-ErrorType": f"{code}:{ERROR_NAMESPACE}"}
        self._send_json(status, {"message": message}, error_type)

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
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading; nothing left to do

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds the route and model id only, never prompt text.
        logger.debug("%s " + format, self.address_string(), *args)


class EmulatorServer:
    """A started-on-demand HTTP server on 127.0.0.1 that hands each request to ``dispatch``."""

    def __init__(self, dispatch: Dispatch, port: int = 0) -> None:
        self._dispatch = dispatch
        self._port = port
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
        self._server = _Server(self._port, self._dispatch)
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
