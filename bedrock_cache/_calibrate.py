"""Measure a model's caching rules on a live endpoint with a bounded, priced set of probes.

Every probe is a small Converse call whose checkpointed prefix is filler text starting with a
per-run nonce and a per-probe tag, so no probe can read an entry an earlier run (or probe) left.
What is measured, and how:

- **minimum tokens**: doubling, then a binary search on the size of a checkpointed system
  prompt; the smallest prefix Bedrock writes is the minimum (snapped to a round number inside
  the interval the search leaves).
- **minimum rule**: two checkpoints, the second half a minimum after the first. Only the first
  is written under the ``segment`` rule; both under ``prefix``.
- **lookback depth**: write an entry, then send the same block followed by ``j`` fresh blocks
  with one checkpoint at the end; the largest ``j`` that still reads the entry is the depth.
- **ttl field / 1h**: a checkpoint with ``"ttl": "5m"``, then with ``"ttl": "1h"``.
- **tool schemas**: a checkpoint in ``toolConfig.tools``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ._models import MinTokensMode, ModelSpec, Prices, ResolvedModel

#: Filler words of four characters: one token each for the offline estimator, about one on Claude.
WORDS = ("oak ", "elm ", "ash ", "fir ", "yew ", "bay ", "fig ", "ivy ")
START_TOKENS = 256
MAX_LOOKBACK = 64
#: Round numbers a measured minimum is snapped to when one lies inside the measured interval.
ROUND = (1024, 512, 256, 1000, 500, 100, 64, 8)
#: Bedrock's limit per request for every caching model so far (not measured: a 5th is rejected).
MAX_CHECKPOINTS = 4
QUESTION = [{"role": "user", "content": [{"text": "Reply with the single word OK."}]}]
REPLY_TOKENS = 8


@dataclass(frozen=True)
class Probe:
    """One probe call: what it tested and what Bedrock reported."""

    name: str
    input_tokens: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output_tokens: int = 0
    error: str | None = None

    @property
    def total_input(self) -> int:
        return self.input_tokens + self.cache_read + self.cache_write


@dataclass
class Calibration:
    """What the probes found for one model."""

    model_id: str
    supports_caching: bool = True
    min_tokens: int = 0
    min_tokens_mode: MinTokensMode = "segment"
    lookback_blocks: int = 0
    ttl_field_accepted: bool | None = None
    """``None``: this botocore cannot send ``ttl`` at all, so it was not tested."""
    one_hour_accepted: bool | None = None
    tools_cacheable: bool = False
    probes: list[Probe] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def cost(self, prices: Prices) -> float:
        """USD the probes cost at ``prices`` (writes priced at the 1h rate when unknown)."""
        write = max(prices.cache_write_1h or 0.0, prices.cache_write_5m or 0.0, prices.input)
        read = prices.cache_read if prices.cache_read is not None else prices.input
        total = sum(
            p.input_tokens * prices.input
            + p.cache_write * write
            + p.cache_read * read
            + p.output_tokens * prices.output
            for p in self.probes
        )
        return total / 1_000_000

    @property
    def ttls(self) -> tuple[str, ...]:
        return ("5m", "1h") if self.one_hour_accepted else ("5m",)


def max_probes(max_tokens: int) -> int:
    """An upper bound on the probes one calibration sends."""
    doublings = max(1, (max_tokens // START_TOKENS).bit_length())
    search = max_tokens.bit_length()
    lookback = 2 + MAX_LOOKBACK.bit_length()
    return doublings + search + 1 + lookback + 2 + 1


def worst_case_cost(max_tokens: int, prices: Prices) -> float:
    """USD if every probe sent the largest prefix and wrote all of it at the dearest rate."""
    per_token = max(prices.cache_write_1h or 0.0, prices.cache_write_5m or 0.0, prices.input)
    per_probe = (2 * max_tokens + MAX_LOOKBACK + 64) * per_token + REPLY_TOKENS * prices.output
    return max_probes(max_tokens) * per_probe / 1_000_000


class _Prober:
    def __init__(self, client: Any, model_id: str, nonce: str) -> None:
        self.client = client
        self.model_id = model_id
        self.nonce = nonce
        self.probes: list[Probe] = []

    def filler(self, units: int) -> str:
        """Fresh text of ``units`` words, unique to this run and probe."""
        tag = f"{self.nonce}-{len(self.probes):03d} "
        return tag + "".join(WORDS[i % len(WORDS)] for i in range(units))

    def send(self, name: str, **request: Any) -> Probe:
        request.setdefault("messages", QUESTION)
        request["inferenceConfig"] = {"maxTokens": REPLY_TOKENS}
        try:
            response = self.client.converse(modelId=self.model_id, **request)
        except Exception as exc:  # a rejection is a measurement, not a failure
            probe = Probe(name, error=_error_name(exc))
        else:
            usage: Mapping[str, Any] = response.get("usage", {})
            probe = Probe(
                name,
                input_tokens=int(usage.get("inputTokens", 0)),
                cache_read=int(usage.get("cacheReadInputTokens", 0)),
                cache_write=int(usage.get("cacheWriteInputTokens", 0)),
                output_tokens=int(usage.get("outputTokens", 0)),
            )
        self.probes.append(probe)
        return probe

    def system_probe(self, name: str, units: int, point: Mapping[str, Any] | None = None) -> Probe:
        cache_point = {"type": "default", **(point or {})}
        system = [{"text": self.filler(units)}, {"cachePoint": cache_point}]
        return self.send(name, system=system)


def calibrate(
    client: Any,
    model_id: str,
    *,
    max_tokens: int = 8192,
    nonce: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Calibration:
    """Measure ``model_id``'s caching rules through ``client`` (a boto3 ``bedrock-runtime``)."""
    prober = _Prober(client, model_id, nonce or secrets.token_hex(6))
    result = Calibration(model_id, probes=prober.probes)
    found = _minimum(prober, result, max_tokens, progress)
    if found is None:
        return result
    units, tokens = found
    progress(f"minimum: {result.min_tokens:,} tokens")
    _mode(prober, result, units, tokens)
    progress(f"minimum rule: {result.min_tokens_mode}")
    _lookback(prober, result, units)
    progress(f"lookback: {result.lookback_blocks} blocks")
    _ttls(prober, result, units)
    progress(f"ttl field accepted: {result.ttl_field_accepted}, 1h: {result.one_hour_accepted}")
    _tools(prober, result, units)
    progress(f"tool schemas cacheable: {result.tools_cacheable}")
    return result


