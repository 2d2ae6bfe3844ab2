# The README's two commands: `make book` and `make test`.
#   make book                  execute missing chapters (quick profile) and render _build/html
#   make book PROFILE=paper    re-execute every chapter at the paper's scale, then render
#   make test                  unit tests + every chapter executed in the quick profile + book build
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PROFILE ?=
DEVICE  ?= auto
SEED    ?= 0
PYTEST_ARGS ?=

.PHONY: book test venv clean bench

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

book: venv
	$(PY) scripts/execute_chapters.py $(if $(PROFILE),--profile $(PROFILE) --force,--profile quick) --device $(DEVICE) --seed $(SEED)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "Book rendered: _build/html/index.html"

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	$(PY) -m ledlib.bench systems

clean:
	rm -rf _build
