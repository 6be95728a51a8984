"""The model-native request bodies of InvokeModel, mapped to the one Converse-shaped layout.

The planner, the rules and the emulator's cache all work on Converse requests; an InvokeModel
body is read into a :class:`NativeRequest` (its Converse-shaped mirror plus where each block
came from), planned like any Converse request, and written back in the body's own markers.
"""

from ._anthropic import cache_control, read_anthropic
from ._native import Api, NativeBodyError, NativeRequest, Origin
from ._nova import read_nova
from ._read import FAMILY_APIS, read_native

__all__ = [
    "FAMILY_APIS",
    "Api",
    "NativeBodyError",
    "NativeRequest",
    "Origin",
    "cache_control",
    "read_anthropic",
    "read_native",
    "read_nova",
]
