# Two commands do everything on a fresh machine:
#   make lab    create .venv if needed, install the course, open JupyterLab on the start notebook
#   make test   create/update .venv, run the unit tests, then run every notebook through nbval
#
# Authoring targets: make exercises (regenerate exercises from solutions and execute them),
# make execute NB=path.ipynb (re-run a notebook in place), make bench (benchmarks).
# Workshops: make site (static HTML in _site/), make guide (refresh the instructor guide's times),
# make update (bring a learner's copy up to date; notebooks they changed are kept).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.course-installed
# Extra arguments for `jupyter lab`, e.g. make lab LAB_ARGS="--no-browser --port 8890"
LAB_ARGS ?=
# JupyterLab refuses to start as root (containers, some cloud VMs) unless told it is deliberate.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

NOTEBOOKS = $(filter-out %.updated.ipynb,$(wildcard notebooks/*.ipynb solutions/*.ipynb exercises/*.ipynb))

.PHONY: env lab test unit nbval exercises execute bench clean-venv site guide update

# The environment is rebuilt when the dependency list changes. constraints.txt keeps torch on
# a CPU-friendly release range (a bare `torch` pulls several GB of CUDA packages).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

env: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=. \
		--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb $(ROOT_FLAG) $(LAB_ARGS)

test: unit nbval

unit: $(STAMP)
	$(BIN)/python -m pytest tests

nbval: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env $(NOTEBOOKS)

exercises: $(STAMP)
	$(BIN)/python tools/make_exercises.py
	$(BIN)/python tools/execute.py $(filter-out %.updated.ipynb,$(wildcard exercises/*.ipynb))

execute: $(STAMP)
	$(BIN)/python tools/execute.py $(NB)

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Static HTML of every notebook (stored outputs, explorers in their last state) -> _site/index.html
site: $(STAMP)
	$(BIN)/python tools/build_site.py --out _site

# Refresh the time table of docs/instructor_guide.md from the notebooks' measured run times
guide: $(STAMP)
	$(BIN)/python tools/lesson_times.py --update docs/instructor_guide.md

# Bring this copy of the course up to date; notebooks you changed are kept, new versions go beside them
update: $(STAMP)
	$(BIN)/python tools/update_course.py

clean-venv:
	rm -rf $(VENV)
