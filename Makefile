# Every target sets up what it needs: a fresh clone only needs python3 (>= 3.11), node and npm.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
CDK := node_modules/.bin/cdk
# Tests use every core; override with `make test PYTEST_ARGS=...`. `make test` leaves out the tests
# at the sizes users reach (marker `scale`, a couple of minutes more); `make test-scale` runs them,
# and CI runs both. Work stealing: xdist's default (`load`) queues tests for each worker ahead of
# time; with `worksteal` an idle worker takes tests queued for another (on 2 cores the suite ran
# in 3 min 11 s instead of 4 min 17 s).
PYTEST_ARGS ?= -n auto --dist worksteal
# `make soak SOAK=short` is the couple-of-minutes version CI runs; SOAK=medium is a tenth of the full one.
SOAK ?= full
# When make started: `make test` and `make test-scale` end on their whole time (install, lint, tests).
STARTED := $(shell date +%s)
# $(call timed,NAME,COMMAND): run COMMAND, then say on the last line whether it passed and how long
# NAME took since make started. Bash arithmetic, since `time -f` is not portable.
timed = @$(info $(2))status=0; $(2) || status=$$?; elapsed=$$(( $$(date +%s) - $(STARTED) )); \
	echo "$(1): $$(test $$status = 0 && echo passed || echo FAILED) in $$((elapsed / 60)) min $$((elapsed % 60)) s"; \
	exit $$status
# pip would compile every installed module, most of them never imported (aws-cdk-lib alone is 300 MB
# of bytecode): two thirds of a fresh install. Bytecode is written instead as modules are first
# imported, so it is on for every target even where the shell turns it off. boto3 and botocore are
# compiled at install, as the Lambda runtime provides them: `make bench` imports them with -B.
export PYTHONDONTWRITEBYTECODE :=
# Extra CDK CLI arguments, e.g. `make deploy CONTEXT='-c sender=invites@your-domain'` (docs/deployment.md).
CONTEXT ?=

# aws-cdk-lib runs on Node 22 or 24. On any other Node its jsii runtime prints a banner that reaches
# us as Python byte strings (b'!!!...', aws/jsii#4065) in every synth, demo and test. Say it once, in
# words, and silence that banner (the variables jsii documents; an end-of-life one takes the major).
NODE_VERSION := $(shell node --version 2>/dev/null)
NODE_MAJOR := $(patsubst v%,%,$(firstword $(subst ., ,$(NODE_VERSION))))
ifneq ($(NODE_MAJOR),)
ifeq ($(filter 22 24,$(NODE_MAJOR)),)
ifneq ($(filter-out help clean,$(or $(MAKECMDGOALS),help)),)
$(info note: node $(NODE_VERSION) is not one aws-cdk-lib supports (Node 22 or 24, see README.md); its warning is silenced)
endif
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := $(NODE_MAJOR)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_KNOWN_BROKEN_NODE_VERSION := 1
endif
endif

.DEFAULT_GOAL := help
.PHONY: help install test test-scale lint format demo serve bench soak synth bootstrap deploy destroy clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -r requirements-dev.txt
	$(PY) -m compileall -q "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"/{boto3,botocore}
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed ## Create .venv and install the pinned Python and npm dependencies

lint: $(VENV)/.installed ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install lint ## Install, lint, then run the test suite (all but the scale tier); ends on its time
	$(call timed,make test,$(BIN)/pytest $(PYTEST_ARGS) -m "not scale")

test-scale: install ## The scale tier: 1,000 attendees, 300 requests under faults, thousands of updates
	$(call timed,make test-scale,$(BIN)/pytest $(PYTEST_ARGS) -m scale)

demo: install ## Run the end-to-end scenario locally on moto (no AWS account, no Docker)
	$(PY) -m local demo

serve: install ## Keep a local runtime up for bin/cisctl --local (Ctrl-C stops it)
	$(PY) -m local serve

bench: install ## Print performance figures and write bench/results.json
	$(PY) -m bench

soak: install ## Soak the local runtime under faults (SOAK=full|medium|short); fails if a check fails
	$(PY) -m bench.soak $(SOAK)

synth: install ## Synthesize the CloudFormation templates into cdk.out (no Docker, no credentials)
	$(CDK) synth --quiet $(CONTEXT)

bootstrap: install ## Once per account and region: prepare it for CDK deployments (needs credentials)
	$(CDK) bootstrap $(CONTEXT)

deploy: install ## Deploy into the AWS account of your current credentials
	$(CDK) deploy --all --require-approval broadening --context deploy=true $(CONTEXT)

destroy: install ## Delete the stacks (the table and its data are retained)
	$(CDK) destroy --all $(CONTEXT)

clean: ## Remove the virtualenv, node_modules and build output
	rm -rf $(VENV) node_modules cdk.out outbox .cache .local-runtime .pytest_cache .ruff_cache .hypothesis
