"""The static lint: what in a set of Converse requests will make Bedrock's prompt cache miss.

Each rule has a stable id. Rules about one request reuse Bedrock's checkpoint rules
(:mod:`bedrock_cache._rules`) and the model table; rules about several requests compare them in
the order given (a conversation, or traffic from a log).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from .._layout import CACHE_POINT, Block, Layout
from .._models import ModelTable, ResolvedModel, default_table
from .._pricing import cost_of
from .._rules import (
    UNSUPPORTED_MODEL_MESSAGE,
    entry_checkpoints,
    existing_placements,
    position_problem,
    ttl_problem,
)
from .._usage import CacheUsage
from ._blocks import block_text, normalized, raw_blocks, section_position
from ._detectors import find_dynamic_content

Severity = Literal["error", "warning", "info"]

#: Rule id -> (name, severity). Ids are stable; new rules get new ids.
RULES: dict[str, tuple[str, Severity]] = {
    "BC101": ("dynamic-content", "warning"),
    "BC102": ("tool-order", "warning"),
    "BC103": ("json-key-order", "warning"),
    "BC104": ("whitespace-drift", "warning"),
    "BC105": ("tool-choice-or-thinking-change", "warning"),
    "BC201": ("below-minimum", "warning"),
    "BC202": ("too-many-checkpoints", "error"),
    "BC203": ("ttl-order", "error"),
    "BC204": ("ttl-not-supported", "error"),
    "BC205": ("model-does-not-cache", "error"),
    "BC206": ("rejected-position", "error"),
    "BC301": ("one-off-prefix", "warning"),
    "BC302": ("lookback-exceeded", "warning"),
    "BC401": ("observed-miss", "warning"),
}

#: What to do about each miss cause the explainer reports (BC401).
MISS_FIXES = {
    "prefix_changed": "keep everything before the last checkpoint byte-identical between calls; "
    "move timestamps and ids after it",
    "expired": "use ttl '1h' (CachePolicy(static_ttl='1h')) where the model supports it",
    "below_minimum": "cache only prefixes above the model minimum, or add shared content first",
    "lookback_exceeded": "let bedrock-cache plan the checkpoints (it bridges long turns)",
    "model_changed": "keep one model per conversation; a cache entry belongs to one model",
}


@dataclass(frozen=True)
class Finding:
    """One lint finding; :meth:`as_dict` is its JSON form.

    ``request`` is the request's index in the input, ``block`` the block's index within its
    section (message blocks count across all messages), ``offset`` a character in the block's
    text (or ``None``), ``monthly_cost_usd`` what it costs a month at the given traffic (or
    ``None`` when unknown).
    """

    rule: str
    severity: Severity
    request: int
    section: str | None
    block: int | None
    offset: int | None
    message: str
    fix: str
    monthly_cost_usd: float | None = None

    @property
    def name(self) -> str:
        return RULES[self.rule][0]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"request {self.request}"
        if self.section is not None:
            where += f", {self.section}"
            if self.block is not None:
                where += f" block {self.block}"
            if self.offset is not None:
                where += f", char {self.offset}"
        cost = f" (~${self.monthly_cost_usd:,.2f}/month)" if self.monthly_cost_usd else ""
        return (
            f"{where}: {self.severity} {self.rule} {self.name}: {self.message}{cost}\n"
            f"    fix: {self.fix}"
        )


@dataclass
class _Request:
    index: int
    request: Mapping[str, Any]
    layout: Layout
    model: ResolvedModel
    items: list[Any]


class _Linter:
    def __init__(self, table: ModelTable, monthly_requests: int | None) -> None:
        self.table = table
        self.monthly_requests = monthly_requests
        self.findings: list[Finding] = []

    def add(
        self,
        rule: str,
        req: _Request,
        block: Block | None,
        message: str,
        fix: str,
        *,
        offset: int | None = None,
        lost_tokens: int = 0,
        premium: bool = False,
    ) -> None:
        section = block.section if block is not None else None
        position = section_position(req.layout, block) if block is not None else None
        cost = self._monthly(req.model, lost_tokens, premium) if lost_tokens else None
        self.findings.append(
            Finding(rule, RULES[rule][1], req.index, section, position, offset, message, fix, cost)
        )

    def _monthly(self, model: ResolvedModel, tokens: int, premium: bool) -> float | None:
        """Monthly dollars of ``tokens`` written instead of read (or, with ``premium``, written
        instead of sent uncached), at the given monthly request count."""
        if not self.monthly_requests or not model.spec.supports_caching:
            return None
        write = cost_of(CacheUsage(cache_write_5m=tokens), model).total
        other = CacheUsage(uncached_input=tokens) if premium else CacheUsage(cache_read=tokens)
        return round((write - cost_of(other, model).total) * self.monthly_requests, 2)

    # -- rules on one request ---------------------------------------------------------------

    def single(self, req: _Request) -> None:
        spec = req.model.spec
        places = existing_placements(req.layout)
        self._dynamic(req)
        if not places:
            return
        if not spec.supports_caching:
            fix = "send no cachePoint to this model, or pick a model that caches"
            note = spec.note or UNSUPPORTED_MODEL_MESSAGE
            self.add("BC205", req, None, f"{spec.model_id} does not cache: {note}", fix)
            return
        if len(places) > spec.max_checkpoints:
            self.add(
                "BC202",
                req,
                None,
                f"{len(places)} cachePoint blocks; {spec.model_id} allows {spec.max_checkpoints}",
                "keep the checkpoints after the most stable parts (tools, system, documents) "
                "and one at the end of the conversation",
            )
        self._ttls(req)
        for place in places:
            problem = position_problem(req.layout, spec, place)
            if problem is not None:
                block = req.layout.blocks[place.after] if place.after >= 0 else None
                self.add("BC206", req, block, problem, "move the cachePoint one block later")
        if any(f.request == req.index and f.severity == "error" for f in self.findings):
            return  # Bedrock rejects the request: what it would cache does not matter yet
        for entry in entry_checkpoints(req.layout, spec, places):
            if entry.ignored is not None and "minimum" in entry.ignored:
                block = req.layout.blocks[entry.after] if entry.after >= 0 else None
                self.add(
                    "BC201",
                    req,
                    block,
                    f"this checkpoint caches nothing: {entry.ignored}",
                    "drop it, or move it after more content (the model minimum is "
                    f"{spec.min_tokens:,} tokens per checkpoint)",
                )

    def _ttls(self, req: _Request) -> None:
        spec = req.model.spec
        with_field = [cp for cp in _raw_points(req.request) if "ttl" in cp]
        if with_field and not spec.accepts_ttl_field:
            stored = self.table.lookup(spec.model_id)
            if stored is not None and stored.accepts_ttl_field:  # the model takes it, boto3 not
                message = (
                    "the installed botocore has no cachePoint 'ttl' member (it came in 1.43), so "
                    "boto3 refuses this request before sending it"
                )
                fix = "upgrade boto3 and botocore to 1.43 or later, or remove 'ttl'"
            else:
                message = (
                    f"{spec.model_id} has no extended TTL and rejects the cachePoint 'ttl' field "
                    "itself, even '5m'"
                )
                fix = "remove 'ttl' from the cachePoint blocks for this model"
            self.add("BC204", req, None, message, fix)
            return
        problem = ttl_problem(spec, [cp.ttl for cp in req.layout.checkpoints])
        if problem is not None:
            self.add(
                "BC203",
                req,
                None,
                problem,
                "give the earlier checkpoints (tools, system) ttl '1h' and the later ones '5m'",
            )

    def _dynamic(self, req: _Request) -> None:
        """Dynamic content in tools or system: the parts every caching strategy caches."""
        for block, item in zip(req.layout.blocks, req.items, strict=True):
            if block.section == "messages":
                break
            text = block_text(item)
            for span in find_dynamic_content(text)[:1]:
                self.add(
                    "BC101",
                    req,
                    block,
                    f"{span.description} ({span.kind}) inside the cached prefix changes the "
                    "prefix on every request, so every call writes it again",
                    "move it after the last checkpoint (e.g. into the user message), or round "
                    "it to a value that stays the same for the TTL",
                    offset=span.start,
                    lost_tokens=req.layout.total_tokens - block.cumulative + block.tokens,
                )

    # -- rules across requests --------------------------------------------------------------

    def pair(self, before: _Request, req: _Request) -> None:
        """Compare ``req`` with the request before it on the same model."""
        self._tool_order(before, req)
        self._drift(before, req)
        self._scope(before, req)

    def _tool_order(self, before: _Request, req: _Request) -> None:
        names_before, names = _tool_names(before.request), _tool_names(req.request)
        if names != names_before and sorted(names) == sorted(names_before) and names:
            moved = zip(names, names_before, strict=True)
            first = next(i for i, (a, b) in enumerate(moved) if a != b)
            self.add(
                "BC102",
                req,
                req.layout.blocks[first],
                f"the same {len(names)} tools in another order than request {before.index}; "
                "tools come first in the prefix, so the whole prompt is written again",
                "sort the tools (e.g. by name) before every call",
                lost_tokens=req.layout.total_tokens,
            )

    def _drift(self, before: _Request, req: _Request) -> None:
        """The first block that differs from the request before, when only formatting differs."""
        pairs = zip(
            raw_blocks(req.request, req.layout),
            raw_blocks(before.request, before.layout),
            strict=False,
        )
        for (block, item), (_, old) in pairs:
            text, old_text = block_text(item), block_text(old)
            if text == old_text:
                if block.fingerprint == before.layout.blocks[block.index].fingerprint:
                    continue
                return  # same block, other scope (BC105) or placement
            if normalized(item) != normalized(old):
                return  # a real change of content (BC101 names the dynamic kinds)
            if item == old or text.split() != old_text.split():
                rule, what = "BC103", "JSON keys in another order"
            else:
                rule, what = "BC104", "whitespace that differs"
            offset = _first_difference(text, old_text)
            self.add(
                rule,
                req,
                block,
                f"same content as request {before.index} but {what}: the prefix changes here",
                "serialize the prompt the same way every time (json.dumps(..., sort_keys=True); "
                "no trailing spaces or changing line breaks)",
                offset=offset,
                lost_tokens=req.layout.total_tokens - block.cumulative + block.tokens,
            )
            return

    def _scope(self, before: _Request, req: _Request) -> None:
        changed = [k for k in ("toolChoice", "thinking") if _scope(before, k) != _scope(req, k)]
        shares_static = _static_end(before) == _static_end(req) is not None
        if changed and shares_static and req.layout.message_count:
            first = next(b for b in req.layout.blocks if b.section == "messages")
            self.add(
                "BC105",
                req,
                first,
                f"{' and '.join(changed)} changed since request {before.index}; that "
                "invalidates every cached message block (tools and system stay cached)",
                "keep toolChoice and thinking settings fixed within a conversation",
                lost_tokens=req.layout.total_tokens - first.cumulative + first.tokens,
            )

    def traffic(self, requests: Sequence[_Request]) -> None:
        """Checkpoints on prefixes that never recur, and turns beyond the lookback."""
        counts: dict[str, int] = {}
        for req in requests:
            for fingerprint in {b.fingerprint for b in req.layout.blocks}:
                counts[fingerprint] = counts.get(fingerprint, 0) + 1
        entries: set[str] = set()
        for req in requests:
            self._lookback(req, entries)
            spec = req.model.spec
            places = existing_placements(req.layout)
            for entry in entry_checkpoints(req.layout, spec, places):
                if entry.ignored is not None or entry.after < 0:
                    continue
                block = req.layout.blocks[entry.after]
                entries.add(block.fingerprint)
                newest = block.message == req.layout.message_count - 1
                tail = block.section == "messages" and newest  # read by the next turn
                if len(requests) > 1 and counts[block.fingerprint] == 1 and not tail:
                    self.add(
                        "BC301",
                        req,
                        block,
                        f"no other request shares the {entry.prefix_tokens:,}-token prefix "
                        "before this checkpoint: a write (1.25x input) that is never read",
                        "drop the checkpoint, or move it to a boundary that recurs",
                        lost_tokens=entry.prefix_tokens,
                        premium=True,
                    )

    def _lookback(self, req: _Request, entries: set[str]) -> None:
        spec = req.model.spec
        places = existing_placements(req.layout)
        if not places or not spec.supports_caching:
            return
        known = [b.index for b in req.layout.blocks if b.fingerprint in entries]
        if not known:
            return
        deepest = known[-1]
        afters = sorted(p.after for p in places if p.after >= deepest)
        if afters and afters[0] - deepest > spec.lookback_blocks:
            block = req.layout.blocks[deepest]
            self.add(
                "BC302",
                req,
                block,
                f"{afters[0] - deepest} new blocks between the last cached prefix and the next "
                f"checkpoint; {spec.model_id} looks back {spec.lookback_blocks} blocks, so the "
                "earlier entry is not found",
                "add a checkpoint at the end of the previous turn (a bridge), or let "
                "bedrock-cache plan the checkpoints",
                lost_tokens=block.cumulative,
            )


def _raw_points(request: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    tool_config = request.get("toolConfig") or {}
    lists = [tool_config.get("tools") or [], request.get("system") or []]
    lists += [m.get("content") or [] for m in request.get("messages") or []]
    for items in lists:
        for item in items:
            if isinstance(item, Mapping) and CACHE_POINT in item:
                yield item[CACHE_POINT]


def _tool_names(request: Mapping[str, Any]) -> list[str]:
    tools = (request.get("toolConfig") or {}).get("tools") or []
    return [str(t["toolSpec"].get("name")) for t in tools if "toolSpec" in t]


def _keys(value: Any) -> Iterator[str]:
    """Every key of a JSON value, depth first, in the order given."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield str(key)
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def _first_difference(text: str, old: str) -> int:
    for index, (a, b) in enumerate(zip(text, old, strict=False)):
        if a != b:
            return index
    return min(len(text), len(old))


