# quickbite.ops: `make demo` and `make test` are the two commands a fresh
# Debian 12 machine (as root) needs; every other target is a step of those.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STACK_DIR ?= /var/lib/quickbite/demo
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: demo test bootstrap venv docker images stack-up stack-down stack-reset \
        lint sanity unit integration molecule build install-built clean benchmarks ee

demo: bootstrap venv docker stack-up
	$(BIN)/ansible-playbook playbooks/healthcheck.yml -i inventory/demo

# The steps below, in two lanes side by side (scripts/test.sh): the tests that use
# the demo stack, then the molecule scenarios that use it; beside them the
# no-stack integration tests, unit, molecule k8s, lint and sanity. Logs in
# build/test-logs/; the 15 slowest tests are printed at the end.
test: bootstrap venv docker images install-built
	bash scripts/test.sh

bootstrap:
	bash scripts/bootstrap-host.sh

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import ansible, docker, kubernetes, psycopg2, molecule"
	touch $@

docker: venv
	bash scripts/dockerd-start.sh

images: docker
	bash scripts/stack.sh images

stack-up: images
	bash scripts/stack.sh up $(STACK_DIR)

stack-down:
	bash scripts/stack.sh down $(STACK_DIR)

stack-reset:
	bash scripts/stack.sh reset $(STACK_DIR)

lint: venv
	$(BIN)/ansible-lint --profile production --offline

sanity: venv
	bash scripts/sanity.sh

unit: venv
	$(BIN)/pytest -q -n 2 --durations=15 tests/unit

# The tests that use the stack (marked `stack` by conftest.py) wait for its lock;
# the others, on the Kubernetes emulator, run two at a time.
integration: venv docker images
	$(BIN)/pytest -q --durations=15 -m stack tests/integration
	QUICKBITE_TESTS_WITHOUT_STACK=1 $(BIN)/pytest -q -n 2 --durations=15 -m 'not stack' tests/integration

# Molecule runs the *built* collection, installed as AWX would install it.
# reset first: a run's "prepared" state would make the next run skip prepare.yml.
# flock: compose and schedule share the demo stack with the integration tests (same
# lock); k8s uses only the emulator on port 18443 (a lock of its own).
molecule: venv docker images install-built
	$(BIN)/molecule reset -s compose >/dev/null 2>&1 || true
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/collections flock /tmp/quickbite-stack.lock $(BIN)/molecule test -s compose
	$(BIN)/molecule reset -s k8s >/dev/null 2>&1 || true
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/collections flock /tmp/quickbite-molecule-k8s.lock $(BIN)/molecule test -s k8s
	$(BIN)/molecule reset -s schedule >/dev/null 2>&1 || true
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/collections flock /tmp/quickbite-stack.lock $(BIN)/molecule test -s schedule

build: venv
	mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build .

install-built: build
	$(BIN)/ansible-galaxy collection install --force -p build/collections build/quickbite-ops-*.tar.gz

# The AWX execution environment image (not part of make test: 2-3 minutes; docs/execution-environment.md).
ee: venv docker
	bash scripts/ee-build.sh image

benchmarks: venv docker stack-up
	for b in benchmarks/*/run; do $$b; done

clean:
	rm -rf build tests/output .pytest_cache
