"""The model table: which Bedrock models cache what, under which limits, at which prices.

The shipped data lives in ``models.toml``; users add or override entries in code
(:meth:`ModelTable.register`) or from a file of the same shape (:meth:`ModelTable.load`).
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

TTL = Literal["5m", "1h"]
#: How long a cache entry lives after its last write or read ("reset by every hit").
TTL_SECONDS: Mapping[TTL, float] = MappingProxyType({"5m": 300.0, "1h": 3600.0})
MinTokensMode = Literal["segment", "prefix"]
Position = Literal[
    "message_start", "after_reasoning", "after_document", "after_video", "next_to_tool_result"
]

#: Cross-region and geo inference-profile prefixes that share the base model's cache.
PROFILE_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "global.")
_FOUNDATION_ARN = re.compile(
    r"^arn:aws[\w-]*:bedrock:[\w-]*:\d*:(foundation-model|inference-profile)/(.+)$"
)
_APP_PROFILE_ARN = re.compile(r"^arn:aws[\w-]*:bedrock:[\w-]+:\d+:application-inference-profile/")


def entry_alive(touched_at: float, ttl: TTL, now: float) -> bool:
    """Whether an entry last written or read at ``touched_at`` with ``ttl`` is live at ``now``."""
    return now - touched_at < TTL_SECONDS[ttl]


@dataclass(frozen=True)
class Prices:
    """USD per one million tokens."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write_5m: float | None = None
    cache_write_1h: float | None = None


@dataclass(frozen=True)
class ModelSpec:
    """What one Bedrock model does with cache checkpoints, and what its tokens cost."""

    model_id: str
    """The base model id, without profile prefix."""
    family: str
    supports_caching: bool
    min_tokens: int
    """Tokens a checkpoint's prefix needs before Bedrock writes a cache entry for it."""
    min_tokens_mode: MinTokensMode
    """``segment``: each further checkpoint needs another ``min_tokens`` after the previous one."""
    max_checkpoints: int
    ttls: tuple[TTL, ...]
    """Accepted TTLs; the first is the default."""
    tools_cacheable: bool
    lookback_blocks: int
    """Block boundaries a checkpoint looks back for an existing entry (0: exact position only)."""
    max_cached_tokens: int
    """0 means no limit."""
    rejected_positions: frozenset[Position]
    prices: Prices
    profile_price_multiplier: float = 1.0
    note: str = ""
    """Why this spec is what it is, e.g. how to register an unknown model."""


@dataclass(frozen=True)
class ResolvedModel:
    """A model id as the user wrote it, resolved to its spec."""

    requested_id: str
    spec: ModelSpec
    profile_prefix: str = ""

    @property
    def price_multiplier(self) -> float:
        """Regional/geo profiles and in-region ids cost more on some models; global does not."""
        return 1.0 if self.profile_prefix == "global." else self.spec.profile_price_multiplier


class ModelResolutionError(ValueError):
    """An application inference profile ARN that cannot be resolved without help."""


def _spec_from_entry(model_id: str, entry: Mapping[str, Any]) -> ModelSpec:
    prices = entry.get("prices", {})
    try:
        return ModelSpec(
            model_id=model_id,
            family=str(entry.get("family", "other")),
            supports_caching=bool(entry["supports_caching"]),
            min_tokens=int(entry.get("min_tokens", 0)),
            min_tokens_mode=entry.get("min_tokens_mode", "segment"),
            max_checkpoints=int(entry.get("max_checkpoints", 0)),
            ttls=tuple(entry.get("ttls", ())),
            tools_cacheable=bool(entry.get("tools_cacheable", False)),
            lookback_blocks=int(entry.get("lookback_blocks", 0)),
            max_cached_tokens=int(entry.get("max_cached_tokens", 0)),
            rejected_positions=frozenset(entry.get("rejected_positions", ())),
            prices=Prices(**prices),
            profile_price_multiplier=float(entry.get("profile_price_multiplier", 1.0)),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"model entry for {model_id!r} is incomplete ({exc}); every entry needs a family "
            "(or supports_caching) and prices = {{ input = ..., output = ... }}"
        ) from exc


def _parse_table(data: Mapping[str, Any]) -> dict[str, ModelSpec]:
    families: Mapping[str, Mapping[str, Any]] = data.get("families", {})
    specs: dict[str, ModelSpec] = {}
    for entry in data.get("models", []):
        family = entry.get("family", "other")
        if family not in families and "supports_caching" not in entry:
            raise ValueError(f"unknown family {family!r}; define [families.{family}] first")
        merged = {**families.get(family, {}), **entry}
        for model_id in entry["ids"]:
            specs[model_id] = _spec_from_entry(model_id, merged)
    return specs


