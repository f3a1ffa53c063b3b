# Pipeguard: `make run` starts the embedded stack, `make test` runs the whole suite.
# Every target installs what it needs into .venv first (quick when nothing changed).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
PYTEST_ARGS ?= -n auto

.PHONY: install run run-aws demo test test-deps lint format clean package lint-infra infra-venv opensearch-node

install: $(VENV)/.installed

# A line per step and pip's own report (progress bars on a terminal, plain lines in CI); once
# installed, only the stamp is checked, silently.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || { echo "==> creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing requirements-dev.txt into $(VENV) (about a minute on a fresh clone)"
	@$(PY) -m pip install --disable-pip-version-check -r requirements-dev.txt
	@touch $@
	@echo "==> $(VENV) is ready"

# The durable embedded stack: state in .local/ (or $$PIPEGUARD_HOME), kept across restarts.
run: install
	PORT=$(PORT) $(PY) -m chalicelib.local run --port $(PORT)

# The AWS adapters against moto's server over the real wire protocol (state in moto's memory).
run-aws: install
	PORT=$(PORT) $(PY) -m chalicelib.local run --backend aws --port $(PORT)

demo: install
	$(PY) -m chalicelib.local demo

test: install lint opensearch-node test-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# Programs the tests drive besides Python: Chromium prints the compliance report to PDF
# (tests/compliance/test_report_pdf.py). Installed with apt-get when missing (as root, else sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
test-deps:
	@command -v chromium >/dev/null || { \
		echo "==> installing chromium (apt-get) for the compliance report's PDF test"; \
		{ $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium || { $(SUDO) apt-get update -qq && \
			$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }; } || { \
			echo "the tests need Chromium: apt-get install -y chromium"; exit 1; }; }

# The single-node OpenSearch 2.19 that the search tests start (tests/opensearch_node.py): the
# server and its plugins from Maven Central and a launcher class. Built once; again only when
# the pom or the launcher changed. Needs Java 17 and Maven.
OPENSEARCH_NODE := tools/opensearch-node/target/.built
opensearch-node: $(OPENSEARCH_NODE)

$(OPENSEARCH_NODE): tools/opensearch-node/pom.xml $(wildcard tools/opensearch-node/src/main/java/dev/pipeguard/search/*.java)
	@command -v java >/dev/null && command -v mvn >/dev/null || { \
		echo "make opensearch-node needs Java 17 and Maven: apt-get install openjdk-17-jdk-headless maven"; \
		exit 1; }
	@echo "==> building the local OpenSearch node in tools/opensearch-node (Maven Central, first time about a minute)"
	@mvn -B -q -Dstyle.color=never -f tools/opensearch-node/pom.xml clean package
	@touch $@
	@echo "==> tools/opensearch-node is ready"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check app.py chalicelib collectors rules tests

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format app.py chalicelib collectors rules tests

# Deployment: Chalice's SAM template merged with .chalice/infra.yaml, plus the deployment zip.
# The built-in rules live in rules/ at the top level; vendor/ puts them into the zip.
STAGE ?= dev
package: install
	rm -rf vendor dist && mkdir -p vendor dist
	cp -r rules vendor/rules
	find vendor -name __pycache__ -prune -exec rm -rf {} +
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(VENV)/bin/chalice package \
		--stage $(STAGE) --merge-template .chalice/infra.yaml dist/
	rm -rf vendor

# cfn-lint and aws-sam-translator pin their own pydantic: they get a venv of their own.
INFRA_VENV ?= .venv-infra
infra-venv: $(INFRA_VENV)/.installed

$(INFRA_VENV)/.installed: requirements-infra.txt
	@test -x $(INFRA_VENV)/bin/python || { echo "==> creating $(INFRA_VENV)"; $(PYTHON) -m venv $(INFRA_VENV); }
	@echo "==> installing requirements-infra.txt (cfn-lint, aws-sam-translator) into $(INFRA_VENV)"
	@$(INFRA_VENV)/bin/python -m pip install --disable-pip-version-check -r requirements-infra.txt
	@touch $@

lint-infra: package $(INFRA_VENV)/.installed
	$(INFRA_VENV)/bin/python scripts/transform_template.py dist/sam.yaml dist/template.json
	$(INFRA_VENV)/bin/cfn-lint dist/template.json
	$(PY) -m collectors scan --offline --fail-on high dist/template.json

clean:
	rm -rf $(VENV) $(INFRA_VENV) .local .pytest_cache .ruff_cache dist vendor tools/opensearch-node/target

# --- benchmarks (bench/): third-party tools live in their own venv, never in .venv ---------------
TOOLS_VENV ?= bench/.venv-tools
BENCH_ARGS ?=

.PHONY: bench bench-tools parity bench-prowler bench-posture bench-facets

bench-tools: $(TOOLS_VENV)/.installed

$(TOOLS_VENV)/.installed: bench/requirements-tools.txt
	@test -x $(TOOLS_VENV)/bin/python || { echo "==> creating $(TOOLS_VENV)"; $(PYTHON) -m venv $(TOOLS_VENV); }
	@echo "==> installing bench/requirements-tools.txt into $(TOOLS_VENV)"
	@$(TOOLS_VENV)/bin/python -m pip install --disable-pip-version-check -r bench/requirements-tools.txt
	@touch $@

bench: install bench-tools
	$(PY) -m bench.corpus_bench $(BENCH_ARGS)

parity: install bench-tools
	$(PY) -m bench.parity

# Prowler pins packages that conflict with checkov's: a venv of its own.
PROWLER_VENV ?= bench/.venv-prowler
bench-prowler: $(PROWLER_VENV)/.installed

$(PROWLER_VENV)/.installed: bench/requirements-prowler.txt
	@test -x $(PROWLER_VENV)/bin/python || { echo "==> creating $(PROWLER_VENV)"; $(PYTHON) -m venv $(PROWLER_VENV); }
	@echo "==> installing bench/requirements-prowler.txt into $(PROWLER_VENV)"
	@$(PROWLER_VENV)/bin/python -m pip install --disable-pip-version-check -r bench/requirements-prowler.txt
	@touch $@

# posture scan on a seeded moto account, ours and Prowler side by side (docs/benchmarks.md, docs/parity.md)
bench-posture: install bench-prowler
	$(PY) -m bench.posture_bench --write-docs $(BENCH_ARGS)

# facet latency of the embedded search index over 1 M findings / 200 tenants (docs/benchmarks.md);
# the index is built once into bench/results/cache/ and reused
bench-facets: install
	$(PY) -m bench.facets_bench --write-docs $(BENCH_ARGS)
