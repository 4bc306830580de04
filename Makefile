# Each target sets itself up on first use (Python 3.11; see README):
#   make lab    open your working copies of the course (my-work/) in JupyterLab
#   make test   lint + every test (unit tests, strict nbval over every notebook,
#               grader, real JupyterLab in headless Chromium, the website)
#   make site   build the course website into site/
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The stamps are remade whenever the dependency files change, so a pull that
# changes the lock re-installs on the next make.
STAMP      ?= $(VENV)/.installed
TEST_STAMP ?= $(VENV)/.installed-test
PIP        := $(BIN)/python -m pip install --progress-bar on -c constraints.txt

.PHONY: lab test check site clean

# pip prints one line per package it collects and a bar per download: a first set-up
# installs about 1.3 GB into the venv (PyTorch is most of it) and takes 2-7 minutes.
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; v = "%d.%d" % sys.version_info[:2]; \
	  sys.exit(f"make: {v} is too old: the course needs Python 3.11 (set PYTHON=python3.11)") \
	  if sys.version_info < (3, 11) else print(f"make: Python {v}" + ("" if v == "3.11" else \
	  " (the pins are tested on 3.11; if one fails to install, use PYTHON=python3.11)"))'
	@echo "make: setting up $(VENV)/ with the pinned packages of constraints.txt (PyTorch 2.13.0,"
	@echo "      JupyterLab, numpy, matplotlib, ...): the first time this installs about 1.3 GB and"
	@echo "      takes 2-7 minutes; later runs skip it until pyproject.toml or constraints.txt change."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(PIP) -e .
	touch $(STAMP)

# The test and website tools (ruff, scipy, Playwright, Sphinx, MyST-NB, MathJax, ...): about 1-2 minutes more.
$(TEST_STAMP): $(STAMP)
	@echo "make: adding the test and website tools to $(VENV)/ (about 1-2 minutes the first time)"
	$(PIP) -e ".[test,site,hub]"
	touch $(TEST_STAMP)

lab: $(STAMP)
	$(BIN)/coursekit lab

test: $(TEST_STAMP)
	bash scripts/ensure_chromium.sh
	bash scripts/ensure_bubblewrap.sh
	bash scripts/ensure_hub_tools.sh
	bash scripts/ensure_axe.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/coursekit check

site: $(TEST_STAMP)
	$(BIN)/python site_src/build.py site

clean:
	rm -rf $(VENV) test-artifacts site build/site-src
