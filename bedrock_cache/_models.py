"""The model table: which Bedrock models cache what, under which limits, at which prices.

The shipped data lives in ``models.toml``; users add or override entries in code
(:meth:`ModelTable.register_like`, :meth:`ModelTable.register`), from a file of the same shape
(:meth:`ModelTable.load`), or for the whole process with ``BEDROCK_CACHE_MODELS=path.toml``.
Every spec is validated where it is built, so a bad table fails at load time, never mid-request.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

TTL = Literal["5m", "1h"]
#: How long a cache entry lives after its last write or read ("reset by every hit").
TTL_SECONDS: Mapping[TTL, float] = MappingProxyType({"5m": 300.0, "1h": 3600.0})
MinTokensMode = Literal["segment", "prefix"]
Position = Literal[
    "message_start", "after_reasoning", "after_document", "after_video", "next_to_tool_result"
]

#: Cross-region and geo inference-profile prefixes that share the base model's cache.
PROFILE_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "global.")
#: Environment variable naming a user model-table file merged over the shipped one.
MODELS_ENV = "BEDROCK_CACHE_MODELS"
#: Bedrock's per-request limit on cachePoint blocks (Claude and Nova).
MAX_CHECKPOINTS = 4
_FOUNDATION_ARN = re.compile(
    r"^arn:aws[\w-]*:bedrock:[\w-]*:\d*:(foundation-model|inference-profile)/(.+)$"
)
_APP_PROFILE_ARN = re.compile(r"^arn:aws[\w-]*:bedrock:[\w-]+:\d+:application-inference-profile/")


def entry_alive(touched_at: float, ttl: TTL, now: float) -> bool:
    """Whether an entry last written or read at ``touched_at`` with ``ttl`` is live at ``now``."""
    return now - touched_at < TTL_SECONDS[ttl]


class ModelSpecError(ValueError):
    """A model spec or model-table file with a wrong value; the message says what to write."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _problem(name: str, value: Any, expected: str) -> ModelSpecError:
    return ModelSpecError(f"field {name!r} is {value!r}; write {expected}")


