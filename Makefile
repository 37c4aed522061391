# The two set-up commands of the README: `make lab` (the main job) and `make test`.
# Both create .venv/ with Python 3.11 (or whatever `python3` is) and install what they need into it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is installed first, pinned, so that pip never has to choose a build by itself. On a machine whose pip
# is configured with a local CPU wheel (like our CI) this takes that wheel; from PyPI on Linux it is the CUDA build.
# CPU-only machines elsewhere can avoid the CUDA download with
#   make test TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
TORCH_PIP_ARGS := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)

.PHONY: test lab html lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.torch: | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	touch $@

$(VENV)/.installed-%: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install -e ".[$*]"
	touch $@

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

lab: $(VENV)/.installed-dev
	$(BIN)/jupyter lab notebooks/

# Every notebook executed and rendered to HTML, for people who would rather read than run.
html: $(VENV)/.installed-dev
	$(BIN)/jupyter nbconvert --to html --execute --output-dir html notebooks/*.ipynb

# The benchmark report: ours against transformers, interleaved in one process (see benchmarks/report.py). It writes
# benchmarks/results/<cpu|cuda>.md, .png and .json. Pass options with BENCH_ARGS, e.g. make bench BENCH_ARGS=--quick
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/report.py $(BENCH_ARGS)

# ruff check with the configuration in pyproject.toml, on everything that holds Python, notebooks included.
lint: $(VENV)/.installed-lint
	$(BIN)/ruff check albert_explained tests benchmarks notebooks

clean:
	rm -rf $(VENV) .pytest_cache
