"""Reading a finished search: the learned covariance as a correlation matrix and its spectrum
(Confavreux et al. 2025: nearly rank 1, a valley of equally good rules), and mean-field fixed
points."""

from __future__ import annotations

import math

import numpy as np

from jaxplaus.plasticity.rules import coactive_fixed_point


def correlation(cov) -> np.ndarray:
    cov = np.asarray(cov, np.float64)
    scale = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    return cov / np.outer(scale, scale)


def spectrum(cov) -> dict:
    """Eigenvalues of the correlation matrix, largest first, and the share of the largest: near
    1 means one direction dominates (a degenerate valley of rules)."""
    eig = np.sort(np.linalg.eigvalsh(correlation(cov)))[::-1]
    return {"eigenvalues": eig.tolist(), "largest_share": float(eig[0] / eig.sum())}


def fixed_points(rule, theta, rate_e, rate_i) -> dict:
    """Per plastic projection of a co-active rule: the postsynaptic rate at which the expected
    weight change is zero, given the measured presynaptic rate (None for other families)."""
    if rule.param_names[:2] != ("log_tau_pre", "log_tau_post") or len(rule.param_names) != 6:
        return {}
    rates = {"E": rate_e, "I": rate_i}
    out = {}
    for projection, part in rule.split(np.asarray(theta, np.float64)).items():
        r_pre = rates[projection[0]]
        value = coactive_fixed_point(part, r_pre) if r_pre is not None and r_pre > 0 else math.nan
        out[projection] = None if math.isnan(value) else value
    return out
