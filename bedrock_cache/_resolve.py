"""Which model a request runs on: the one resolver behind planning, pricing and the adapters.

A request's own ``modelId`` decides. A plain model id, a cross-region or global profile id and a
foundation-model ARN name their model; only an ARN that hides its model (an application
inference profile, a provisioned or custom model) needs help, in this order: the framework's own
hint (langchain-aws ``base_model_id``, LlamaIndex ``model``), then ``base_model`` (one id, a
mapping ARN -> id, or a boto3 ``bedrock`` control-plane client asked once per ARN). A model the
table does not know is planned as not caching: the request goes out untouched, with one warning
per model id.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal, TypeAlias

from ._config import check_table
from ._faults import fault
from ._models import (
    ModelSpec,
    ModelTable,
    Position,
    ResolvedModel,
    default_table,
    split_model_id,
    unknown_model_spec,
)
from ._models import _profile_model as profile_model

#: What ``base_model=`` accepts: one base model id, a mapping ARN -> base model id, or a boto3
#: ``bedrock`` control-plane client (its ``get_inference_profile`` names the model).
BaseModel: TypeAlias = str | Mapping[str, str] | Any
#: What Bedrock refused of our checkpoints for a model: the ``ttl`` field, a cachePoint in the
#: tools, one at a position, or (when the message does not say) any cachePoint.
Rejection: TypeAlias = Literal["ttl", "tools", "checkpoints"] | Position

_BEDROCK_ARN = re.compile(r"^arn:aws[\w-]*:bedrock:[\w-]*:\d*:(?P<kind>[\w-]+)/")
_NAMING_ARNS = frozenset({"foundation-model", "inference-profile"})
_REMEMBERED = 1024


def hides_model(model_id: str) -> bool:
    """``model_id`` is a Bedrock ARN whose text does not name the model (application inference
    profile, provisioned or custom model)."""
    match = _BEDROCK_ARN.match(model_id)
    return match is not None and match.group("kind") not in _NAMING_ARNS


def check_base_model(base_model: object) -> None:
    """Raise ``TypeError`` unless ``base_model`` is one of the accepted shapes."""
    if base_model is None or isinstance(base_model, str):
        return
    if isinstance(base_model, Mapping):
        if all(isinstance(k, str) and isinstance(v, str) for k, v in base_model.items()):
            return
        raise TypeError("base_model mapping must map profile ARNs (str) to base model ids (str)")
    if callable(getattr(base_model, "get_inference_profile", None)):
        return
    raise TypeError(
        "base_model must be a base model id such as 'anthropic.claude-sonnet-4-5-20250929-v1:0', "
        "a mapping of application inference profile ARN -> base model id, or a boto3 'bedrock' "
        f"client (boto3.client('bedrock')), not {type(base_model).__name__}"
    )


class _Bounded(OrderedDict[str, Any]):
    """An insertion-ordered dict that forgets its oldest entries beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


class ModelResolver:
    """Resolves each request's ``modelId`` to its spec; safe to share between threads.

    Args:
        table: the model table (the process-wide default if omitted).
        base_model: the model behind application inference profile ARNs (see module doc); it
            never overrides a model id that names its model.
    """

    def __init__(self, table: ModelTable | None = None, base_model: BaseModel = None) -> None:
        check_base_model(base_model)
        check_table(table)
        self.table = table or default_table()
        self.base_model = base_model
        self._lock = threading.Lock()
        self._profiles = _Bounded(_REMEMBERED)
        self._warned = _Bounded(_REMEMBERED)
        self._rejected = _Bounded(_REMEMBERED)
        self._recent: dict[str, tuple[ResolvedModel, str, ModelSpec | None, int]] = {}
        """Resolutions of ids that name their model: the table entry and the rejections (their
        generation) each came from."""
        self._generation = 0

    def resolve(self, model_id: str, hint: str | None = None) -> ResolvedModel:
        """The spec for ``model_id``; ``hint`` is the framework's base model id for an ARN that
        hides its model (ignored for every other id)."""
        recent = self._recent.get(model_id)
        generation = self._generation
        if (
            recent is not None
            and recent[3] == generation
            and self.table.specs.get(recent[1]) is recent[2]
        ):
            return recent[0]
        source: tuple[str, ModelSpec | None] | None = None
        if hides_model(model_id):
            base = hint or self._base_for(model_id)
            resolved = (
                self.table.resolve(model_id, base_model=base)
                if base
                else ResolvedModel(model_id, unknown_model_spec(model_id))
            )
        else:
            base_id = split_model_id(model_id)[1]
            source = (base_id, self.table.lookup(base_id))
            resolved = self.table.resolve(model_id)
        if resolved.spec.family == "unknown":
            self._warn_once(model_id, resolved.spec.note)
            return resolved
        result = self._with_rejections(resolved)
        if source is not None:  # an id that names its model resolves alike until the table changes
            if len(self._recent) >= _REMEMBERED:
                self._recent = {}
            self._recent[model_id] = (result, *source, generation)
        return result

    def reject(self, model: ResolvedModel, reason: Rejection) -> bool:
        """Bedrock rejected our checkpoints for this model: stop sending what it refused on later
        requests. ``False`` if that was already known."""
        key = model.spec.model_id
        with self._lock:
            known: frozenset[Rejection] = self._rejected.get(key, frozenset())
            self._rejected.put(key, known | {reason})
            self._generation += 1
        return reason not in known

    def _with_rejections(self, resolved: ResolvedModel) -> ResolvedModel:
        with self._lock:
            reasons: frozenset[Rejection] = self._rejected.get(resolved.spec.model_id, frozenset())
        spec = resolved.spec
        for reason in reasons:
            spec = _without(spec, reason)
        return resolved if spec is resolved.spec else replace(resolved, spec=spec)

    def _base_for(self, arn: str) -> str | None:
        base_model = self.base_model
        if base_model is None or isinstance(base_model, str):
            return base_model
        if isinstance(base_model, Mapping):
            found = base_model.get(arn)
            return found if isinstance(found, str) else None
        with self._lock:
            if arn in self._profiles:
                cached: str | None = self._profiles[arn]
                return cached
        found = _profile_model(base_model, arn)
        with self._lock:
            self._profiles.put(arn, found)
        return found

    def _warn_once(self, model_id: str, note: str) -> None:
        with self._lock:
            if model_id in self._warned:
                return
            self._warned.put(model_id, True)
        fault(note)


def _without(spec: ModelSpec, reason: Rejection) -> ModelSpec:
    """``spec`` corrected by what Bedrock refused."""
    if reason == "ttl":  # the planner sends a ttl field only for a TTL other than the default
        return replace(spec, ttls=spec.ttls[:1])
    if reason == "tools":
        return replace(spec, tools_cacheable=False)
    if reason == "checkpoints":
        return replace(spec, supports_caching=False, note="Bedrock rejected its checkpoints")
    return replace(spec, rejected_positions=spec.rejected_positions | {reason})


def _profile_model(client: Any, arn: str) -> str | None:
    """The base model id ``GetInferenceProfile`` names for ``arn``; ``None`` if it cannot say."""
    try:
        return profile_model(client, arn)
    except Exception as exc:
        fault(f"get_inference_profile failed for {arn}; its requests go out as built", exc)
        return None