@dataclass(frozen=True)
class Prices:
    """USD per one million tokens."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write_5m: float | None = None
    cache_write_1h: float | None = None

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            optional = item.name not in ("input", "output")
            if (value is None and optional) or (_is_number(value) and value >= 0):
                continue
            raise _problem(f"prices.{item.name}", value, "a price in USD per 1M tokens, 0 or more")


@dataclass(frozen=True)
class ModelSpec:
    """What one Bedrock model does with cache checkpoints, and what its tokens cost.

    Validated on construction. To add a model, start from a similar one:
    ``default_table().register_like("my.model-v1:0", like="anthropic.claude-...", ...)``.
    """

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
    ttl_field: bool | None = None
    """May a cachePoint carry a ``ttl`` key at all? ``None`` (the default): exactly when the
    model has extended TTL (``"1h"`` in :attr:`ttls`). Models without it reject the key itself,
    even ``"5m"`` ("Extra inputs are not permitted"), so nothing sends it to them."""

    @property
    def accepts_ttl_field(self) -> bool:
        """Whether a cachePoint for this model may carry a ``ttl`` key (see :attr:`ttl_field`)."""
        return self.ttl_field if self.ttl_field is not None else "1h" in self.ttls

    def __post_init__(self) -> None:
        # Lists from TOML or user code become the immutable types the rest of the code expects.
        object.__setattr__(self, "ttls", tuple(self.ttls))
        object.__setattr__(self, "rejected_positions", frozenset(self.rejected_positions))
        _validate(self)


_TTL_VALUES: tuple[str, ...] = get_args(TTL)
_POSITIONS: tuple[str, ...] = get_args(Position)
_MODES: tuple[str, ...] = get_args(MinTokensMode)
_COUNTS = ("min_tokens", "lookback_blocks", "max_cached_tokens")
_FLAGS = ("supports_caching", "tools_cacheable")


def _validate(spec: ModelSpec) -> None:
    """Types and ranges of every field (a bad value fails here, not inside a request)."""
    for name in ("model_id", "family", "note"):
        if not isinstance(getattr(spec, name), str) or (name == "model_id" and not spec.model_id):
            raise _problem(name, getattr(spec, name), "a string")
    for name in _FLAGS:
        if not isinstance(getattr(spec, name), bool):
            raise _problem(name, getattr(spec, name), "true or false")
    for name in _COUNTS:
        value = getattr(spec, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _problem(name, value, "a whole number of tokens or blocks, 0 or more")
    count = spec.max_checkpoints
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_CHECKPOINTS:
        raise _problem(
            "max_checkpoints", count, f"0 to {MAX_CHECKPOINTS} (Bedrock rejects a 5th cachePoint)"
        )
    if spec.min_tokens_mode not in _MODES:
        raise _problem("min_tokens_mode", spec.min_tokens_mode, f"one of {list(_MODES)}")
    if any(ttl not in _TTL_VALUES for ttl in spec.ttls) or len(set(spec.ttls)) != len(spec.ttls):
        raise _problem("ttls", list(spec.ttls), f"distinct values from {list(_TTL_VALUES)}")
    if spec.supports_caching and not spec.ttls:
        raise _problem("ttls", [], '["5m"] (or ["5m", "1h"]) for a model that caches')
    if spec.ttl_field is not None and not isinstance(spec.ttl_field, bool):
        raise _problem("ttl_field", spec.ttl_field, "true or false, or leave it out")
    if "1h" in spec.ttls and spec.ttl_field is False:
        raise _problem("ttl_field", False, 'true, or leave it out: a "1h" TTL is sent in it')
    unknown = sorted(p for p in spec.rejected_positions if p not in _POSITIONS)
    if unknown:
        raise _problem("rejected_positions", unknown, f"names from {list(_POSITIONS)}")
    if not isinstance(spec.prices, Prices):
        raise _problem("prices", spec.prices, "Prices(input=..., output=...)")
    multiplier = spec.profile_price_multiplier
    if not _is_number(multiplier) or multiplier <= 0:
        raise _problem("profile_price_multiplier", multiplier, "a positive factor, e.g. 1.1")


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


_ENTRY_KEYS = frozenset({"ids", *(f.name for f in fields(ModelSpec))} - {"model_id"})
_PRICE_KEYS = frozenset(f.name for f in fields(Prices))


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(entry: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    for key in entry:
        if key not in known:
            raise ModelSpecError(
                f"unknown field {key!r} in {where}{_did_you_mean(key, known)}; "
                f"known fields: {', '.join(sorted(known))}"
            )


def _prices(value: Any) -> Prices:
    if isinstance(value, Prices):
        return value
    if not isinstance(value, Mapping) or "input" not in value or "output" not in value:
        raise _problem(
            "prices", value, "prices = { input = ..., output = ... } (USD per 1M tokens)"
        )
    _check_keys(value, _PRICE_KEYS, "prices")
    return Prices(**value)


def _spec_from_entry(model_id: str, entry: Mapping[str, Any]) -> ModelSpec:
    _check_keys(entry, _ENTRY_KEYS, "the model entry")
    if "supports_caching" not in entry:
        raise ModelSpecError(
            "field 'supports_caching' is missing; give the entry a family = ... defined under "
            "[families] (claude, nova, other) or write supports_caching = true/false"
        )
    if "prices" not in entry:
        raise _problem("prices", None, "prices = { input = ..., output = ... } (USD per 1M)")
    values = {key: value for key, value in entry.items() if key != "ids"}
    values["prices"] = _prices(values["prices"])
    values.setdefault("family", "other")
    defaults = {"min_tokens": 0, "min_tokens_mode": "segment", "max_checkpoints": 0}
    defaults |= {"ttls": (), "tools_cacheable": False, "lookback_blocks": 0}
    defaults |= {"max_cached_tokens": 0, "rejected_positions": ()}
    return ModelSpec(model_id=model_id, **{**defaults, **values})


def _parse_table(data: Mapping[str, Any], source: str) -> dict[str, ModelSpec]:
    """Specs from a parsed table; any problem names ``source``, the model and the field."""
    families: Mapping[str, Mapping[str, Any]] = data.get("families", {})
    for name, family in families.items():
        try:
            _check_keys(family, _ENTRY_KEYS - {"ids", "family"}, f"[families.{name}]")
        except ModelSpecError as exc:
            raise ModelSpecError(f"{source}: {exc}") from None
    specs: dict[str, ModelSpec] = {}
    for number, entry in enumerate(data.get("models", []), start=1):
        ids = entry.get("ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise ModelSpecError(
                f'{source}: [[models]] entry {number} needs ids = ["provider.model-id", ...]'
            )
        family = entry.get("family", "other")
        if family not in families and "supports_caching" not in entry:
            raise ModelSpecError(
                f"{source}: model {ids[0]!r}: unknown family {family!r}"
                f"{_did_you_mean(str(family), families)}; use one of {sorted(families)} "
                f"or define [families.{family}] first"
            )
        merged = {**families.get(family, {}), **entry}
        for model_id in ids:
            try:
                specs[model_id] = _spec_from_entry(model_id, merged)
            except ModelSpecError as exc:
                raise ModelSpecError(f"{source}: model {model_id!r}: {exc}") from None
    return specs


def split_model_id(model_id: str) -> tuple[str, str]:
    """``(profile prefix, base id)`` of a model id, profile id or foundation-model ARN."""
    match = _FOUNDATION_ARN.match(model_id)
    if match:
        model_id = match.group(2)
    prefix = next((p for p in PROFILE_PREFIXES if model_id.startswith(p)), "")
    return prefix, model_id[len(prefix) :]


def is_application_profile(model_id: str) -> bool:
    """An application inference profile ARN: its model cannot be read from the string."""
    return _APP_PROFILE_ARN.match(model_id) is not None


def unknown_model_spec(model_id: str, suggestion: str | None = None) -> ModelSpec:
    """The spec of a model the table does not know: it is treated as not caching."""
    hint = f" Did you mean {suggestion!r}?" if suggestion else ""
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
            f"{model_id!r} is not in the model table, so no checkpoints are placed for it.{hint} "
            "Register it from a similar model with bedrock_cache.default_table()"
            f".register_like({model_id!r}, like='anthropic.claude-...'), load a file with "
            f"default_table().load('models.toml') or {MODELS_ENV}=path.toml, or pass "
            "base_model= for an application inference profile."
        ),
    )


@functools.cache
def botocore_accepts_ttl() -> bool:
    """Does the installed botocore's bedrock-runtime model have ``CachePointBlock.ttl``?

    The member exists from the 1.43 line on; an older botocore fails client-side parameter
    validation on the key. Read once per process.
    """
    try:
        from botocore.loaders import create_loader

        loader = create_loader(os.environ.get("AWS_DATA_PATH"))
        model = loader.load_service_model("bedrock-runtime", "service-2")
    except Exception:  # no botocore, or no bedrock-runtime model at all: send nothing extra
        return False
    members = model.get("shapes", {}).get("CachePointBlock", {}).get("members", {})
    return "ttl" in members


def sendable(spec: ModelSpec) -> ModelSpec:
    """``spec`` as this process can use it: without a ``ttl`` field (and so without 1h) when
    the installed botocore cannot send one."""
    if not spec.accepts_ttl_field or botocore_accepts_ttl():
        return spec
    ttls = tuple(ttl for ttl in spec.ttls if ttl != "1h")
    return replace(spec, ttl_field=False, ttls=ttls)


def _shipped_data() -> dict[str, Any]:
    text = resources.files("bedrock_cache").joinpath("models.toml").read_text("utf-8")
    return tomllib.loads(text)


def _changed(spec: ModelSpec, changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` checked against ModelSpec's fields; ``prices`` may be a partial mapping."""
    _check_keys(changes, _ENTRY_KEYS - {"ids"}, "the changes")
    result = dict(changes)
    if isinstance(result.get("prices"), Mapping):
        old = {f.name: getattr(spec.prices, f.name) for f in fields(Prices)}
        result["prices"] = _prices({**old, **result["prices"]})
    return result


