"""Rules and Alertmanager routing rendered from settings: overrides reach the
expression, wrong settings are refused naming the variable, the routing
passes `amtool check-config` with Backend Down inhibiting High Latency."""
import subprocess

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.monitoring import alertmanager, rules


def _by_name(content):
    return dict((r['alert'], r) for r in content['groups'][0]['rules'])


def test_seven_alerts_with_severity_runbook_and_playbook():
    found = _by_name(rules.render(runbook_url='https://wiki.example/runbook.md'))
    assert len(found) == 7
    assert found['QuickBiteBackendDown']['labels']['severity'] == 'P1'
    assert found['QuickBiteWebSocketDisconnects']['labels']['severity'] == 'P3'
    for rule in found.values():
        notes = rule['annotations']
        assert notes['runbook_url'] == 'https://wiki.example/runbook.md#' + notes['runbook_section']
        assert notes['playbook'].startswith('playbooks/') and notes['summary'] and notes['description']


def test_overrides_reach_expression_for_and_labels():
    found = _by_name(rules.render({'high_latency': {'threshold_seconds': 0.25, 'for': '10s', 'labels': {'team': 'api'}},
                                   'oom_killed': {'enabled': False}}, job='qb', interval='2s'))
    latency = found['QuickBiteHighLatency']
    assert latency['expr'].endswith('> 0.25') and 'job="qb"' in latency['expr']
    assert latency['for'] == '10s' and latency['labels']['team'] == 'api'
    assert 'QuickBiteOOMKilled' not in found


@pytest.mark.parametrize('overrides, words', [
    ({'backend_gone': {}}, ['monitoring_alerts has an unknown alert', 'backend_down']),
    ({'backend_down': {'threshold': 1}}, ['monitoring_alerts.backend_down has an unknown setting']),
    ({'backend_down': {'for': '2 minutes'}}, ['monitoring_alerts.backend_down.for must be a Prometheus duration']),
    ({'disk_usage': {'threshold_ratio': 85}}, ['monitoring_alerts.disk_usage.threshold_ratio', 'between 0 and 1']),
    ({'disk_usage': {'severity': 'critical'}}, ['severity must be one of P1, P2, P3']),
])
def test_wrong_settings_are_refused_naming_the_variable(overrides, words):
    with pytest.raises(ConfigError) as err:
        rules.render(overrides)
    for word in words:
        assert word in err.value.msg


def test_alertmanager_routing_passes_amtool(tmp_path):
    content = alertmanager.render(['http://127.0.0.1:9/hook'], '/etc/alertmanager/slack-url', '#oncall')
    assert content['inhibit_rules'][0]['source_matchers'] == ['alertname="QuickBiteBackendDown"']
    assert content['inhibit_rules'][0]['target_matchers'] == ['alertname="QuickBiteHighLatency"']
    path = tmp_path / 'alertmanager.yml'
    path.write_text(rules.dump(content))
    proc = subprocess.run(['amtool', 'check-config', str(path)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_alertmanager_without_any_receiver_is_refused():
    with pytest.raises(ConfigError) as err:
        alertmanager.render([], None)
    assert 'alerts would reach nobody' in err.value.msg
