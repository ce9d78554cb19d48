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

.PHONY: lab workspace test install release grade lint typecheck bench reference site clean clean-workspace help

help:
	@echo "make lab              create .venv, install, fill workspace/, open JupyterLab at lesson 00"
	@echo "make workspace        copy each assignment of release/ to workspace/ once (never overwrites)"
	@echo "make test             create .venv, install, run the whole test suite"
	@echo "make release          regenerate release/ from source/ with nbgrader"
	@echo "make lint             ruff, then mypy (make typecheck)"
	@echo "make typecheck        mypy on the whole helpers package (settings in pyproject.toml)"
	@echo "make grade A=pool     grade every submission of an assignment in parallel (mpcourse grade)"
	@echo "make bench            run the benchmarks/*.py (timings; nothing is asserted)"
	@echo "make reference        re-measure the lessons' reference figures (idle machine, 2+ CPUs)"
	@echo "make site             the course as a website in _build/site/ (every lesson run; offline)"
	@echo "make clean            remove .venv (and .venv-3.x), generated files; never workspace/"
	@echo "make clean-workspace  delete workspace/ and your answers in it (asks; or FORCE=1)"

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "The course needs Python 3.11 or newer; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(RUN) $(BIN)/python -m helpers.setup.labsetup
	touch $(STAMP)

install: $(STAMP)

# The learner's answers live in workspace/<assignment>/ (git-ignored): copied from release/ the
# first time only, so neither `make release` (nbgrader --force rewrites release/) nor a `git pull`
# can overwrite them. An assignment added later is copied on the next run.
# WORKSPACE names another folder (tests use a temporary one).
WORKSPACE ?= workspace
workspace:
	@mkdir -p "$(WORKSPACE)"
	@for dir in release/*/; do \
	  [ -d "$$dir" ] || continue; \
	  a=$$(basename "$$dir"); \
	  if [ -e "$(WORKSPACE)/$$a" ]; then \
	    echo "$(WORKSPACE)/$$a: kept (your answers)"; \
	  else \
	    cp -R "release/$$a" "$(WORKSPACE)/$$a" && echo "$(WORKSPACE)/$$a: copied from release/$$a"; \
	  fi; \
	done

lab: install workspace
	$(RUN) $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/$(LESSON) $(ALLOW_ROOT) $(LAB_ARGS)

# Lessons and graders mostly wait on sleeping tasks and kernel start-up, so four pytest
# workers finish sooner even on two cores. `make test PYTEST_ARGS=` runs serially.
PYTEST_ARGS ?= -n 4 --dist loadgroup

test: install
	$(RUN) $(BIN)/python -m pytest $(PYTEST_ARGS)

release: install
	@for a in $(ASSIGNMENTS); do \
	  echo "nbgrader generate_assignment $$a"; \
	  $(RUN) $(BIN)/nbgrader generate_assignment $$a --force --log-level=WARN || exit 1; \
	done
	rm -f gradebook.db

lint: install
	$(BIN)/ruff check helpers tests notebooks source benchmarks tools
	$(BIN)/ruff format --check helpers tests benchmarks tools
	$(MAKE) --no-print-directory typecheck

# mypy reads its settings from pyproject.toml ([tool.mypy]): the whole helpers package.
typecheck: install
	$(BIN)/mypy

# Benchmarks print timings and assert nothing. The reference_*.py scripts are left out: they
# rewrite the lessons' stored reference figures (notebooks/reference/), so they run only on
# purpose, with `make reference` on an idle machine with two or more CPUs.
# Grade a class: every submitted/*/$(A)/ in parallel, each in its sandbox (see docs/grading.md).
# GRADE_ARGS passes options on, e.g. GRADE_ARGS="--force --workers 4".
grade: install
	@test -n "$(A)" || { echo "make grade needs the assignment: make grade A=pool"; exit 2; }
	$(RUN) $(BIN)/mpcourse grade $(A) $(GRADE_ARGS)

bench: install
	@for b in benchmarks/*.py; do \
	  case "$$(basename "$$b")" in reference_*) continue ;; esac; \
	  echo "== $$b"; \
	  $(RUN) $(BIN)/python "$$b" || exit 1; \
	done

reference: install
	@for r in benchmarks/reference_*.py notebooks/reference/*.py; do \
	  [ -e "$$r" ] || continue; \
	  echo "== $$r"; \
	  $(RUN) $(BIN)/python "$$r" || exit 1; \
	done

# The course as a static website (tools/build_site.py): Sphinx + myst-nb run every lesson and show
# the released assignments; nothing is downloaded while building or viewing. The site's tools
# (pyproject's `site` extra) are installed once, on the first `make site`.
SITE       := _build/site
SITE_STAMP := $(VENV)/.site-installed
$(SITE_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[site]"
	touch $(SITE_STAMP)

site: $(SITE_STAMP)
	$(RUN) $(BIN)/python tools/build_site.py --out $(SITE)

# Never touches workspace/: the learner's answers are removed only by clean-workspace.
clean:
	rm -rf $(VENV) .venv-* _build gradebook.db submitted autograded feedback .pytest_cache .ruff_cache .mypy_cache
	find . -path ./workspace -prune -o -name __pycache__ -prune -exec rm -rf {} +

FORCE ?=
clean-workspace:
	@if [ ! -e workspace ]; then echo "There is no workspace/."; exit 0; fi; \
	if [ "$(FORCE)" != 1 ]; then \
	  printf 'Delete workspace/ and every answer in it? [y/N] '; \
	  read answer || { echo; answer=; }; \
	  case "$$answer" in y|Y|yes|YES) ;; *) echo "Kept workspace/ (nothing deleted)."; exit 1 ;; esac; \
	fi; \
	rm -rf workspace && echo "Deleted workspace/."
