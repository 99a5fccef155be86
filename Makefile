# Two commands do everything on a fresh machine:
#   make lab    create .venv if needed, install the course, open JupyterLab on the start notebook
#   make test   create/update .venv, check the architecture (make architecture), run the unit tests
#               (tests/ minus tests/system and tests/claims), then every notebook through nbval
#   make lab-zh the same as make lab, in Chinese (中文): zh/notebooks/00_start_here.ipynb, with
#               JupyterLab's own interface in Chinese (make test-zh: nbval on the Chinese notebooks)
#   (kept apart, both run by CI: make system, the services and builds in tests/system: hub, browser,
#   Binder, site, slides, make lab; make claims, the lessons' trained-model claims in tests/claims
#   over every seed and thread count, which CI runs at seed 0 and 1 thread)
#
# Authoring targets: make exercises (regenerate exercises from solutions and execute them),
# make execute NB=path.ipynb (re-run a notebook in place), make lint (the notebook lint),
# make bench (benchmarks).
# Workshops: make site (static HTML in _site/), make slides (static reveal.js slides in _slides/),
# make guide (refresh the instructor guide's tables), make update (bring a learner's copy up to
# date; notebooks they changed are kept).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.course-installed
# Extra arguments for `jupyter lab`, e.g. make lab LAB_ARGS="--no-browser --port 8890"
LAB_ARGS ?=
# JupyterLab refuses to start as root (containers, some cloud VMs) unless told it is deliberate.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

# Which PyTorch build `make` installs (the course needs only the CPU one):
#   TORCH=cpu    PyTorch's CPU wheel index (~190 MB download). The default on Linux without an
#                NVIDIA GPU: there, PyPI's torch is the CUDA build, several GB of nvidia-* packages.
#   TORCH=cuda   PyPI's default build: CUDA on Linux. The default where `nvidia-smi` exists; ask for
#                it with `make lab TORCH=cuda` to train on an NVIDIA GPU.
#   TORCH=local  only the indexes pip is configured with (a mirror, a wheel folder): for machines
#                that cannot reach PyTorch's index. CI uses it (.ci/run sets TORCH=local).
# On macOS and Windows PyPI's torch has no CUDA packages, so `auto` means `cuda` (= PyPI) there.
# Before installing the CPU build, make asks PyTorch's index once (TORCH_PROBE_TIMEOUT seconds): a
# network that cannot reach it (a firewall, a mirror-only network) falls back to pip's configured
# indexes with one line saying so, instead of pip retrying that index for every package. pip's own
# settings (PIP_INDEX_URL, pip.conf) always choose the main index: make never overrides them.
TORCH ?= auto
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_PROBE_TIMEOUT ?= 5
ifeq ($(TORCH),auto)
  ifeq ($(shell uname -s 2>/dev/null),Linux)
    TORCH_BUILD := $(if $(shell command -v nvidia-smi 2>/dev/null),cuda,cpu)
  else
    TORCH_BUILD := cuda
  endif
else
  TORCH_BUILD := $(TORCH)
endif
ifeq ($(TORCH_BUILD),cpu)
  # Deferred (=): the probe runs only when the install runs, not for every make target.
  TORCH_PIP_ARGS = $(if $(TORCH_CPU_INDEX_ANSWERS),--extra-index-url $(TORCH_CPU_INDEX),$(info $(TORCH_FALLBACK_NOTE)))
else ifneq ($(filter $(TORCH_BUILD),cuda local),)
  TORCH_PIP_ARGS :=
else
  $(error TORCH=$(TORCH): use cpu, cuda, local or auto)
endif
# "yes" if PyTorch's CPU index answers an HTTP request within TORCH_PROBE_TIMEOUT seconds (the
# system Python, which exists before .venv does; urllib honours HTTPS_PROXY and NO_PROXY). Only
# reachability is asked and nothing read is used, so the certificate is left to pip, which checks
# it with its own CA bundle (a system Python may lack one and would wrongly call the index down).
TORCH_CPU_INDEX_ANSWERS = $(shell $(PYTHON) -c 'import ssl, sys, urllib.request; \
  urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]), \
  context=ssl._create_unverified_context()).close(); print("yes")' \
  '$(TORCH_CPU_INDEX)/' '$(TORCH_PROBE_TIMEOUT)' 2>/dev/null)
