"""bedrock_cache: Amazon Bedrock prompt caching, planned, measured and explained.

The framework-neutral core: the model table, token estimation, the checkpoint planner, usage and
cost accounting, and client instrumentation. The local Bedrock stand-in lives in
:mod:`bedrock_cache.emulator`.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from ._auto import instrument_all, uninstrument_all
from ._breaker import CircuitBreaker
from ._estimate import (
    ObservedTraffic,
    ProvisionedThroughput,
    SavingsEstimate,
    Traffic,
    break_even_reads,
    estimate_savings,
    observed_traffic,
)
from ._instrument import RESPONSE_KEY, client_cache, instrument_client, is_instrumented
from ._layout import Block, Layout, cache_point, with_checkpoints, without_checkpoints
from ._models import (
    TTL,
    ModelResolutionError,
    ModelSpec,
    ModelSpecError,
    ModelTable,
    Prices,
    ResolvedModel,
    default_table,
    resolve_model,
)
from ._outcomes import Outcome, outcome_of
from ._plan import Plan, PlannedCheckpoint
from ._planner import plan_checkpoints
from ._policy import CachePolicy
from ._pricing import Cost, Workload, cost_of, estimate
from ._redis_store import RedisStore
from ._resolve import ModelResolver
from ._reuse import ReuseTracker, Sighting
from ._rules import CheckpointRuleError, check_request, entry_checkpoints
from ._session import BedrockCache, CallReport, PreparedRequest, active_cache, record_call
from ._store import InProcessStore, Observation, ReuseStore
from ._tokens import CountTokensEstimator, DefaultEstimator, TokenEstimator, block_tokens
from ._usage import (
    RECENT_CALLS,
    CacheStats,
    CacheUsage,
    CallRecord,
    StatsSnapshot,
    usage_from_anthropic,
    usage_from_converse,
    usage_from_invocation_metrics,
    usage_from_langchain,
    usage_from_llama_index,
    usage_from_native,
    usage_from_nova,
    usage_from_stream_event,
)
from .diagnostics import Finding, Miss, MissExplainer, lint

try:
    __version__ = _version("bedrock-prompt-cache")
except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "RECENT_CALLS",
    "RESPONSE_KEY",
    "TTL",
    "BedrockCache",
    "Block",
    "CachePolicy",
    "CacheStats",
    "CacheUsage",
    "CallRecord",
    "CallReport",
    "CheckpointRuleError",
    "CircuitBreaker",
    "Cost",
    "CountTokensEstimator",
    "DefaultEstimator",
    "Finding",
    "InProcessStore",
    "Layout",
    "Miss",
    "MissExplainer",
    "ModelResolutionError",
    "ModelResolver",
    "ModelSpec",
    "ModelSpecError",
    "ModelTable",
    "Observation",
    "ObservedTraffic",
    "Outcome",
    "Plan",
    "PlannedCheckpoint",
    "PreparedRequest",
    "Prices",
    "ProvisionedThroughput",
    "RedisStore",
    "ResolvedModel",
    "ReuseStore",
    "ReuseTracker",
    "SavingsEstimate",
    "Sighting",
    "StatsSnapshot",
    "TokenEstimator",
    "Traffic",
    "Workload",
    "active_cache",
    "block_tokens",
    "break_even_reads",
    "cache_point",
    "check_request",
    "client_cache",
    "cost_of",
    "default_table",
    "entry_checkpoints",
    "estimate",
    "estimate_savings",
    "instrument_all",
    "instrument_client",
    "is_instrumented",
    "lint",
    "observed_traffic",
    "outcome_of",
    "plan_checkpoints",
    "record_call",
    "resolve_model",
    "uninstrument_all",
    "usage_from_anthropic",
    "usage_from_converse",
    "usage_from_invocation_metrics",
    "usage_from_langchain",
    "usage_from_llama_index",
    "usage_from_native",
    "usage_from_nova",
    "usage_from_stream_event",
    "with_checkpoints",
    "without_checkpoints",
]
