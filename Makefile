# The README's two commands: `make book` and `make test`.
#   make book                  execute missing chapters (quick profile) and render _build/html
#   make book PROFILE=paper    re-execute every chapter at the paper's scale, then render
#   make test                  unit tests + every chapter executed in the quick profile + book build
#   make lab                   JupyterLab on the repository: a chapter (notebooks/*.py) opens as a notebook
#                              (LAB_ARGS="--no-browser --port 8890" for a headless server)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PROFILE ?=
DEVICE  ?= auto
SEED    ?= 0
PYTEST_ARGS ?=
LAB_ARGS ?=

.PHONY: book test venv clean bench lab

venv: $(VENV)/.installed

# the project itself too: editable (chapters and tests import the working tree), its
# dependencies being requirements.txt's pins
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

book: venv
	$(PY) scripts/execute_chapters.py $(if $(PROFILE),--profile $(PROFILE) --force,--profile quick) --device $(DEVICE) --seed $(SEED)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "Book rendered: _build/html/index.html"

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

# jupyter/jupyter_server_config.py: root = this repository, kernels start in it (as the
# chapter runner's do), chapters open with jupytext as notebooks (jupyter/lab-settings)
lab: venv
	$(VENV)/bin/jupyter lab --config=jupyter/jupyter_server_config.py $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

bench: venv
	$(PY) -m ledlib.bench systems

clean:
	rm -rf _build
