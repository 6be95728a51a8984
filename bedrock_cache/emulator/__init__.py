"""A local Amazon Bedrock emulator with Bedrock's prompt-caching rules: bedrock-runtime's
Converse, ConverseStream and CountTokens, and the bedrock control plane's inference profiles.

Real boto3 clients, langchain-aws and llama-index talk to it over HTTP on 127.0.0.1::

    from bedrock_cache.emulator import BedrockEmulator, ManualClock

    with BedrockEmulator(clock=ManualClock()) as emu:
        response = emu.client().converse(modelId=..., system=[...], messages=[...])
        response["usage"]["cacheWriteInputTokens"]
        emu.control_client().create_inference_profile(...)  # Converse then runs on its ARN

In pytest, use the ``bedrock_emulator`` fixture (installed with this package).
"""

from ._cache import CacheOutcome, CheckpointOutcome, PromptCache
from ._clock import Clock, ManualClock, WallClock
from ._emulator import BedrockEmulator
from ._replies import Reply, SimulatedLatency
from ._service import EmulatorTotals, RecordedRequest

__all__ = [
    "BedrockEmulator",
    "CacheOutcome",
    "CheckpointOutcome",
    "Clock",
    "EmulatorTotals",
    "ManualClock",
    "PromptCache",
    "RecordedRequest",
    "Reply",
    "SimulatedLatency",
    "WallClock",
]
