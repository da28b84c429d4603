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


@pytest.hookimpl(tryfirst=True)  # before -m selects by markers
def pytest_collection_modifyitems(items):
    for item in items:
        if STACK_FIXTURES.intersection(getattr(item, 'fixturenames', ())):
            item.add_marker('stack')
