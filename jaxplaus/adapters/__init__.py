"""Optional bridges to PyTorch/Norse, kept at the edge: jaxplaus imports and runs without them.

- `jaxplaus.adapters.norse`: replay stored optima in Norse and cross-check them (`crosscheck`).
- `jaxplaus.adapters.torch_model`: any PyTorch neuron step as a black box (`TorchNeuron`).
- `jaxplaus.adapters.optuna_baseline`: the source paper's path, Optuna trial by trial on Norse.

Those modules import torch (and Norse, Optuna) at the top; call `require(...)` first to turn a
missing package into one clear line instead of a traceback.
"""

from __future__ import annotations

import importlib

from jaxplaus.errors import UsageError

# CPU torch first, so Norse's dependencies never pull a CUDA build (`pip install norse` alone
# pulls torchvision and a several-GB CUDA torch; docs/norse.md).
INSTALL = {
    "torch": 'pip install "torch==2.13.0"',
    "norse": 'pip install "torch==2.13.0" && pip install --no-deps norse nir nirtorch',
    "optuna": 'pip install "optuna>=3.6"',
    "cmaes": "pip install cmaes",
}


def missing(*packages: str) -> list[str]:
    """The packages that cannot be imported (the adapter needs them imported anyway)."""
    absent = []
    for name in packages:
        try:
            importlib.import_module(name)
        except ImportError:
            absent.append(name)
    return absent


def require(what: str, *packages: str) -> None:
    """Raise a one-line UsageError naming how to install the packages `what` needs."""
    absent = missing(*packages)
    if absent:
        how = " && ".join(dict.fromkeys(INSTALL[name] for name in absent))
        raise UsageError(f"{what} needs {', '.join(absent)} (not installed); install with: {how}")


__all__ = ["INSTALL", "missing", "require"]
