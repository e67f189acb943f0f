# Every target sets itself up on a fresh machine: a virtual environment in
# .venv, torch first (pinned by TORCH_SPEC, override with
# `make test TORCH_SPEC="torch==2.5.1"`), then the package with its extras.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
# One thread per process keeps timings honest on small machines.
export OMP_NUM_THREADS ?= 1
export MPLBACKEND ?= Agg

PEERS_VENV := .venv-dp-peers

.PHONY: demo lint test test-all bench docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch goes in before anything that depends on it, so that no dependency
# resolver pulls a multi-GB CUDA build when a CPU build is at hand.
$(VENV)/.torch: | $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	touch $@

$(VENV)/.installed-%: setup.cfg pyproject.toml $(VENV)/.torch
	$(PY) -m pip install --quiet -e ".[$*]"
	touch $@

demo: $(VENV)/.installed-test
	$(PY) -m sklearn_adv.demo

# ruff's rules are in pyproject.toml; the test targets lint first.
lint: $(VENV)/.installed-test
	$(PY) -m ruff check sklearn_adv tests benchmarks examples docs

test: lint
	$(PY) -m pytest -n 2 -q

test-all: lint
	$(PY) -m pytest -n 2 -q -m ""

# torchattacks declares torchvision, whose wheel would replace a CPU torch by a
# CUDA build; it runs on torch alone, so it goes in without its dependencies.
# smartnoise-synth (bench_private.py's peers) pins opacus 0.14, which our test
# extra's opacus 1.x excludes: it gets an environment of its own, torch pinned.
$(PEERS_VENV)/.installed: benchmarks/requirements-dp-peers.txt
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)" -r benchmarks/requirements-dp-peers.txt
	touch $@

bench: $(VENV)/.installed-bench $(PEERS_VENV)/.installed
	$(PY) -c "import torchattacks" 2>/dev/null || $(PY) -m pip install --quiet --no-deps "torchattacks>=3.5"
	for script in benchmarks/bench_*.py; do \
		$(PY) $$script || exit 1; \
	done

docs: $(VENV)/.installed-docs
	$(PY) -m sphinx -b html -W --keep-going docs docs/_build/html

clean:
	rm -rf $(VENV) $(PEERS_VENV) docs/_build docs/auto_examples docs/generated *.egg-info
