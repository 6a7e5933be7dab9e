# Luotsi — two commands: `make run` and `make test`. Everything else is set up on the way.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
QUIET_PIP := 2>&1 | { grep -v '^WARNING: Location' || true; }
.DEFAULT_GOAL := help

PY312 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12))
PY310 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10 /root/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10))
HUB := .venv/bin
RASA := .venv-rasa/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help run test lint unit rasa-test eval bench bench-cluster bench-desk bench-queue bench-mail bench-telegram bench-phone model chromium haproxy services lock clean

help:
	@echo "make run    set up everything and start Luotsi (web chat on http://127.0.0.1:8000/)"
	@echo "make test   set up everything and run lint, type checks and the whole test suite"
	@echo "make eval   language-identification and NLU quality reports (docs/quality.md)"
	@echo "make bench  benchmarks (docs/benchmarks.md); make bench-cluster, bench-desk, bench-queue, bench-mail, bench-telegram, bench-phone"

.venv/.stamp: requirements/hub.lock pyproject.toml
	@test -n "$(PY312)" || { echo "Python 3.12 not found (pyenv install 3.12)"; exit 1; }
	@echo "==> creating .venv (Python 3.12) for the hub — about 30 s"
	@test -x $(HUB)/python || $(PY312) -m venv .venv
	@$(HUB)/pip install -q -r requirements/hub.lock $(QUIET_PIP)
	@$(HUB)/pip install -q --no-deps -e . $(QUIET_PIP)
	@touch $@

.venv-rasa/.stamp: requirements/rasa.lock
	@test -n "$(PY310)" || { echo "Python 3.10 not found (pyenv install 3.10)"; exit 1; }
	@echo "==> creating .venv-rasa (Python 3.10) for Rasa 3.6 — about 2 minutes"
	@test -x $(RASA)/python || $(PY310) -m venv .venv-rasa
	@$(RASA)/pip install -q -r requirements/rasa.lock $(QUIET_PIP)
	@touch $@

model: .venv/.stamp .venv-rasa/.stamp
	@$(HUB)/python scripts/model.py ensure >/dev/null

run: model
	@$(HUB)/luotsi run --demo

chromium:
	@command -v chromium >/dev/null || { echo "==> installing Debian's chromium for the browser tests"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q chromium >/dev/null; }

haproxy:
	@command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || { echo "==> installing Debian's haproxy for the cluster tests"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q haproxy >/dev/null; }

services:
	@scripts/services.sh

lint: .venv/.stamp
	@echo "==> ruff, mypy, import contracts"
	@$(HUB)/ruff check bot integrations nlu actions tests scripts
	@$(HUB)/mypy
	@$(HUB)/lint-imports

rasa-test: model
	@echo "==> rasa test (stories and rules)"
	@mkdir -p var && rm -rf var/rasa-test && PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false $(RASA)/rasa test core --e2e \
	  --model $$($(HUB)/python scripts/model.py path) --stories tests/rasa \
	  --out var/rasa-test --fail-on-prediction-errors --no-plot >var/rasa-test.log 2>&1 \
	  || { tail -40 var/rasa-test.log; exit 1; }
	@echo "    stories and rules: all predictions correct (actions, and intents and languages of the written messages)"

unit: model chromium haproxy services
	@echo "==> pytest (hub, channels, language identification, Rasa stack, browser)"
	@$(HUB)/pytest -q
	@echo "==> pytest in .venv-rasa (nlu components, actions)"
	@PYTHONPATH=. $(RASA)/python -m pytest -q -p no:cacheprovider --noconftest -o addopts="" -W ignore::DeprecationWarning tests/rasa_side

test: lint rasa-test unit

eval: model
	@$(HUB)/python scripts/eval_langid.py
	@PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=2 $(RASA)/python scripts/eval_nlu.py
	@$(HUB)/python scripts/eval_chat.py

bench: model services
	@$(HUB)/python scripts/bench.py

bench-cluster: model haproxy services
	@$(HUB)/python scripts/bench_cluster.py

bench-desk: model services
	@$(HUB)/python scripts/bench_desk.py

bench-queue: .venv/.stamp
	@$(HUB)/python scripts/bench_queue.py

bench-mail: .venv/.stamp services
	@$(HUB)/python scripts/bench_mail.py

bench-telegram: model services
	@$(HUB)/python scripts/bench_telegram.py

bench-phone: .venv/.stamp
	@$(HUB)/python scripts/bench_phone.py

lock:
	@$(HUB)/pip freeze --exclude-editable | sed '1i # pip freeze of .venv (Python 3.12); regenerate with: make lock' > requirements/hub.lock
	@$(RASA)/pip freeze | sed '1i # pip freeze of .venv-rasa (Python 3.10); regenerate with: make lock' > requirements/rasa.lock

clean:
	rm -rf .venv .venv-rasa models var .mypy_cache .ruff_cache