def _scope(req: _Request, key: str) -> str:
    if key == "toolChoice":
        value = (req.request.get("toolConfig") or {}).get("toolChoice")
    else:
        value = (req.request.get("additionalModelRequestFields") or {}).get("thinking")
    return json.dumps(value, sort_keys=True)


def _static_end(req: _Request) -> str | None:
    ends = [b for b in req.layout.blocks if b.section != "messages"]
    return ends[-1].fingerprint if ends else None


def observed_misses(records: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """Findings for the misses a trace log recorded (each line a ``CallReport.as_dict()``);
    ``request`` is the line's index. Cold starts (``first_seen``) are not findings."""
    findings = []
    for index, record in enumerate(records):
        miss = record.get("miss")
        if not isinstance(miss, Mapping) or miss.get("cause") not in MISS_FIXES:
            continue
        cause = str(miss["cause"])
        findings.append(
            Finding(
                "BC401",
                RULES["BC401"][1],
                index,
                miss.get("section"),
                miss.get("block"),
                miss.get("offset"),
                f"{cause} on {record.get('model_id', 'the model')}: {miss.get('message', '')}",
                MISS_FIXES[cause],
            )
        )
    return findings


def lint(
    requests: Sequence[Mapping[str, Any]],
    *,
    table: ModelTable | None = None,
    monthly_requests: int | None = None,
) -> list[Finding]:
    """Lint Converse requests (boto3 keyword form), in the order they were (or will be) sent.

    Args:
        requests: the requests; a conversation's turns, or a sample of traffic.
        table: the model table (the default table if omitted).
        monthly_requests: requests a month, to price findings (``monthly_cost_usd``).

    Returns:
        The findings, by request and then by rule.
    """
    if monthly_requests is not None and monthly_requests < 0:
        raise ValueError("monthly_requests must be 0 or more (None: do not price findings)")
    table = table or default_table()
    linter = _Linter(table, monthly_requests)
    parsed: list[_Request] = []
    for index, request in enumerate(requests):
        if not isinstance(request, Mapping):
            raise ValueError(f"request {index} is not a JSON object of Converse keyword arguments")
        try:
            layout = Layout.of(request)
            model = table.resolve(str(request.get("modelId", "")))
            items = [item for _, item in raw_blocks(request, layout)]
        except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
            raise ValueError(
                f"request {index} is not a Converse request ({type(exc).__name__}: {exc}); give "
                "modelId, system, messages (each with role and content) and toolConfig as "
                "boto3's converse() takes them"
            ) from exc
        parsed.append(_Request(index, request, layout, model, items))
    last_by_model: dict[str, _Request] = {}
    for req in parsed:
        linter.single(req)
        before = last_by_model.get(req.model.spec.model_id)
        if before is not None:
            linter.pair(before, req)
        last_by_model[req.model.spec.model_id] = req
    linter.traffic(parsed)
    return sorted(linter.findings, key=lambda f: (f.request, f.rule))