def _minimum(
    prober: _Prober, result: Calibration, max_tokens: int, progress: Callable[[str], None]
) -> tuple[int, int] | None:
    """Filler words at the minimum and the prefix tokens they make, or None when the model
    caches nothing up to ``max_tokens``."""
    low, high = 0, START_TOKENS
    unwritten: Probe | None = None
    while True:
        probe = prober.system_probe("minimum", high)
        if probe.error is not None:
            result.supports_caching = False
            result.notes.append(f"a cachePoint was rejected ({probe.error}): no prompt caching")
            return None
        if probe.cache_write:
            break
        progress(f"  {high:,} words: nothing written")
        unwritten, low, high = probe, high, high * 2
        if high > max_tokens:
            result.supports_caching = False
            result.notes.append(f"nothing was written up to {low:,} words (--max-tokens)")
            return None
    written = probe
    while high - low > 1:
        middle = (low + high) // 2
        probe = prober.system_probe("minimum", middle)
        if probe.cache_write:
            high, written = middle, probe
        else:
            low, unwritten = middle, probe
    # The largest prefix not written, measured the same way: its input minus the question.
    question = written.total_input - written.cache_write
    lower = unwritten.total_input - question if unwritten is not None else 0
    result.min_tokens = _snap(lower, written.cache_write)
    return high, written.cache_write