def unknown_model_spec(model_id: str) -> ModelSpec:
    """The spec of a model the table does not know: it is treated as not caching."""
    return ModelSpec(
        model_id=model_id,
        family="unknown",
        supports_caching=False,
        min_tokens=0,
        min_tokens_mode="prefix",
        max_checkpoints=0,
        ttls=(),
        tools_cacheable=False,
        lookback_blocks=0,
        max_cached_tokens=0,
        rejected_positions=frozenset(),
        prices=Prices(input=0.0, output=0.0),
        note=(
            f"{model_id!r} is not in the model table, so no checkpoints are placed for it. "
            "Register it with bedrock_cache.default_table().register(ModelSpec(...)) or "
            "default_table().load('models.toml'), or pass base_model= for an application "
            "inference profile."
        ),
    )


@dataclass
class ModelTable:
    """Model specs by base id; resolves profile ids and ARNs. Safe to share between threads."""

    specs: dict[str, ModelSpec] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def shipped(cls) -> ModelTable:
        """A fresh table holding the models this package ships."""
        text = resources.files("bedrock_cache").joinpath("models.toml").read_text("utf-8")
        return cls(specs=_parse_table(tomllib.loads(text)))

    def register(self, spec: ModelSpec) -> None:
        """Add a model or replace one (prices, limits) for every later resolution."""
        with self._lock:
            self.specs[spec.model_id] = spec

    def load(self, path: str | Path) -> None:
        """Add or override models from a TOML file shaped like the shipped ``models.toml``.

        Families the file does not define are taken from the shipped table.
        """
        data = tomllib.loads(Path(path).read_text("utf-8"))
        shipped = tomllib.loads(
            resources.files("bedrock_cache").joinpath("models.toml").read_text("utf-8")
        )
        data = {**data, "families": {**shipped["families"], **data.get("families", {})}}
        for spec in _parse_table(data).values():
            self.register(spec)

    def override(self, model_id: str, **changes: Any) -> ModelSpec:
        """Change some fields of a known model, e.g. ``override(id, min_tokens=2048)``."""
        spec = replace(self.resolve(model_id).spec, **changes)
        self.register(spec)
        return spec

    def resolve(
        self, model_id: str, *, base_model: str | None = None, client: Any = None
    ) -> ResolvedModel:
        """Resolve a model id, profile id or ARN.

        Application inference profile ARNs hide the model: pass ``base_model=`` or a boto3
        ``bedrock`` control-plane ``client`` (its ``get_inference_profile`` names the model).
        """
        if base_model is not None:
            return self._resolve_plain(model_id, base_model)
        if _APP_PROFILE_ARN.match(model_id):
            if client is None:
                raise ModelResolutionError(
                    f"{model_id!r} is an application inference profile; its model cannot be read "
                    "from the ARN. Pass base_model='anthropic.claude-...' or a boto3 'bedrock' "
                    "client so it can be looked up with get_inference_profile."
                )
            return self._resolve_plain(model_id, _profile_model(client, model_id))
        return self._resolve_plain(model_id, model_id)

    def _resolve_plain(self, requested: str, model_id: str) -> ResolvedModel:
        match = _FOUNDATION_ARN.match(model_id)
        if match:
            model_id = match.group(2)
        prefix = next((p for p in PROFILE_PREFIXES if model_id.startswith(p)), "")
        base = model_id[len(prefix) :]
        with self._lock:
            spec = self.specs.get(base)
        return ResolvedModel(requested, spec or unknown_model_spec(base), prefix)

    def models(self) -> list[ModelSpec]:
        """Every model in the table."""
        with self._lock:
            return list(self.specs.values())


def _profile_model(client: Any, arn: str) -> str:
    profile = client.get_inference_profile(inferenceProfileIdentifier=arn)
    models = profile.get("models") or []
    if not models:
        raise ModelResolutionError(f"get_inference_profile returned no models for {arn!r}")
    model_arn: str = models[0]["modelArn"]
    return model_arn.rsplit("/", 1)[-1]


_DEFAULT: ModelTable | None = None
_DEFAULT_LOCK = threading.Lock()


def default_table() -> ModelTable:
    """The process-wide table used wherever no table is passed explicitly."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = ModelTable.shipped()
        return _DEFAULT


def resolve_model(
    model_id: str, *, base_model: str | None = None, client: Any = None
) -> ResolvedModel:
    """Resolve ``model_id`` in the default table (see :meth:`ModelTable.resolve`)."""
    return default_table().resolve(model_id, base_model=base_model, client=client)