@dataclass
class ModelTable:
    """Model specs by base id; resolves profile ids and ARNs. Safe to share between threads."""

    specs: dict[str, ModelSpec] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def shipped(cls) -> ModelTable:
        """A fresh table holding the models this package ships."""
        return cls(specs=_parse_table(_shipped_data(), "models.toml (shipped)"))

    def register(self, spec: ModelSpec) -> None:
        """Add a model or replace one (prices, limits) for every later resolution."""
        if not isinstance(spec, ModelSpec):
            raise TypeError("register() takes a ModelSpec; see register_like() to copy one")
        with self._lock:
            self.specs[spec.model_id] = spec

    def register_like(self, model_id: str, *, like: str, **changes: Any) -> ModelSpec:
        """Add ``model_id`` as a copy of the known model ``like``, changing only ``changes``::

            table.register_like("acme.claude-custom-v1:0",
                                like="anthropic.claude-sonnet-4-5-20250929-v1:0",
                                min_tokens=2048, prices={"input": 2.0})

        ``prices`` may name only the prices that differ. Profile prefixes of ``model_id``
        (``us.`` ...) resolve to it afterwards.
        """
        prefix, base = split_model_id(model_id)
        if prefix or base != model_id:
            raise ValueError(
                f"register the base model id {base!r}, not {model_id!r}; profile prefixes and "
                "foundation-model ARNs resolve to it by themselves"
            )
        template = self._known(like)
        spec = replace(template, model_id=model_id, note="", **_changed(template, changes))
        self.register(spec)
        return spec

    def load(self, path: str | Path) -> None:
        """Add or override models from a TOML file shaped like the shipped ``models.toml``.

        Families the file does not define are taken from the shipped table. Every entry is
        validated first; an error names the file, the model and the field.
        """
        source = str(path)
        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
        except FileNotFoundError:
            raise ModelSpecError(f"{source}: no such model-table file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ModelSpecError(f"{source}: not valid TOML ({exc})") from None
        families = {**_shipped_data()["families"], **data.get("families", {})}
        specs = _parse_table({**data, "families": families}, source)
        with self._lock:
            self.specs.update(specs)

    def override(self, model_id: str, **changes: Any) -> ModelSpec:
        """Change some fields of a known model, e.g. ``override(id, min_tokens=2048)``."""
        spec = self._known(model_id)
        spec = replace(spec, **_changed(spec, changes))
        self.register(spec)
        return spec

    def lookup(self, base_id: str) -> ModelSpec | None:
        """The spec stored for a base model id (no prefix, no ARN), or ``None``."""
        with self._lock:
            return self.specs.get(base_id)

    def suggest(self, model_id: str) -> str | None:
        """The known base id closest to ``model_id`` (a typo, a missing version suffix)."""
        base = split_model_id(model_id)[1]
        with self._lock:
            known = sorted(self.specs)
        longer = [known_id for known_id in known if known_id.startswith(base)]
        close = longer or difflib.get_close_matches(base, known, n=1, cutoff=0.6)
        return close[0] if close else None

    def _known(self, model_id: str) -> ModelSpec:
        spec = self.lookup(split_model_id(model_id)[1])
        if spec is None:
            suggestion = self.suggest(model_id)
            hint = f"; did you mean {suggestion!r}?" if suggestion else ""
            raise ValueError(f"{model_id!r} is not in the model table{hint}")
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
        if is_application_profile(model_id):
            if client is None:
                raise ModelResolutionError(
                    f"{model_id!r} is an application inference profile; its model cannot be read "
                    "from the ARN. Pass base_model='anthropic.claude-...' or a boto3 'bedrock' "
                    "client so it can be looked up with get_inference_profile."
                )
            return self._resolve_plain(model_id, _profile_model(client, model_id))
        return self._resolve_plain(model_id, model_id)

    def _resolve_plain(self, requested: str, model_id: str) -> ResolvedModel:
        prefix, base = split_model_id(model_id)
        spec = self.lookup(base)
        if spec is None:
            return ResolvedModel(requested, unknown_model_spec(base, self.suggest(base)), prefix)
        return ResolvedModel(requested, sendable(spec), prefix)

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
    """The process-wide table used wherever no table is passed explicitly.

    Built at first use: the shipped models, then the file(s) named by ``BEDROCK_CACHE_MODELS``
    (separated by ``os.pathsep``), validated.
    """
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            table = ModelTable.shipped()
            for path in filter(None, os.environ.get(MODELS_ENV, "").split(os.pathsep)):
                try:
                    table.load(path)
                except ModelSpecError as exc:
                    raise ModelSpecError(f"{MODELS_ENV}: {exc}") from None
            _DEFAULT = table
        return _DEFAULT


def resolve_model(
    model_id: str, *, base_model: str | None = None, client: Any = None
) -> ResolvedModel:
    """Resolve ``model_id`` in the default table (see :meth:`ModelTable.resolve`)."""
    return default_table().resolve(model_id, base_model=base_model, client=client)
