"""Sweeps: assess many variants of one model family in one batched search (see `job`)."""

from jaxplaus.sweep.evaluator import VariantEvaluator
from jaxplaus.sweep.job import DEFAULT_BUDGET, RESTARTS, SweepConfig, SweepPlan, plan, run_search, summarize, sweep
from jaxplaus.sweep.variants import (FAMILY, Variants, family_model, grid_variants, random_variants,
                                     structure_variants)

__all__ = ["DEFAULT_BUDGET", "FAMILY", "RESTARTS", "SweepConfig", "SweepPlan", "VariantEvaluator", "Variants",
           "family_model", "grid_variants", "plan", "random_variants", "run_search", "structure_variants",
           "summarize", "sweep"]
