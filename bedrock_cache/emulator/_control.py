"""The ``bedrock`` control plane's application inference profiles, on the emulator's endpoint.

``CreateInferenceProfile`` copies a foundation model or system-defined profile; Converse on the
new profile ARN runs that model and shares its cache, as on Bedrock.
"""

from __future__ import annotations

import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from .._models import ModelTable, split_model_id
from ._errors import EmulatedError, validation
from ._responder import Call, Handler, JsonResponse, Response
from ._validate import json_body

ACCOUNT = "123456789012"
_NAME = re.compile(r"^([0-9a-zA-Z][ _-]?)+$")
_SOURCE = re.compile(
    r"^arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:[0-9a-z-]{0,20}:(|[0-9]{12}):"
    r"(inference-profile|foundation-model)/[a-zA-Z0-9-:.]+$"
)


def _not_found(identifier: str) -> EmulatedError:
    return EmulatedError(
        "ResourceNotFoundException", f"Inference profile {identifier} does not exist."
    )


class InferenceProfiles:
    """Application inference profiles by id. Thread-safe."""

    def __init__(self, table: ModelTable, region: str) -> None:
        self._table = table
        self._region = region
        self._profiles: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def handlers(self) -> dict[str, Handler]:
        return {
            "CreateInferenceProfile": self._create,
            "GetInferenceProfile": self._get,
            "ListInferenceProfiles": self._list,
            "DeleteInferenceProfile": self._delete,
        }

    def clear(self) -> None:
        with self._lock:
            self._profiles.clear()

    def base_model(self, arn: str) -> str | None:
        """The base model id behind an application profile ARN, if it exists here."""
        with self._lock:
            profile = self._profiles.get(arn.rsplit("/", 1)[-1])
        if profile is None or profile["inferenceProfileArn"] != arn:
            return None
        return split_model_id(profile["models"][0]["modelArn"])[1]

    def _create(self, call: Call) -> Response:
        body = json_body(call.body)
        name = body.get("inferenceProfileName")
        model_source = body.get("modelSource")
        source = model_source.get("copyFrom") if isinstance(model_source, dict) else None
        if not isinstance(name, str) or not _NAME.match(name) or len(name) > 64:
            raise validation("inferenceProfileName must be 1-64 letters, digits, spaces, - or _")
        if not isinstance(source, str) or not _SOURCE.match(source):
            raise validation(
                "modelSource.copyFrom must be a foundation-model or inference-profile ARN, e.g. "
                f"arn:aws:bedrock:{self._region}::foundation-model/anthropic.claude-sonnet-4-6"
            )
        base = split_model_id(source)[1]
        if self._table.lookup(base) is None:
            raise validation(f"The model {base} in modelSource.copyFrom is not available.")
        profile_id = uuid.uuid4().hex[:12]
        arn = f"arn:aws:bedrock:{self._region}:{ACCOUNT}:application-inference-profile/{profile_id}"
        now = datetime.now(UTC).isoformat()
        profile = {
            "inferenceProfileName": name,
            "description": str(body.get("description", "")),
            "createdAt": now,
            "updatedAt": now,
            "inferenceProfileArn": arn,
            "models": [{"modelArn": self._model_arn(base)}],
            "inferenceProfileId": profile_id,
            "status": "ACTIVE",
            "type": "APPLICATION",
        }
        with self._lock:
            if any(p["inferenceProfileName"] == name for p in self._profiles.values()):
                raise EmulatedError(
                    "ConflictException", f"An inference profile named {name} already exists."
                )
            self._profiles[profile_id] = profile
        return JsonResponse({"inferenceProfileArn": arn, "status": "ACTIVE"})

    def _model_arn(self, base: str) -> str:
        return f"arn:aws:bedrock:{self._region}::foundation-model/{base}"

    def _find(self, identifier: str) -> dict[str, Any]:
        with self._lock:
            profile = self._profiles.get(identifier.rsplit("/", 1)[-1])
        if profile is not None and identifier in (
            profile["inferenceProfileId"],
            profile["inferenceProfileArn"],
        ):
            return profile
        prefix, base = split_model_id(identifier.rsplit("/", 1)[-1])
        if prefix and self._table.lookup(base) is not None:  # a system-defined profile
            return {
                "inferenceProfileName": f"{prefix.upper()[:-1]} {base}",
                "inferenceProfileArn": (
                    f"arn:aws:bedrock:{self._region}:{ACCOUNT}:inference-profile/{prefix}{base}"
                ),
                "models": [{"modelArn": self._model_arn(base)}],
                "inferenceProfileId": prefix + base,
                "status": "ACTIVE",
                "type": "SYSTEM_DEFINED",
            }
        raise _not_found(identifier)

    def _get(self, call: Call) -> Response:
        return JsonResponse(self._find(call.params["inferenceProfileIdentifier"]))

    def _list(self, call: Call) -> Response:
        query = {key: values[-1] for key, values in parse_qs(call.query).items()}
        if query.get("typeEquals", "APPLICATION") != "APPLICATION":
            return JsonResponse({"inferenceProfileSummaries": []})
        with self._lock:
            profiles = list(self._profiles.values())
        start, size = _count(query, "nextToken", 0), _count(query, "maxResults", 1000)
        page: dict[str, Any] = {"inferenceProfileSummaries": profiles[start : start + size]}
        if start + size < len(profiles):
            page["nextToken"] = str(start + size)
        return JsonResponse(page)

    def _delete(self, call: Call) -> Response:
        identifier = call.params["inferenceProfileIdentifier"]
        profile = self._find(identifier)
        if profile["type"] != "APPLICATION":
            raise validation("Only application inference profiles can be deleted.")
        with self._lock:
            self._profiles.pop(profile["inferenceProfileId"], None)
        return JsonResponse({})


def _count(query: dict[str, str], key: str, default: int) -> int:
    value = query.get(key) or str(default)
    if not value.isdigit():
        raise validation(f"{key} must be a whole number, not {value!r}")
    return int(value)
