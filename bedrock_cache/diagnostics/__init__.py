"""Diagnostics: why calls miss the cache (at run time) and what in a request will make them miss
(the lint), with the dynamic-content detectors both use."""

from ._detectors import DynamicSpan, find_dynamic_content
from ._inputs import InputError, read_requests
from ._lint import RULES, Finding, Severity, lint, observed_misses
from ._miss import Expectation, Miss, MissCause, MissExplainer
from ._warn import MissWarnings

__all__ = [
    "RULES",
    "DynamicSpan",
    "Expectation",
    "Finding",
    "InputError",
    "Miss",
    "MissCause",
    "MissExplainer",
    "MissWarnings",
    "Severity",
    "find_dynamic_content",
    "lint",
    "observed_misses",
    "read_requests",
]
