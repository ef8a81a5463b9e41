# Sluice: the two set-up commands are `make run` and `make test`; both install what is missing.
SHELL := /bin/bash
APT_PACKAGES := libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsnappy-dev pkg-config kcat librdkafka-dev
VENV := .venv
PY := $(VENV)/bin/python
SWIFT_FLAGS ?=
RELEASE_BIN := .build/release/sluice

.PHONY: deps apt-deps py-deps build release run test unit-test interop-test bench codegen codegen-check clean

deps: apt-deps py-deps

apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: Tests/Interop/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r Tests/Interop/requirements.txt
	touch $@

py-deps: $(VENV)/.installed

build: apt-deps
	swift build $(SWIFT_FLAGS)

release: apt-deps
	swift build -c release $(SWIFT_FLAGS)

run: release
	$(RELEASE_BIN) serve

codegen:
	swift run KafkaCodegen ../shared/reference/kafka-protocol/messages Sources/KafkaProtocol/Generated

codegen-check: apt-deps
	@bash scripts/codegen-check.sh

unit-test: apt-deps
	swift test $(SWIFT_FLAGS)

interop-test: release py-deps
	SLUICE_BIN=$(abspath $(RELEASE_BIN)) $(PY) -m pytest -q Tests/Interop

test: deps codegen-check unit-test interop-test

# Builds release itself (SCRATCH=<scratch path>, default .build); the librdkafka suite runs when
# ../shared/tools/bench exists. Figures and method: docs/BENCHMARKS.md.
bench: apt-deps
	@bash scripts/bench.sh

clean:
	rm -rf .build $(VENV) data
