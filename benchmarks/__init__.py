"""The benchmark: workloads replayed through real libraries against the emulator, each
strategy's cost against the clairvoyant lower bound, and the plugin's overhead.

Run ``make bench`` (or ``python -m benchmarks``); see ``benchmarks/README.md``.
"""
