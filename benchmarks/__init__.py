"""Benchmarks: replay workloads through the real langchain-aws client against the emulator.

Run ``python -m benchmarks.replay``; see ``benchmarks/README.md``.
"""
