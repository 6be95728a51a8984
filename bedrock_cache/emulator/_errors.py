"""The Bedrock errors the emulator answers with, and the HTTP status of each."""

from __future__ import annotations

#: HTTP status per bedrock-runtime / bedrock error, as in botocore's service models.
ERROR_STATUS: dict[str, int] = {
    "ValidationException": 400,
    "SerializationException": 400,
    "ConflictException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "UnknownOperationException": 404,
    "ModelTimeoutException": 408,
    "RequestTimeoutException": 408,
    "ModelErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}

#: Exceptions ConverseStream can send as frames after the stream has started.
STREAM_EXCEPTIONS = (
    "internalServerException",
    "modelStreamErrorException",
    "validationException",
    "throttlingException",
    "serviceUnavailableException",
)

#: Where botocore's rest-json parser reads the error code from.
ERROR_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.bedrock/"


class EmulatedError(Exception):
    """A request the emulator answers with a Bedrock error instead of a result.

    ``status`` overrides the error's usual HTTP status (e.g. 413 for an oversize body).
    """

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        if code not in ERROR_STATUS:
            raise ValueError(f"unknown Bedrock error {code!r}; use one of {sorted(ERROR_STATUS)}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or ERROR_STATUS[code]


def validation(message: str) -> EmulatedError:
    """Bedrock's answer to a request it understood but does not accept."""
    return EmulatedError("ValidationException", message)
