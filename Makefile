# The user's contract: thin targets over the Python CLIs in scripts/ (each has --help).
# Every target bootstraps the virtual environment itself from the lock file.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := .tools/bin/uv
STAMP := $(VENV)/.synced-stamp
export UV_PYTHON_DOWNLOADS := never

# Make variables map one to one onto CLI flags; unset ones leave the CLI's defaults.
flag = $(if $(strip $($(1))),--$(2) '$(strip $($(1)))')
DEPLOYMENT_FLAGS = $(call flag,PROFILE,profile) $(call flag,PROXY,proxy) $(call flag,DB,db)
BENCH_FLAGS = $(call flag,SERVER,server) $(call flag,SCENARIO,scenario) \
	$(call flag,USERS,users) $(call flag,SPAWN_RATE,spawn-rate) \
	$(call flag,DURATION,duration) $(call flag,WARMUP,warmup) $(call flag,REPEATS,repeats) \
	$(call flag,WORKERS,workers) $(call flag,THREADS,threads) $(call flag,HOST,host) \
	$(call flag,PORT,port) $(call flag,RESULTS,results) \
	$(call flag,ACCESS_LIFETIME,access-lifetime) $(call flag,PIN,pin) \
	$(call flag,LOCUST_PROCESSES,locust-processes) $(call flag,SHAPE,shape) \
	$(call flag,EXPECT_REMOTE_WORKERS,expect-remote-workers) \
	$(call flag,MASTER_BIND,master-bind) $(call flag,MASTER_PORT,master-port) \
	$(call flag,WORKERS_MAX_WAIT,workers-max-wait) \
	$(call flag,STEP,step) $(call flag,SLO_P99_MS,slo-p99-ms) $(call flag,PRESET,preset) \
	$(call flag,ARRIVAL_RATE,arrival-rate) $(call flag,MAX_IN_FLIGHT,max-in-flight) \
	$(DEPLOYMENT_FLAGS) $(call flag,CHECKS,checks) $(call flag,MAX_REQUESTS,max-requests) \
	$(call flag,TARGET,target) $(call flag,TARGET_CA,target-ca) \
	$(if $(filter 1 yes true,$(REPORT)),--report) \
	$(if $(filter 1 yes true,$(SHARE_MACHINE)),--share-machine)
CALIBRATE_FLAGS = $(call flag,SERVER,server) $(call flag,USERS,users) \
	$(call flag,DURATION,duration) $(call flag,WARMUP,warmup) $(call flag,PAIRS,pairs) \
	$(call flag,PIN,pin) $(call flag,WORKERS,workers) $(call flag,RESULTS,results) \
	$(call flag,WRK,wrk) $(call flag,REFERENCE,reference) $(call flag,CAUSES,causes)
REPORT_FLAGS = $(call flag,RESULTS,results) $(call flag,RUNS,runs) \
	$(call flag,BASELINE,baseline) $(if $(filter 1 yes true,$(POOL)),--pool)
COMPARE_FLAGS = $(call flag,BASE,base) $(call flag,CAND,cand) \
	$(call flag,THRESHOLD,threshold) $(call flag,RESULTS,results)
LESSON_FLAGS = $(call flag,LESSON,lesson) $(call flag,SECTIONS,sections) \
	$(call flag,RESULTS,results) $(if $(filter 1 yes true,$(REBUILD)),--rebuild)
LOADWORKER_FLAGS = $(call flag,MASTER,master) $(if $(filter 1 yes true,$(ONCE)),--once)
SERVE_FLAGS = $(call flag,SERVER,server) $(call flag,PORT,port) $(call flag,HOST,host) \
	$(call flag,WORKERS,workers) $(call flag,THREADS,threads) $(DEPLOYMENT_FLAGS)

.PHONY: help venv bench report compare calibrate lesson serve loadworker test lint system-deps clean

help:
	@echo "make bench SERVER=<name|all|every>  one server, the five, or every server"
	@echo "                               PRESET=verdict: REPEATS=4 DURATION=10s WARMUP=2s"
	@echo "                               PROFILE=dev|production, PROXY=none|nginx, DB=sqlite|postgres"
	@echo "                               CHECKS=robustness (slow clients, oversize, graceful stop)"
	@echo "                               MAX_REQUESTS=N: recycle workers (gunicorn, uwsgi)"
	@echo "make bench TARGET=https://host[:port][/prefix] [TARGET_CA=ca.pem]"
	@echo "                               a running deployment; password in DRF_BENCH_TARGET_PASSWORD"
	@echo "make report [RESULTS=dir] [RUNS=ids|glob] [BASELINE=server] [POOL=1]"
	@echo "                               tables, charts, verdicts, HTML -> <results>/report/"
	@echo "make compare BASE=<dir|runs> CAND=<dir|runs> [THRESHOLD=5]"
	@echo "                               baseline vs candidate -> <results>/compare/"
	@echo "make calibrate SERVER=<name> [REFERENCE=wrk,locust] [CAUSES=all]"
	@echo "                               cross-check the harness against wrk (and plain Locust)"
	@echo "make lesson [LESSON=quick] [SECTIONS=1,4] [REBUILD=1]"
	@echo "                               why runserver is not for production, measured here"
	@echo "                               -> <results>/lesson/index.html"
	@echo "make serve SERVER=<name>       the app under one server in the foreground"
	@echo "make loadworker MASTER=<host>[:port] [ONCE=1]"
	@echo "                               a Locust worker for a bench on another machine"
	@echo "                               (there: make bench ... EXPECT_REMOTE_WORKERS=M HOST=<addr>)"
	@echo "make test                      the whole test suite (lint included)"
	@echo "make lint                      ruff + mypy"
	@echo "make system-deps               Debian packages the tests need (wrk, chromium, nginx, postgresql)"
	@echo "exit status: 0 ok, 1 a run failed or was invalid, 2 bad input, 3 SLO missed,"
	@echo "             4 compare: slower, 5 verdict not reached, 6 results not written,"
	@echo "             128+N ended by signal N (130 Ctrl-C)"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check 'uv>=0.5,<1'

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

venv: $(STAMP)

bench: $(STAMP)
	$(PY) -m scripts.bench $(BENCH_FLAGS)

report: $(STAMP)
	$(PY) -m scripts.report $(REPORT_FLAGS)

compare: $(STAMP)
	$(PY) -m scripts.compare $(COMPARE_FLAGS)

calibrate: $(STAMP)
	$(PY) -m scripts.calibrate $(CALIBRATE_FLAGS)

lesson: $(STAMP)
	$(PY) -m scripts.lesson $(LESSON_FLAGS)

serve: $(STAMP)
	$(PY) -m scripts.serve $(SERVE_FLAGS)

loadworker: $(STAMP)
	$(PY) -m scripts.loadworker $(LOADWORKER_FLAGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

# Debian packages: wrk (the reference load generator), chromium (the report's browser test),
# nginx-light (PROXY=nginx) and postgresql (DB=postgres; the harness runs its own cluster from
# these binaries). The system services are not started: where no policy-rc.d forbids it, one
# is put in place for the install and removed after.
system-deps:
	@missing=""; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -z "$$missing" ]; then echo "system packages present: wrk chromium nginx postgresql"; \
	else \
		echo "installing Debian packages:$$missing"; \
		policy=/usr/sbin/policy-rc.d; placed=""; \
		if [ ! -e $$policy ]; then printf '#!/bin/sh\nexit 101\n' > $$policy; \
			chmod 755 $$policy; placed=1; fi; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends $$missing; status=$$?; \
		[ -z "$$placed" ] || rm -f $$policy; \
		exit $$status; \
	fi

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
