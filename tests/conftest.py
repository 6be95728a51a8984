"""Shared test setup.

The ``bedrock_emulator`` fixture comes from the installed ``pytest11`` entry point
(``bedrock_cache.emulator.pytest_plugin``); do not list it in ``pytest_plugins`` as well.
"""
