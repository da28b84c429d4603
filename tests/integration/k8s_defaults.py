"""What the collection's emulator fixtures run with unless a test says
otherwise: deleted pods stay Terminating for a while, as on a cluster, so a
procedure that goes on before its pods are gone (a restore after stopping
the writers) is caught (issue 12 item 4); and the playbooks talk to the API
with a ServiceAccount token bound to the Role shipped in deploy/k8s-rbac.yml,
the emulator enforcing RBAC, so a procedure that needs more than the Role
grants fails its test (issue 12 item 7). Setup and fault injection go
through the admin client (``k8s.api_client()``) or the emulator itself;
``admin=True`` is the explicit opt-out for a test whose playbook itself
needs the admin token. Also the one way those fixtures start an emulator and
wait on it."""

import contextlib
import os
import time

import yaml

from conftest import ROOT
from k8s_emulator import EmulatorThread

# Seconds a deleted pod stays Terminating (the emulator's own default is 0);
# QUICKBITE_K8S_TERMINATE_DELAY overrides it (e.g. 0 to compare timings).
TERMINATE_DELAY = float(os.environ.get('QUICKBITE_K8S_TERMINATE_DELAY', '0.3'))


# The token of ServiceAccount quickbite-ops, bound to the shipped Role.
ROLE_TOKEN = 'quickbite-ops-role-token-0123456789'
RBAC_MANIFEST = os.path.join(ROOT, 'deploy', 'k8s-rbac.yml')


def role_options():
    """EmulatorThread options enforcing RBAC with deploy/k8s-rbac.yml's Role
    and RoleBinding, ROLE_TOKEN the ServiceAccount's token."""
    with open(RBAC_MANIFEST) as handle:
        items = yaml.safe_load(handle)['items']  # a v1 List
    return dict(rbac=True, service_account_tokens={'quickbite-ops': ROLE_TOKEN},
                rbac_objects=[doc for doc in items if doc['kind'] in ('Role', 'RoleBinding')])


@contextlib.contextmanager
def emulator(tmp_path_factory, admin=False, **options):
    """An EmulatorThread with these defaults (pods start in 0.2 s, stay
    Terminating TERMINATE_DELAY, RBAC with the shipped Role) and a
    kubeconfig, its path as .kubeconfig: with the Role's token, or the admin
    token when ``admin`` (the opt-out). ``.admin_kubeconfig`` always has
    the admin token (for setup). kubectl sends no token over plain HTTP:
    its cross-checks are the admin's (rbac.py ``anonymous_admin``)."""
    options.setdefault('pod_start_delay', 0.2)
    options.setdefault('pod_terminate_delay', TERMINATE_DELAY)
    if not admin:
        for key, value in role_options().items():
            options.setdefault(key, value)
    with EmulatorThread(**options) as k8s:
        k8s.emulator.anonymous_admin = not admin  # kubectl's cross-checks (rbac.py)
        directory = tmp_path_factory.mktemp('k8s')
        k8s.admin_kubeconfig = str(k8s.write_kubeconfig(directory / 'admin-kubeconfig'))
        k8s.kubeconfig = k8s.admin_kubeconfig if admin else str(
            k8s.write_kubeconfig(directory / 'kubeconfig', token=ROLE_TOKEN))
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
