# The two set-up commands of the README: `make lab` (the main job) and `make test`.
# Both create .venv/ with Python 3.11 (or whatever `python3` is) and install what they need into it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is installed first, pinned, so that pip never picks a build by itself (a torch already in .venv is kept).
# Which build, TORCH_BUILD:
#   cpu   (the default on Linux without an NVIDIA GPU) the CPU build, about 200 MB: pip's own sources are asked for
#         torch==$(TORCH_VERSION)+cpu first (a local wheel, as on our CI machines), then PyTorch's CPU index. PyPI's
#         Linux torch is the CUDA build, several GB, which a CPU has no use for.
#   pypi  (the default with an NVIDIA GPU, and on macOS and Windows) PyPI's build: CUDA on Linux, which GPU users want.
# Or name one of PyTorch's indexes yourself, for a given CUDA version say:
#   make lab TORCH_INDEX=https://download.pytorch.org/whl/cu128
TORCH_VERSION ?= 2.13.0
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
HAS_NVIDIA_GPU := $(shell nvidia-smi -L 2>/dev/null | grep -q GPU && echo yes)
TORCH_BUILD ?= $(if $(HAS_NVIDIA_GPU),pypi,$(if $(filter Linux,$(shell uname -s)),cpu,pypi))
ifneq ($(TORCH_INDEX),)
INSTALL_TORCH = $(BIN)/pip install --index-url $(TORCH_INDEX) "torch==$(TORCH_VERSION)"
else ifeq ($(TORCH_BUILD),cpu)
INSTALL_TORCH = $(BIN)/pip install "torch==$(TORCH_VERSION)+cpu" 2>/dev/null || \
	$(BIN)/pip install --index-url $(TORCH_CPU_INDEX) "torch==$(TORCH_VERSION)"
else ifeq ($(TORCH_BUILD),pypi)
INSTALL_TORCH = $(BIN)/pip install "torch==$(TORCH_VERSION)"
else
$(error TORCH_BUILD must be cpu or pypi, got $(TORCH_BUILD))
endif

.PHONY: test lab html lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.torch: | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || { $(INSTALL_TORCH); }
	touch $@

$(VENV)/.installed-%: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install -e ".[$*]"
	touch $@

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

# Options for JupyterLab go in LAB_ARGS, e.g.  make lab LAB_ARGS="--port 8899 --no-browser"
LAB_ARGS ?=
# Jupyter refuses to start as root (the user of most Docker images and of many course servers) without --allow-root.
LAB_AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(VENV)/.installed-dev
	$(BIN)/jupyter lab $(LAB_AS_ROOT) $(LAB_ARGS) notebooks/

# Every notebook executed and rendered to HTML, for people who would rather read than run, offline too: each page
# stores its widgets' state (progress bars, the attention explorer), and the scripts that nbconvert's pages load from
# a CDN are copied beside them into $(HTML_DIR)/static from npm packages (fetched once into $(HTML_ASSETS); needs npm):
# require.js, the widget manager that draws widgets from their stored state, and MathJax for the equations.
# A cell that runs for more than 10 minutes fails the page instead of holding it up for ever.
NOTEBOOKS ?= notebooks/*.ipynb
HTML_DIR ?= html
HTML_ASSETS ?= build/html-assets
NPM_PACKAGES := requirejs@2.3.7 @jupyter-widgets/html-manager@1.0.15 mathjax@2.7.9
# The parts of MathJax that its TeX-AMS_CHTML-full configuration loads (the package holds every configuration).
MATHJAX_PARTS := MathJax.js config/TeX-AMS_CHTML-full.js extensions jax/input/TeX jax/element jax/output/CommonHTML \
	fonts/HTML-CSS/TeX/woff

$(HTML_ASSETS)/.fetched:
	mkdir -p $(HTML_ASSETS)
	cd $(HTML_ASSETS) && npm pack --silent $(NPM_PACKAGES) >/dev/null
	cd $(HTML_ASSETS) && for tarball in *.tgz; do mkdir -p "$${tarball%.tgz}" && \
		tar -xzf "$$tarball" -C "$${tarball%.tgz}" --strip-components 1 && rm "$$tarball"; done
	touch $@

html: $(VENV)/.installed-dev $(HTML_ASSETS)/.fetched
	mkdir -p $(HTML_DIR)/static/html-manager $(HTML_DIR)/static/mathjax
	cp $(HTML_ASSETS)/requirejs-2.3.7/require.js $(HTML_DIR)/static/
	cp $(HTML_ASSETS)/jupyter-widgets-html-manager-1.0.15/dist/embed-amd.js \
		$(HTML_ASSETS)/jupyter-widgets-html-manager-1.0.15/dist/*.woff* $(HTML_DIR)/static/html-manager/
	cd $(HTML_ASSETS)/mathjax-2.7.9 && cp -r --parents $(MATHJAX_PARTS) $(abspath $(HTML_DIR))/static/mathjax/
	$(BIN)/jupyter nbconvert --to html --execute --ExecutePreprocessor.store_widget_state=True \
		--ExecutePreprocessor.timeout=600 \
		--HTMLExporter.require_js_url=static/require.js \
		--HTMLExporter.widget_renderer_url=static/html-manager/embed-amd.js \
		--HTMLExporter.mathjax_url="static/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe" \
		--output-dir $(HTML_DIR) $(NOTEBOOKS)

# The benchmark report: ours against transformers, interleaved in one process (see benchmarks/report.py). It writes
# benchmarks/results/<cpu|cuda>.md, .png and .json. Pass options with BENCH_ARGS, e.g. make bench BENCH_ARGS=--quick
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/report.py $(BENCH_ARGS)

# ruff's linter and formatter with the configuration in pyproject.toml, on everything that holds Python, notebooks
# included. `make lint` fails on a rule broken or a file not formatted; `make format` formats the tree.
PYTHON_SOURCES := albert_explained tests benchmarks notebooks
lint: $(VENV)/.installed-lint
	$(BIN)/ruff check $(PYTHON_SOURCES)
	$(BIN)/ruff format --check $(PYTHON_SOURCES)

format: $(VENV)/.installed-lint
	$(BIN)/ruff format $(PYTHON_SOURCES)

clean:
	rm -rf $(VENV) .pytest_cache $(HTML_ASSETS)