TORCH_FALLBACK_NOTE = make: PyTorch's CPU index $(TORCH_CPU_INDEX) is out of reach (no answer within \
  $(TORCH_PROBE_TIMEOUT) s, or an error), so torch comes from pip's configured indexes instead (on Linux PyPI's \
  torch is the CUDA build, several GB); to choose, set TORCH_CPU_INDEX=<a mirror of it> or TORCH=local.

# JupyterLab settings shipped with the course (news and update checks off, widget state saved
# with the notebook): the app-wide overrides.json of the environment's JupyterLab.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json

NOTEBOOKS = $(filter-out %.updated.ipynb,$(wildcard notebooks/*.ipynb solutions/*.ipynb exercises/*.ipynb))
# The Chinese edition: the notebooks tools/translate.py built from i18n/zh/ (not every lesson yet)
ZH_NOTEBOOKS = $(filter-out %.updated.ipynb,$(wildcard zh/notebooks/*.ipynb zh/solutions/*.ipynb zh/exercises/*.ipynb))
# JupyterLab's interface language is a setting (the language pack only adds the translations):
# make lab-zh writes it into this environment's overrides.json, and make lab writes it back.
LAB_LOCALE_ZH = {"@jupyterlab/translation-extension:plugin": {"locale": "zh_CN"}}

.PHONY: env lab lab-zh test test-zh architecture unit nbval system claims lint exercises execute bench clean-venv site slides guide update translations

# The environment is rebuilt when the dependency list changes. constraints.txt keeps torch on
# a tested release range; TORCH (above) picks the build.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "make: installing the course into $(VENV) (about 430 MB the first time; pip lists each package and shows each download's progress)"
	$(BIN)/python -m pip install -c constraints.txt $(TORCH_PIP_ARGS) -e ".[dev]"
	@touch $(STAMP)

$(LAB_OVERRIDES): binder/overrides.json $(STAMP)
	@mkdir -p $(dir $@)
	cp binder/overrides.json $@

env: $(STAMP) $(LAB_OVERRIDES)

lab: env
	cp binder/overrides.json $(LAB_OVERRIDES)
	$(BIN)/jupyter lab --ServerApp.root_dir=. \
		--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb $(ROOT_FLAG) $(LAB_ARGS)

# Not `make lab LANG=zh`: LANG is the locale every shell exports (LANG=zh_CN.UTF-8 on a Chinese
# desktop, LANG=C.UTF-8 in a container), so it would switch the course by accident. COURSE_LANG
# tells course_lib the language even before it looks at the notebook's folder.
lab-zh: env
	$(BIN)/python -c 'import json, sys; p = sys.argv[1]; d = json.load(open(p)); \
		d.update(json.loads(sys.argv[2])); json.dump(d, open(p, "w"), indent=2)' \
		$(LAB_OVERRIDES) '$(LAB_LOCALE_ZH)'
	COURSE_LANG=zh $(BIN)/jupyter lab --ServerApp.root_dir=. \
		--LabApp.default_url=/lab/tree/zh/notebooks/00_start_here.ipynb $(ROOT_FLAG) $(LAB_ARGS)

test: architecture unit nbval

# The architecture of course_lib (pyproject.toml: [tool.importlinter]): its wings' layers, the
# siblings kept apart, no import cycles. tests/basics/test_architecture.py (in `make unit`) adds
# what import-linter cannot say: no private name crosses a file, every module names its lessons.
architecture: env
	$(BIN)/lint-imports

# Tests and notebooks run in parallel, one pytest-xdist worker per core (at most JOBS_MAX):
# `--dist loadfile` keeps each file in one worker, so a notebook's cells run in order in one
# kernel and a claims file trains each model once. JOBS=1 runs everything in one process.
JOBS     ?= auto
JOBS_MAX ?= 4
XDIST     = $(if $(filter 1,$(JOBS)),,-n $(JOBS) --maxprocesses $(JOBS_MAX) --dist loadfile)

# A test's folder gives it its marker (tests/helpers/layout.py): unit for the folders that mirror
# course_lib's wings (tests/attention, tests/filters, ...), the room and the notebooks' promises.
unit: env
	$(BIN)/python -m pytest tests -m unit $(XDIST)

# The system tests (tests/system): a JupyterHub with simulated learners, JupyterLab in Chromium, a
# fresh Binder environment, the static site and slides, `make lab` itself. The slow suites print
# their slowest tests (--durations), so that a CI log shows where its minutes went.
system: env
	$(BIN)/python -m pytest tests -m system --durations=15

# Every claim a lesson makes about a trained model (tests/claims), for every seed and thread count
# the claims tests try (many minutes): run it before committing a change to a lesson's models. CI
# runs seed 0 at 1 thread only (COURSE_CLAIMS_SEEDS=0 COURSE_CLAIMS_THREADS=1 make claims).
claims: env
	$(BIN)/python -m pytest tests -m claims $(XDIST) --durations=15

nbval: env
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env $(XDIST) $(NOTEBOOKS)

# nbval on the Chinese notebooks. No COURSE_LANG here: nbval starts each kernel in the notebook's
# folder (zh/...), and course_lib must find its language from that alone, as in JupyterLab.
test-zh: env
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env $(XDIST) $(ZH_NOTEBOOKS)

# Rebuild the Chinese edition from the catalogs i18n/zh/ (after `translate.py extract` and
# translating) and store its outputs
translations: env
	$(BIN)/python tools/translate.py build
	$(BIN)/python tools/translate.py execute

# What nbval cannot see: repeated text, section numbers, figures and explorers the text never
# mentions (tests/notebooks/test_notebook_lint.py runs the same in `make test`)
lint: env
	$(BIN)/python tools/notebook_lint.py

exercises: env
	$(BIN)/python tools/make_exercises.py
	$(BIN)/python tools/execute.py $(filter-out %.updated.ipynb,$(wildcard exercises/*.ipynb))

execute: env
	$(BIN)/python tools/execute.py $(NB)

bench: env
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Static HTML of every notebook (stored outputs, explorers in their last state) -> _site/index.html,
# the Chinese edition in _site/zh/ (every page links to its twin in the other edition)
site: env
	$(BIN)/python tools/build_site.py --out _site

# Static reveal.js slides of every lesson -> _slides/index.html, the Chinese ones in _slides/zh/
# (each deck has a language switch; reveal.js comes from npm into
# build/npm once; MathJax from the environment): they work offline. Live slides: RISE in JupyterLab.
slides: env
	$(BIN)/python tools/slides.py build --out _slides

# Refresh the time table of docs/instructor_guide.md from the notebooks' measured run times
guide: env
	$(BIN)/python tools/lesson_times.py --update docs/instructor_guide.md docs/instructor_guide.zh.md

# Bring this copy of the course up to date; notebooks you changed are kept, new versions go beside them
update: env
	$(BIN)/python tools/update_course.py

clean-venv:
	rm -rf $(VENV)
