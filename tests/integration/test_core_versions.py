"""One playbook per platform on the ansible-core this pytest runs with: the
health check on the Kubernetes emulator (no stack) and on the demo stack.

`make test` runs this file with the suite's ansible-core (the newest the
collection supports) and again with the oldest that meta/runtime.yml claims
(scripts/core-matrix.sh: `build/venv-core-<version>/bin/python -m pytest`,
where conftest's run_playbook takes ansible-playbook from the interpreter's
own venv)."""
import os
import subprocess

import pytest

from conftest import VENV_BIN, run_playbook
from k8s_defaults import emulator

pytestmark = [pytest.mark.integration]


def _core_version():
    import ansible.release
    out = subprocess.run([os.path.join(VENV_BIN, 'ansible-playbook'), '--version'], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert 'core %s]' % ansible.release.__version__ in out.splitlines()[0], (
        'ansible-playbook of %s is not the ansible-core this pytest imports: %s' % (VENV_BIN, out.splitlines()[0]))
    return ansible.release.__version__


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    with emulator(tmp_path_factory) as k8s:
        yield k8s


@pytest.mark.k8s
def test_healthcheck_on_the_emulator(cluster, tmp_path):
    version = _core_version()
    run = run_playbook('healthcheck.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=dict(quickbite_k8s_kubeconfig=cluster.kubeconfig, healthcheck_checks=['platform']))
    assert run.rc == 0, 'ansible-core %s: %s' % (version, run.output[-3000:])
    report = run.result('healthcheck')
    assert report['status'] == 'UP' and report['platform'] == 'k8s', report
    services = dict((s['name'], s) for s in report['checks']['platform']['details']['services'])
    assert services['backend']['ok'] and services['backend']['desired'] == 3, services


@pytest.mark.compose
def test_healthcheck_on_the_demo_stack(demo_vars, stack, tmp_path):
    version = _core_version()
    run = run_playbook('healthcheck.yml', extra=demo_vars, tmp_path=tmp_path)
    assert run.rc == 0, 'ansible-core %s: %s' % (version, run.output[-3000:])
    report = run.result('healthcheck')
    assert report['status'] == 'UP' and report['platform'] == 'compose', report
    assert set(check['status'] for check in report['checks'].values()) == {'UP'}, report['checks']
    assert stack['env']['DB_PASSWORD'] not in run.output + repr(run.records)
