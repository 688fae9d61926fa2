# One entry point for people and CI alike.
#   make demo   install into .venv and screen + explain the seed scenario
#   make test   install into .venv (and the Debian packages the tests need, when
#               missing and run as root), then run lint, types, layer contracts
#               and the tests, in TEST_WORKERS parallel processes (0: serially;
#               docs/testing.md)
#   make bench  run the benchmarks (results go in docs/benchmarks.md by hand)
#   make mutation  mutation testing of core, policy and the guarded service and
#               store code, with the score per area (docs/testing.md); MUTANTS
#               narrows it to some mutants, e.g. MUTANTS='clearance.core.chain.*'

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_WORKERS ?= 3
MUTATION_WORKERS ?= 3
MUTANTS ?=

.PHONY: install system-packages demo test lint bench mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/clearance demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

system-packages:
	scripts/system-packages.sh

test: lint system-packages
	$(BIN)/pytest -n $(TEST_WORKERS)

bench: install
	$(BIN)/python bench/screening.py

# mutmut's progress line is redrawn thousands of times: it goes to mutation.log, and the
# scores per area are printed at the end.
mutation: install
	$(BIN)/pip install --quiet -e '.[mutation]'
	$(BIN)/mutmut run --max-children $(MUTATION_WORKERS) $(MUTANTS) > mutation.log 2>&1 \
		|| { tail -c 3000 mutation.log; exit 1; }
	$(BIN)/python scripts/mutation_score.py --files

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants mutation.log
