"""Pytest fixtures for tests that need the emulator.

Import them into a test module or a conftest.py:

    from k8s_emulator.fixtures import k8s_emulator_session, k8s_emulator  # noqa: F401

``k8s_emulator_session``: one ``EmulatorThread`` per test session (per xdist
worker), with a kubeconfig written to ``.kubeconfig`` on it.
``k8s_emulator``: the same server reset to the seed before each test.
"""

import pytest

from .server import EmulatorThread


@pytest.fixture(scope='session')
def k8s_emulator_session(tmp_path_factory):
    with EmulatorThread() as k8s:
        k8s.kubeconfig = k8s.write_kubeconfig(tmp_path_factory.mktemp('k8s-emulator') / 'kubeconfig')
        yield k8s


@pytest.fixture
def k8s_emulator(k8s_emulator_session):
    k8s_emulator_session.emulator.reset()
    yield k8s_emulator_session
    error = k8s_emulator_session.emulator.last_error
    assert error is None, 'the emulator controller failed:\n%s' % error
