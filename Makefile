# Everything runs in a project-local virtual environment (.venv), created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	# CPU torch first (from local disk here), so Norse's dependencies never pull a CUDA build.
	$(BIN)/pip install "torch==2.13.0"
	$(BIN)/pip install -e ".[test]" "optuna>=3.6" cmaes h5py
	$(BIN)/pip install --no-deps norse nir nirtorch
	$(BIN)/python -c "import jaxplaus, evosax, norse, optuna, xdist"  # fail loudly on a missing step
	touch $(STAMP)

install: $(STAMP)

# The main job on the CPU with the default budget: assess AdEx over all 20 patterns, write the report.
demo: $(STAMP)
	rm -rf demo-run/adex
	JAX_PLATFORMS=cpu $(BIN)/jaxplaus assess --model adex --out demo-run/adex
	@echo "report: demo-run/adex/report.html"

# One worker per core, each test file on one worker (its module fixtures are built once).
test: $(STAMP)
	JAX_PLATFORMS=cpu $(BIN)/python -m pytest -q -n auto --dist loadfile tests

bench: $(STAMP)
	JAX_PLATFORMS=cpu $(BIN)/python benchmarks/throughput.py

clean:
	rm -rf $(VENV) demo-run .pytest_cache
