"""AWS event-stream framing (``application/vnd.amazon.eventstream``), the encoding side only.

A message is a prelude (total length, headers length, CRC32 of those 8 bytes), string headers,
a payload and a CRC32 of everything before it. botocore's ``EventStreamBuffer`` parses it.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING_HEADER = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", _STRING_HEADER, len(raw_value))
        + raw_value
    )


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One binary event-stream message."""
    raw_headers = b"".join(_header(name, value) for name, value in headers.items())
    total = _PRELUDE.size + _CRC.size + len(raw_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(raw_headers))
    body = prelude + _CRC.pack(zlib.crc32(prelude)) + raw_headers + payload
    return body + _CRC.pack(zlib.crc32(body))


def _json(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def event_frame(event_type: str, payload: Mapping[str, Any]) -> bytes:
    """A ``:message-type event`` frame, e.g. ``contentBlockDelta``."""
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return encode_message(headers, _json(payload))


def exception_frame(exception_type: str, message: str) -> bytes:
    """A modeled mid-stream exception frame, e.g. ``modelStreamErrorException``."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, _json({"message": message}))
