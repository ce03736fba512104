"""Run directories: created once, resumed only with the same configuration."""

from __future__ import annotations

import pytest

from jaxplaus import store
from jaxplaus.errors import UsageError


def test_resume_names_the_settings_that_differ(tmp_path):
    out = tmp_path / "run"
    assert store.open_run_dir(out, {"seed": 0, "budget": 64}, resume=False) is False
    with pytest.raises(UsageError, match=r"differs in: budget, trials\)"):
        store.open_run_dir(out, {"seed": 0, "budget": 128, "trials": 2}, resume=True)
    assert store.open_run_dir(out, {"seed": 0, "budget": 64}, resume=True) is False  # no checkpoint yet
    with pytest.raises(UsageError, match="--resume"):
        store.open_run_dir(out, {"seed": 0, "budget": 64}, resume=False)
