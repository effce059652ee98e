"""Benchmarks (`make bench`). Not tests: they measure, compare against a baseline in the same run,
and report medians with min and max, because the machines are shared and noisy."""
