# Two entry points for a fresh machine with only python3: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
KERAS_AE_DATASETS ?= $(abspath ../shared/datasets)
export KERAS_AE_DATASETS
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: demo test lint format venv clean reference-models

venv: $(STAMP)

$(STAMP): setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[cpu,dev]"
	# The gRPC protos of TF Serving, without their dependency on the full tensorflow wheel.
	$(BIN)/python -m pip install -q --no-deps "tensorflow-serving-api==2.21.0"
	touch $(STAMP)

# The CLI's default run (a VAE on the embedded digits), then its pictures and a SavedModel.
demo: $(STAMP)
	$(BIN)/keras-ae train --out runs/demo --restart
	$(BIN)/keras-ae evaluate runs/demo
	$(BIN)/keras-ae plot runs/demo
	$(BIN)/keras-ae export runs/demo --version 1 --overwrite

# Two pytest workers (pytest-xdist), each given whole test modules so that a module's
# fixtures train their models once: much of a test's time is single-threaded graph tracing
# and process start-up, which two workers overlap on a 2-core machine. TEST_WORKERS=0 runs
# the suite in one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=25 $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadscope)

# Trains the small MNIST reference models (a few minutes on 2 cores) and exports them into
# the TF Serving model store saved_models/, replacing version 1 and regenerating models.config.
reference-models: $(STAMP)
	$(BIN)/python benchmarks/reference_models.py --mnist-dir "$(KERAS_AE_DATASETS)/mnist" \
		--out saved_models --version 1 --overwrite

lint: $(STAMP)
	$(BIN)/ruff check keras_ae tests benchmarks tutorials
	$(BIN)/ruff format --check keras_ae tests benchmarks tutorials

format: $(STAMP)
	$(BIN)/ruff format keras_ae tests benchmarks tutorials
	$(BIN)/ruff check --fix keras_ae tests benchmarks tutorials

clean:
	rm -rf $(VENV) runs/demo .pytest_cache
