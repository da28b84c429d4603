"""The monitoring role on Kubernetes, against the API emulator (no stack): the
rules become a PrometheusRule (monitoring.coreos.com/v1, stored by
tests/k8s_emulator/customresources.py) applied through the platform adapter;
the stored object equals the rendered rules; check mode stores nothing; a
second run changes nothing."""
import pytest
from kubernetes import client as k8s_client

from conftest import run_playbook
from k8s_emulator import EmulatorThread

from ansible_collections.quickbite.ops.plugins.module_utils.monitoring import rules

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

OVERRIDES = {'backend_down': {'for': '1m'}, 'high_latency': {'threshold_seconds': 1.5}}


@pytest.fixture
def k8s(tmp_path):
    with EmulatorThread() as cluster:
        cluster.kubeconfig = str(cluster.write_kubeconfig(tmp_path / 'kubeconfig'))
        yield cluster


def _stored(k8s):
    api = k8s_client.CustomObjectsApi(k8s.api_client())
    try:
        return api.get_namespaced_custom_object('monitoring.coreos.com', 'v1', 'quickbite', 'prometheusrules',
                                                'quickbite-alerts')
    except k8s_client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _rules_result(run):
    """The result of the role's rules task (the routing task after it is skipped: no receiver)."""
    return [r['result'] for r in run.records if r['task'].endswith('Install the alerting rules')][-1]


def test_prometheusrule_equals_the_rendered_rules(k8s, tmp_path):
    extra = {'quickbite_k8s_kubeconfig': k8s.kubeconfig, 'monitoring_alerts': OVERRIDES,
             'monitoring_runbook_url': 'https://wiki.example/runbook.md'}
    check = run_playbook('monitoring.yml', inventory='inventory/k8s', extra=extra, check=True, tmp_path=tmp_path)
    assert check.rc == 0, check.output
    assert _rules_result(check)['changed'] is True
    assert _stored(k8s) is None

    run = run_playbook('monitoring.yml', inventory='inventory/k8s', extra=extra, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    result = _rules_result(run)
    assert result['changed'] is True and result['object'] == 'quickbite-alerts'
    stored = _stored(k8s)
    assert stored['kind'] == 'PrometheusRule'
    expected = rules.render(OVERRIDES, runbook_url='https://wiki.example/runbook.md')['groups']
    assert stored['spec']['groups'] == expected
    assert len(expected[0]['rules']) == 7

    again = run_playbook('monitoring.yml', inventory='inventory/k8s', extra=extra, tmp_path=tmp_path)
    assert again.rc == 0, again.output
    assert _rules_result(again)['changed'] is False
