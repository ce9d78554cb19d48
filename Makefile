# The two commands a newcomer needs: `make lab` and `make test`. Everything else is for maintainers.
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader calls `alembic` from PATH, so every tool runs with the venv's bin first on PATH.
RUN    := PATH="$(BIN):$$PATH"
LESSON := notebooks/00_welcome.ipynb
# Extra options for `jupyter lab` (e.g. LAB_ARGS="--no-browser --port 8899"). As root (containers,
# some CI machines) Jupyter refuses to start without --allow-root.
LAB_ARGS ?=
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
ASSIGNMENTS := $(notdir $(wildcard source/*))

.PHONY: lab test install release lint clean help

help:
	@echo "make lab      create .venv, install, open JupyterLab at lesson 00"
	@echo "make test     create .venv, install, run the whole test suite"
	@echo "make release  regenerate release/ from source/ with nbgrader"
	@echo "make lint     ruff on helpers/, tests/ and the notebooks"
	@echo "make clean    remove .venv and generated files"

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "The course needs Python 3.11 or newer; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(RUN) $(BIN)/python -m helpers.labsetup
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(RUN) $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/$(LESSON) $(ALLOW_ROOT) $(LAB_ARGS)

# Lessons and graders mostly wait on sleeping tasks and kernel start-up, so three pytest
# workers finish sooner even on two cores. `make test PYTEST_ARGS=` runs serially.
PYTEST_ARGS ?= -n 3 --dist loadgroup

test: install
	$(RUN) $(BIN)/python -m pytest $(PYTEST_ARGS)

release: install
	@for a in $(ASSIGNMENTS); do \
	  echo "nbgrader generate_assignment $$a"; \
	  $(RUN) $(BIN)/nbgrader generate_assignment $$a --force --log-level=WARN || exit 1; \
	done
	rm -f gradebook.db

lint: install
	$(BIN)/ruff check helpers tests notebooks source benchmarks
	$(BIN)/ruff format --check helpers tests benchmarks

clean:
	rm -rf $(VENV) gradebook.db submitted autograded feedback .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
