SHELL := /bin/bash
# mmuss set-up and entry points.  `make demo` and `make test` create .venv when
# missing and install everything; override TORCH_SPEC to bring your own torch.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
MMCV_SPEC ?= mmcv==2.1.0
MAX_JOBS ?= 2
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.mmuss-installed

.PHONY: install demo test lint clean-venv

$(STAMP): setup.py
	@echo "==> [1/5] creating virtual environment in $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> [2/5] $(TORCH_SPEC) from $(or $(TORCH_INDEX),pip's configured index)"
	$(PIP) install --progress-bar on "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url "$(TORCH_INDEX)")
	@echo "==> [3/5] build tools for mmcv (setuptools<70 for pkg_resources, wheel, ninja, numpy)"
	$(PIP) install --progress-bar on "setuptools<70" wheel ninja numpy
	@echo "==> [4/5] $(MMCV_SPEC) with compiled ops (about 14 min on 2 cores on first build; cached afterwards)"
	MMCV_WITH_OPS=1 MAX_JOBS=$(MAX_JOBS) $(PIP) install -v --no-build-isolation "$(MMCV_SPEC)" 2>&1 \
		| grep --line-buffered -E "^(Building|Collecting|Successfully|Installing|Using cached|Created wheel|ERROR|error)|\[[0-9]+/[0-9]+\]" ; \
		test $${PIPESTATUS[0]} -eq 0
	@echo "==> [5/5] mmuss (editable) and its requirements"
	$(PIP) install --progress-bar on -e ".[tests]" "$(TORCH_SPEC)"
	@# torch asks for setuptools>=77, but mmengine 0.10 still imports pkg_resources
	@# (gone from recent setuptools): keep <70. Never in the same pip call as torch,
	@# or pip backtracks to another (CUDA) torch.
	$(PIP) install --progress-bar on "setuptools<70"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) tools/demo.py

# The suite runs in 2 pytest-xdist workers (CI has 2 cores); tests/test_config_matrix.py keeps
# each chain of configs in one worker through --dist loadgroup.
test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadgroup tests

lint: $(STAMP)
	$(PY) -m ruff check mmuss tools tests benchmarks configs

clean-venv:
	rm -rf $(VENV)
