# Exchange Station: `make run` opens the counter window, `make test` runs the whole suite.
# Both set everything up first: Debian packages (scripts/ensure_system_deps.sh), .venv,
# and `pip install -e '.[test]'` whenever pyproject.toml is newer than .venv/.installed.
#
# Variables: PYTHON (interpreter that creates .venv, default python3),
#            PYTEST_ARGS (extra pytest arguments for `make test`),
#            EXCHANGE_TEST_PG_URL (PostgreSQL for the tests; see scripts/with_postgres.py).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help run test bench clean setup system-deps venv dist test-dist

help:
	@echo "make run    set up and open the counter window"
	@echo "make test   set up, provide PostgreSQL, run the whole test suite offscreen"
	@echo "make bench  set up and run bench/bench_*.py"
	@echo "make clean  remove .venv and caches"
	@echo "make dist       build the frozen one-folder program, dist/exchange-station (docs/BUILD.md)"
	@echo "make test-dist  self-check the frozen build and screenshot its window under Xvfb"

system-deps:
	@scripts/ensure_system_deps.sh

# A usable venv has a working pip; on Debian, `python3 -m venv` needs python3-venv and
# leaves a half-made .venv behind without it.
venv: system-deps
	@if ! $(VPY) -m pip --version >/dev/null 2>&1; then \
	    rm -rf $(VENV); \
	    echo "creating $(VENV) with $(PYTHON)"; \
	    if ! $(PYTHON) -m venv $(VENV); then \
	        rm -rf $(VENV); \
	        scripts/ensure_system_deps.sh --python-venv $(PYTHON); \
	        if ! $(PYTHON) -m venv $(VENV); then \
	            rm -rf $(VENV); \
	            echo "ERROR: '$(PYTHON) -m venv' fails; try another interpreter: make PYTHON=python3.12 ..." >&2; \
	            exit 1; \
	        fi; \
	    fi; \
	fi

setup: venv
	@if [ ! -f $(STAMP) ] || [ pyproject.toml -nt $(STAMP) ]; then \
	    echo "installing the project into $(VENV) (pyproject.toml changed or first run)"; \
	    $(VPY) -m pip install --disable-pip-version-check -e '.[test]'; \
	    touch $(STAMP); \
	fi

run: setup
	$(VENV)/bin/exchange-station gui

test: setup
	$(VPY) scripts/with_postgres.py -- \
	    env QT_QPA_PLATFORM=offscreen $(VPY) -m pytest $(PYTEST_ARGS)

bench: setup
	@shopt -s nullglob; scripts=(bench/bench_*.py); failed=(); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "no bench/bench_*.py scripts"; exit 0; fi; \
	for script in "$${scripts[@]}"; do \
	    echo "=== $$script"; \
	    QT_QPA_PLATFORM=offscreen $(VPY) "$$script" || failed+=("$$script"); \
	done; \
	if [ $${#failed[@]} -gt 0 ]; then echo "FAILED: $${failed[*]}" >&2; exit 1; fi

# The frozen build (build.spec, PyInstaller): the build extra goes into .venv beside the test one.
BUILD_STAMP := $(VENV)/.installed-build

dist: setup
	@if [ ! -f $(BUILD_STAMP) ] || [ pyproject.toml -nt $(BUILD_STAMP) ]; then \
	    $(VPY) -m pip install --disable-pip-version-check -e '.[test,build]'; \
	    touch $(BUILD_STAMP); \
	fi
	$(VPY) -m PyInstaller --noconfirm --log-level WARN build.spec
	@du -sh dist/exchange-station

test-dist: system-deps
	scripts/test_dist.sh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache build dist *.egg-info \
	    .coverage htmlcov bench/out
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
