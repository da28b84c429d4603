# Lets pytest import the checkout as ansible_collections.quickbite.ops (through
# the .collections symlink) and the Kubernetes emulator as k8s_emulator.
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.abspath(__file__))
for path in (os.path.join(ROOT, '.collections'), os.path.join(ROOT, 'tests')):
    if path not in sys.path:
        sys.path.insert(0, path)

# Tests that use the shared reference stack get the `stack` marker here, from
# their fixtures: `stack` or `stack_lock`, directly or through another fixture
# (demo_vars...). New tests are sorted the same way. `make test` runs
# `-m stack` (which holds the stack lock) beside `-m "not stack"`, where
# tests/integration/conftest.py refuses playbook runs and compose calls on
# the demo stack. (The compose marker alone says nothing: a test may need the
# docker CLI only.)
STACK_FIXTURES = frozenset(('stack', 'stack_lock'))
# make test runs the stack tests in two lanes, each on a reference stack of its own
# (scripts/test.sh): the stack tests of these modules also get `second_stack` and run
# on the second stack (QUICKBITE_STACK=b, tests/integration/conftest.py), the others
# on the first, with molecule compose and schedule, the crontab and the monitoring bed.
# A list, to balance the lanes by their measured times (build/test-logs/*.xml).
SECOND_STACK_MODULES = frozenset((
    'test_backup_compose', 'test_restore_compose', 'test_service_ops_compose', 'test_incident_compose',
    'test_rotate_jwt_compose', 'test_flyway_repair_compose', 'test_backup_loading_compose',
))


@pytest.hookimpl(tryfirst=True)  # before -m selects by markers
def pytest_collection_modifyitems(items):
    for item in items:
        if STACK_FIXTURES.intersection(getattr(item, 'fixturenames', ())):
            item.add_marker('stack')
            if item.module.__name__.rsplit('.', 1)[-1] in SECOND_STACK_MODULES:
                item.add_marker('second_stack')
