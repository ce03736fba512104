"""Smoke test of benchmarks/plasticity_throughput.py: a compiled batch runs and reports rates."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import plasticity_throughput  # noqa: E402

from jaxplaus.plasticity import network as N  # noqa: E402
from jaxplaus.plasticity import rules as R  # noqa: E402


def test_a_batch_is_compiled_apart_and_timed():
    result = plasticity_throughput.measure(N.get_network("small"), R.get_rule("ie6"), 0.05, 2, 1, repeats=2)
    assert result["networks"] == 2 and len(result["wall_s_each"]) == 2
    assert result["wall_s"] == min(result["wall_s_each"]) > 0 and result["compile_s"] > 0
    assert result["network_bio_s_per_wall_s"] == 2 * 0.05 / result["wall_s"]
    assert result["rate_e_hz"] > 0 and result["rate_i_hz"] > 0  # 3 Hz Poisson drive makes both fire
