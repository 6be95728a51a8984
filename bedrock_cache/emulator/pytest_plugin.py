"""pytest plugin (loaded through the ``pytest11`` entry point): the ``bedrock_emulator`` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import BedrockEmulator, ManualClock


@pytest.fixture
def bedrock_emulator() -> Iterator[BedrockEmulator[ManualClock]]:
    """A started local Bedrock emulator on a manual clock, fresh for each test.

    Point code at ``bedrock_emulator.endpoint_url`` (or ``**bedrock_emulator.connection_kwargs``)
    or use ``bedrock_emulator.client()`` / ``.control_client()``;
    ``bedrock_emulator.clock.advance(301)`` expires 5-minute cache entries.
    """
    with BedrockEmulator(clock=ManualClock()) as emulator:
        yield emulator
