"""Diagnostics: why calls miss the cache (at run time) and what in a request will make them miss
(the lint), with the dynamic-content detectors both use."""

from ._detectors import DynamicSpan, find_dynamic_content
from ._miss import Expectation, Miss, MissCause, MissExplainer
from ._warn import MissWarnings

__all__ = [
    "DynamicSpan",
    "Expectation",
    "Miss",
    "MissCause",
    "MissExplainer",
    "MissWarnings",
    "find_dynamic_content",
]
