"""The monitoring role on Kubernetes, against the API emulator (no stack): the
rules become a PrometheusRule (monitoring.coreos.com/v1) and the routing an
AlertmanagerConfig (monitoring.coreos.com/v1alpha1), both stored by
tests/k8s_emulator/customresources.py and applied through the platform
adapter; the stored objects equal the rendered ones; check mode stores
nothing and shows the diff; a second run changes nothing; a changed
receiver is patched in place."""
import pytest
from kubernetes import client as k8s_client

from conftest import run_playbook
from k8s_defaults import emulator

from ansible_collections.quickbite.ops.plugins.module_utils.monitoring import alertmanager, rules

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

OVERRIDES = {'backend_down': {'for': '1m'}, 'high_latency': {'threshold_seconds': 1.5}}


@pytest.fixture
def k8s(tmp_path_factory):
    with emulator(tmp_path_factory) as cluster:  # the playbooks run with the Role's token
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


def _stored_routing(k8s):
    api = k8s_client.CustomObjectsApi(k8s.api_client())
    try:
        return api.get_namespaced_custom_object('monitoring.coreos.com', 'v1alpha1', 'quickbite', 'alertmanagerconfigs',
                                                'quickbite-oncall')
    except k8s_client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _routing_result(run):
    return [r['result'] for r in run.records if r['task'].endswith('Install the Alertmanager routing')][-1]


def test_alertmanagerconfig_equals_the_rendered_routing_idempotent_check_and_diff(k8s, tmp_path):
    hook = 'http://incident-hook.quickbite.svc:8088/alerts'
    extra = {'quickbite_k8s_kubeconfig': k8s.kubeconfig, 'monitoring_alertmanager_webhook_urls': [hook],
             'monitoring_alertmanager_slack_secret_name': 'quickbite-slack',
             'monitoring_alertmanager_slack_channel': '#oncall', 'monitoring_alertmanager_group_wait': '10s',
             'monitoring_alertmanagerconfig_labels': {'alertmanagerConfig': 'quickbite'}}
    check = run_playbook('monitoring.yml', inventory='inventory/k8s', extra=extra, check=True, tmp_path=tmp_path,
                         env={'ANSIBLE_DIFF_ALWAYS': '1'})
    assert check.rc == 0, check.output
    predicted = _routing_result(check)
    assert predicted['changed'] is True and predicted['object'] == 'quickbite-oncall'
    assert predicted['diff']['before'] == '' and '"slackConfigs"' in predicted['diff']['after']
    assert _stored_routing(k8s) is None

    run = run_playbook('monitoring.yml', inventory='inventory/k8s', extra=extra, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert _routing_result(run)['changed'] is True
    stored = _stored_routing(k8s)
    assert stored['kind'] == 'AlertmanagerConfig' and stored['apiVersion'] == 'monitoring.coreos.com/v1alpha1'
    assert stored['metadata']['labels'] == {'alertmanagerConfig': 'quickbite'}
    expected = alertmanager.custom_resource(
        alertmanager.render([hook], '/etc/alertmanager/secrets/quickbite-slack/url', '#oncall', '10s'),
        {'name': 'quickbite-slack', 'key': 'url'})
    assert stored['spec'] == expected
    receiver = stored['spec']['receivers'][0]
    assert receiver['webhookConfigs'] == [{'url': hook, 'sendResolved': True}]
    assert receiver['slackConfigs'][0]['apiURL'] == {'name': 'quickbite-slack', 'key': 'url'}
    assert stored['spec']['inhibitRules'][0]['sourceMatch'] == [
        {'name': 'alertname', 'value': 'QuickBiteBackendDown', 'matchType': '='}]
    assert stored['spec']['route']['groupBy'] == ['alertname', 'service']

    again = run_playbook('monitoring.yml', inventory='inventory/k8s', extra=extra, tmp_path=tmp_path)
    assert again.rc == 0, again.output
    assert _routing_result(again)['changed'] is False

    # Without Slack: the object is patched in place, the Slack receiver gone.
    fewer = dict(extra, monitoring_alertmanager_slack_secret_name='')
    patched = run_playbook('monitoring.yml', inventory='inventory/k8s', extra=fewer, tmp_path=tmp_path)
    assert patched.rc == 0 and _routing_result(patched)['changed'] is True, patched.output
    stored_again = _stored_routing(k8s)
    assert 'slackConfigs' not in stored_again['spec']['receivers'][0]
    assert stored_again['metadata']['uid'] == stored['metadata']['uid']
