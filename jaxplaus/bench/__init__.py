"""Benchmarks run by `jaxplaus bench`: the sampler benchmark (`samplers`), its statistics
(`stats`) and its figures and page (`report`)."""

from jaxplaus.bench import stats
from jaxplaus.bench.samplers import BenchConfig, Sampler, bench, competitors

__all__ = ["BenchConfig", "Sampler", "bench", "competitors", "stats"]
