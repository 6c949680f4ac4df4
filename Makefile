# e8scan — every entry point a developer or CI needs. `make help` lists them.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEV     := $(VENV)/.dev
KRB     := $(VENV)/.kerberos

.PHONY: help demo test lint fmt catalogue system-deps bench clean

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The demo needs only e8scan itself; the test and lint tools come with `make test` / `make lint`.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(STAMP)

$(DEV): $(STAMP) pyproject.toml
	$(BIN)/pip install -q -e '.[test,lint]'
	touch $(DEV)

demo: $(STAMP) ## venv + install, scan this machine (inventories/local.yml) → reports/demo/
	@rc=0; $(BIN)/e8scan scan -i inventories/local.yml --out reports/demo || rc=$$?; \
	  echo "make demo: exit code $$rc (README 'Exit codes'); workbook in reports/demo/"; \
	  echo "  why this host got its levels: the workbook's Findings sheet (evidence per control) and Next level (what blocks it);"; \
	  echo "  no_visibility rows say what could not be read; run 'e8scan feeds update' if a feed is stale"; \
	  [ $$rc -ne 1 ] && [ $$rc -ne 2 ]

SYSTEM_PKGS := openssh-server sudo chromium busybox locales samba samba-ad-dc krb5-user winbind ldb-tools libkrb5-dev libreoffice-calc-nogui poppler-utils fonts-crosextra-carlito

system-deps: ## OS packages the test suite needs ($(SYSTEM_PKGS), the de_DE.UTF-8 locale); installs them when missing
	@# Under systemd the samba package starts the distro's smbd on *:445; the suite's own DC
	@# (tests/sambadc.py) needs 127.0.0.1:88, 389, 636 and 445, so those services are disabled.
	@if [ ! -x /usr/sbin/sshd ] || ! command -v sudo >/dev/null || ! command -v chromium >/dev/null \
	    || [ ! -x /usr/bin/busybox ] || ! command -v locale-gen >/dev/null \
	    || ! command -v samba-tool >/dev/null || ! command -v ldbmodify >/dev/null \
	    || ! command -v kinit >/dev/null || ! command -v krb5-config >/dev/null \
	    || ! command -v soffice >/dev/null || ! command -v pdftotext >/dev/null \
	    || [ ! -e /usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PKGS) >/dev/null) \
	      || { echo "make: could not install $(SYSTEM_PKGS) with apt-get" >&2; exit 1; }; \
	    if command -v systemctl >/dev/null; then \
	      systemctl disable --now smbd nmbd winbind samba-ad-dc >/dev/null 2>&1 || true; \
	    fi; \
	  else echo "make: $(SYSTEM_PKGS) are needed; run as root or install them" >&2; exit 1; fi; \
	fi
	@# The German fleet host (tests/e2e/test_hostile_hosts.py) needs the locale generated.
	@if ! locale -a 2>/dev/null | grep -qx 'de_DE.utf8'; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (sed -i 's/^# *de_DE.UTF-8 UTF-8/de_DE.UTF-8 UTF-8/' /etc/locale.gen \
	      && { grep -qx 'de_DE.UTF-8 UTF-8' /etc/locale.gen || echo 'de_DE.UTF-8 UTF-8' >> /etc/locale.gen; } \
	      && locale-gen >/dev/null) || { echo "make: could not generate de_DE.UTF-8 with locale-gen" >&2; exit 1; }; \
	  else echo "make: the de_DE.UTF-8 locale is needed; run as root or generate it" >&2; exit 1; fi; \
	fi

# The kerberos extra (python-gssapi) compiles against libkrb5-dev, which system-deps installs.
$(KRB): $(DEV) pyproject.toml | system-deps
	$(BIN)/pip install -q -e '.[test,lint,kerberos]'
	touch $(KRB)

test: $(DEV) system-deps $(KRB) ## everything the tests need, then the whole suite
	$(BIN)/pytest -q

lint: $(DEV) ## ruff (lint + format check), mypy strict, import-linter (the layers)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(DEV) ## apply ruff format and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(DEV) system-deps ## speed, memory, slow links and the scanned hosts' CPU, each against a baseline in the same run (~55 min; README "Performance")
	$(BIN)/python tests/bench/bench_report.py --hosts $${BENCH_HOSTS:-10000}
	$(BIN)/python tests/bench/bench_winrm.py
	$(BIN)/python tests/bench/bench_fleet.py --hosts 50 200 --sweep-rss 2000
	$(BIN)/python tests/bench/bench_latency.py --hosts 10 --rtt 0 150 300 --target-breakdown
	$(BIN)/python tests/bench/bench_target.py

catalogue: $(STAMP) ## regenerate docs/checks.md from the check docstrings
	$(BIN)/e8scan checks list --format md > docs/checks.md

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
