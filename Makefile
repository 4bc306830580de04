# Two commands, each doing its own set-up on a fresh machine with Python 3.10+:
#   make lab    open the course in JupyterLab
#   make test   lint + every test (unit tests, strict nbval over every notebook,
#               grader, real JupyterLab in headless Chromium)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The stamp is remade whenever the dependency files change, so a pull that
# changes the lock re-installs on the next make.
STAMP  := $(VENV)/.installed

.PHONY: lab test check clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/coursekit lab

test: $(STAMP)
	bash scripts/ensure_chromium.sh
	bash scripts/ensure_bubblewrap.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/coursekit check

clean:
	rm -rf $(VENV) test-artifacts
