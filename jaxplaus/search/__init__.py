"""Derivative-free search over model x stimulus parameters with evosax strategies."""

from jaxplaus.search.loop import LoopState, Search
from jaxplaus.search.strategies import REGISTRY, Strategy, get, names

__all__ = ["LoopState", "REGISTRY", "Search", "Strategy", "get", "names"]
