# Sluice: the two set-up commands are `make run` and `make test`; both install what is missing.
SHELL := /bin/bash
APT_PACKAGES := libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsnappy-dev pkg-config kcat librdkafka-dev
# Only the interop tests need these: Debian's Go and its sarama 1.22 (Tests/Interop/sarama, built offline).
INTEROP_APT_PACKAGES := golang-go golang-github-shopify-sarama-dev
VENV := .venv
PY := $(VENV)/bin/python
SWIFT_FLAGS ?=
RELEASE_BIN := .build/release/sluice

.PHONY: deps apt-deps interop-apt-deps venv py-deps build release run test unit-test interop-test bench codegen codegen-check clean

deps: apt-deps py-deps

# Installs whichever of PACKAGES is missing.
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

apt-deps:
	$(call apt_install,$(APT_PACKAGES))

interop-apt-deps:
	$(call apt_install,$(INTEROP_APT_PACKAGES))

$(VENV)/.installed: Tests/Interop/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r Tests/Interop/requirements.txt
	touch $@

# kafka-python 2.0.2 (2020, still widely installed) uses fixed old API versions; kept apart from
# the current one and put on PYTHONPATH by the test that needs it.
OLD_KAFKA_PYTHON := .pydeps/kafka-python-2.0.2/.installed
$(OLD_KAFKA_PYTHON): $(VENV)/.installed
	$(PY) -m pip install -q --no-deps --target .pydeps/kafka-python-2.0.2 kafka-python==2.0.2
	touch $@

venv: $(VENV)/.installed

py-deps: $(VENV)/.installed $(OLD_KAFKA_PYTHON)

build: apt-deps
	swift build $(SWIFT_FLAGS)

release: apt-deps
	swift build -c release $(SWIFT_FLAGS)

# The schema registry listens on 8081 too (REGISTRY= to change or REGISTRY="" to turn it off).
REGISTRY ?= http://127.0.0.1:8081
# The README's Python examples run with .venv/bin/python (confluent-kafka with its schema-registry
# and Avro extras, from Tests/Interop/requirements.txt).
run: release venv
	bash scripts/dev-setup.sh $(RELEASE_BIN)
	$(RELEASE_BIN) serve --config scripts/dev-server.properties

# Kafka's message JSON specs (clients/src/main/resources/common/message in Kafka's source tree).
# codegen-check skips itself with one line when they are absent, or fails with SLUICE_REQUIRE_SHARED=1.
export KAFKA_SPECS ?= ../shared/reference/kafka-protocol/messages
# KRaft's metadata record specs (metadata/src/main/resources/common/metadata in Kafka's tree);
# KafkaCodegen defaults to metadata/ beside KAFKA_SPECS when this is empty.
export KAFKA_METADATA_SPECS ?=
codegen:
	@test -d "$(KAFKA_SPECS)" || { echo "codegen: $(KAFKA_SPECS) not found; set KAFKA_SPECS=<Kafka's message specs>" >&2; exit 1; }
	swift run KafkaCodegen "$(KAFKA_SPECS)" Sources/KafkaProtocol/Generated Tests/KafkaProtocolTests/Generated

codegen-check: apt-deps
	@bash scripts/codegen-check.sh

unit-test: apt-deps
	swift test $(SWIFT_FLAGS)

interop-test: release py-deps interop-apt-deps
	SLUICE_BIN=$(abspath $(RELEASE_BIN)) $(PY) -m pytest -q Tests/Interop

test: deps codegen-check unit-test interop-test

# Builds release itself (SCRATCH=<scratch path>, default .build); the librdkafka suite runs when
# ../shared/tools/bench exists. Figures and method: docs/BENCHMARKS.md.
bench: apt-deps
	@bash scripts/bench.sh

clean:
	rm -rf .build $(VENV) data

# libFuzzer targets (Fuzz/, STYLE item 20): each runs FUZZ_SECONDS; crashes land in
# Fuzz/FailCases/<target>/ and are replayed by `swift test` (FuzzFailCaseTests).
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := FuzzRequestDecode FuzzRecordBatches FuzzDecompress
FUZZ_FLAGS := -rss_limit_mb=1024 -malloc_limit_mb=64 -max_len=8192

.PHONY: fuzz fuzz-build
fuzz-build: apt-deps
	swift build -c debug -Xswiftc -sanitize=fuzzer,address --package-path Fuzz

fuzz: fuzz-build
	@python3 scripts/fuzz-seeds.py Fuzz/.corpus
	@status=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p Fuzz/FailCases/$$t Fuzz/.corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	  Fuzz/.build/debug/$$t $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=Fuzz/FailCases/$$t/ Fuzz/.corpus/$$t 2>Fuzz/.corpus/$$t.log || status=1; \
	  tail -n 12 Fuzz/.corpus/$$t.log; \
	done; \
	if [ $$status != 0 ]; then echo "fuzz: crashes saved under Fuzz/FailCases/; replay with swift test --filter FuzzFailCaseTests"; fi; \
	exit $$status
