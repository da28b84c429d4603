"""What the collection's emulator fixtures run with unless a test says
otherwise: deleted pods stay Terminating for a while, as on a cluster, so a
procedure that goes on before its pods are gone (a restore after stopping
the writers) is caught (issue 12 item 4). Also the one way those fixtures
start an emulator and wait on it."""

import contextlib
import os
import time

from k8s_emulator import EmulatorThread

# Seconds a deleted pod stays Terminating (the emulator's own default is 0);
# QUICKBITE_K8S_TERMINATE_DELAY overrides it (e.g. 0 to compare timings).
TERMINATE_DELAY = float(os.environ.get('QUICKBITE_K8S_TERMINATE_DELAY', '0.3'))


@contextlib.contextmanager
def emulator(tmp_path_factory, **options):
    """An EmulatorThread with these defaults (pods start in 0.2 s, stay
    Terminating TERMINATE_DELAY) and a kubeconfig, its path as .kubeconfig."""
    options.setdefault('pod_start_delay', 0.2)
    options.setdefault('pod_terminate_delay', TERMINATE_DELAY)
    with EmulatorThread(**options) as k8s:
        k8s.kubeconfig = str(k8s.write_kubeconfig(tmp_path_factory.mktemp('k8s') / 'kubeconfig'))
        yield k8s


def wait_until(condition, timeout=10, interval=0.1):
    """Poll ``condition`` until it is true; fail the test after ``timeout`` s."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, 'condition not reached in %s s' % timeout
        time.sleep(interval)


def wait_for(predicate, timeout=8.0, interval=0.01, what='condition'):
    """The emulator tests' wait: ``predicate``'s first true value, polled
    every ``interval`` s; fails the test naming ``what`` after ``timeout`` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError('timed out waiting for %s' % what)