def _snap(lower: int, upper: int) -> int:
    """The roundest number in (lower, upper]: Bedrock's minimums are round numbers."""
    for step in ROUND:
        candidate = (upper // step) * step
        if candidate > lower:
            return candidate
    return upper


def _mode(prober: _Prober, result: Calibration, units: int, tokens: int) -> None:
    """A second checkpoint half a minimum after the first is written only under ``prefix``."""
    half = max(1, units // 2)
    system = [
        {"text": prober.filler(units)},
        {"cachePoint": {"type": "default"}},
        {"text": prober.filler(half)},
        {"cachePoint": {"type": "default"}},
    ]
    probe = prober.send("minimum rule", system=system)
    result.min_tokens_mode = "prefix" if probe.cache_write > tokens + half // 2 else "segment"


def _lookback(prober: _Prober, result: Calibration, units: int) -> None:
    anchor = {"text": prober.filler(units)}
    prober.send("lookback anchor", messages=[_user([anchor, {"cachePoint": {"type": "default"}}])])

    def reads_at(depth: int) -> bool:
        tag = prober.filler(0)
        blocks = [anchor, *({"text": f"{tag}{i}"} for i in range(1, depth + 1))]
        probe = prober.send(
            f"lookback {depth}", messages=[_user([*blocks, {"cachePoint": {"type": "default"}}])]
        )
        return probe.cache_read > 0

    if reads_at(MAX_LOOKBACK):
        result.lookback_blocks = MAX_LOOKBACK
        result.notes.append(f"lookback reaches at least {MAX_LOOKBACK} blocks")
        return
    low, high = -1, MAX_LOOKBACK  # reads at low (-1: not even exact), not at high
    while high - low > 1:
        middle = (low + high) // 2
        if reads_at(middle):
            low = middle
        else:
            high = middle
    result.lookback_blocks = max(low, 0)


def _ttls(prober: _Prober, result: Calibration, units: int) -> None:
    five = prober.system_probe("ttl 5m", units, {"ttl": "5m"})
    if five.error == "ParamValidationError":
        result.notes.append("this botocore cannot send a ttl (upgrade botocore to >= 1.43)")
        return
    result.ttl_field_accepted = five.error is None
    hour = prober.system_probe("ttl 1h", units, {"ttl": "1h"})
    result.one_hour_accepted = hour.error is None and hour.cache_write > 0


def _tools(prober: _Prober, result: Calibration, units: int) -> None:
    spec = {
        "name": "lookup",
        "description": prober.filler(units),
        "inputSchema": {"json": {"type": "object", "properties": {}}},
    }
    tools = [{"toolSpec": spec}, {"cachePoint": {"type": "default"}}]
    probe = prober.send("tool schemas", toolConfig={"tools": tools})
    result.tools_cacheable = probe.error is None and probe.cache_write > 0


def _user(content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"role": "user", "content": content}


def _error_name(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


def override_toml(
    result: Calibration, model: ResolvedModel, known: ModelSpec | None, prices: Prices, where: str
) -> str:
    """A model-table file (the format ``ModelTable.load`` reads) with what was measured."""
    base = model.spec.model_id
    family = known.family if known else "other"
    positions = sorted(known.rejected_positions) if known else ["message_start"]
    max_cached = known.max_cached_tokens if known else 0
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    untested = result.ttl_field_accepted is None and known is not None
    ttls = known.ttls if untested and known is not None else result.ttls
    if untested and known is not None:  # the table's word; unset means "what 1h needs"
        ttl_field = known.ttl_field if known.ttl_field is not None else "1h" in known.ttls
    else:
        ttl_field = bool(result.ttl_field_accepted)
    lines = [
        f"# bedrock-cache calibrate: {base} measured on {where}, {when},",
        f"# {len(result.probes)} probes, about ${result.cost(prices):.4f}.",
        "# Use it with BEDROCK_CACHE_MODELS=<this file> or default_table().load(<this file>).",
        "",
        "[[models]]",
        f"ids = [{_q(base)}]",
        f"family = {_q(family)}",
        f"supports_caching = {_b(result.supports_caching)}",
        f"min_tokens = {result.min_tokens}",
        f"min_tokens_mode = {_q(result.min_tokens_mode)}",
        f"ttls = [{', '.join(_q(t) for t in ttls)}]",
        f"ttl_field = {_b(ttl_field)}",
        f"tools_cacheable = {_b(result.tools_cacheable)}",
        f"lookback_blocks = {result.lookback_blocks}",
        "# Not measured (from the shipped table, or Bedrock's usual values for a new model):",
        f"max_checkpoints = {known.max_checkpoints if known else MAX_CHECKPOINTS}",
        f"max_cached_tokens = {max_cached}",
        f"rejected_positions = [{', '.join(_q(p) for p in positions)}]",
        "# USD per 1M tokens" + ("" if known else "; not known for this model: fill them in"),
        "prices = { " + ", ".join(_prices(prices)) + " }",
    ]
    if result.notes:
        lines[3:3] = [f"# note: {note}" for note in result.notes]
    return "\n".join(lines) + "\n"


def _prices(prices: Prices) -> list[str]:
    values = {
        "input": prices.input,
        "output": prices.output,
        "cache_read": prices.cache_read,
        "cache_write_5m": prices.cache_write_5m,
        "cache_write_1h": prices.cache_write_1h,
    }
    return [f"{key} = {value!r}" for key, value in values.items() if value is not None]


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _b(value: bool) -> str:
    return "true" if value else "false"
