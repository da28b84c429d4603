"""The rendered rules under Prometheus' own rule engine (`promtool test rules`,
Debian's prometheus 2.42, installed by scripts/bootstrap-host.sh): every alert
fires at its threshold once its `for:` has passed, and stays silent just below
the threshold and just before the duration. The rules are rendered with their
defaults, the runbook's thresholds."""
import os
import re
import subprocess

import pytest
import yaml

from ansible_collections.quickbite.ops.plugins.module_utils.monitoring import rules

PROMTOOL = os.environ.get('PROMTOOL', '/usr/bin/promtool')
JOB = 'job="quickbite-backend",instance="backend:8080"'
COMMON = {'service': 'quickbite'}


def _hist(bucket, per_minute, minutes=20):
    """http_server_requests_seconds buckets: ``per_minute`` requests a
    minute, every one of them in the bucket that ends at ``bucket``."""
    series = []
    for le in ('1', '2', '2.5', '+Inf'):
        inside = le == '+Inf' or float(le) >= float(bucket)
        series.append({'series': 'http_server_requests_seconds_bucket{%s,uri="/api/orders",le="%s"}' % (JOB, le),
                       'values': '0+%dx%d' % (per_minute if inside else 0, minutes)})
    return series


def _counter(name, labels, per_minute, minutes=20):
    return {'series': '%s{%s,%s}' % (name, JOB, labels), 'values': '0+%gx%d' % (per_minute, minutes)}


# alert -> (input series, [(eval time, labels of the firing alert or None, $value as shown)])
CASES = {
    'QuickBiteBackendDown': [
        ([{'series': 'up{%s}' % JOB, 'values': '0x10'}],
         [('1m', None, None), ('2m', {'job': 'quickbite-backend', 'instance': 'backend:8080'}, None)]),
        ([{'series': 'up{%s}' % JOB, 'values': '1x10'}], [('5m', None, None)]),
    ],
    'QuickBiteHighLatency': [  # p99 2.495 s, rate() answers from 1m: pending 1m..6m
        (_hist('2.5', 60), [('5m', None, None), ('6m', {}, '2.495s')]),
        (_hist('2', 60), [('10m', None, None)]),  # p99 1.99 s
    ],
    'QuickBitePaymentFailureRate': [  # 5.5 % failed; fires 1m after increase() answers
        ([_counter('quickbite_payments_total', 'outcome="failure"', 11),
          _counter('quickbite_payments_total', 'outcome="success"', 189)],
         [('1m', None, None), ('2m', {}, '5.5%')]),
        ([_counter('quickbite_payments_total', 'outcome="failure"', 10),
          _counter('quickbite_payments_total', 'outcome="success"', 190)], [('10m', None, None)]),  # 5 %
    ],
    'QuickBiteWebhookErrors': [
        ([_counter('quickbite_payment_webhooks_total', 'outcome="rejected"', 11),
          _counter('quickbite_payment_webhooks_total', 'outcome="accepted"', 500)],
         [('1m', None, None), ('2m', {}, '11')]),
        ([_counter('quickbite_payment_webhooks_total', 'outcome="error"', 10),
          _counter('quickbite_payment_webhooks_total', 'outcome="accepted"', 500)], [('10m', None, None)]),
    ],
    'QuickBiteDiskUsage': [  # 86 % used, pending 0..5m
        ([{'series': 'node_filesystem_avail_bytes{job="node",instance="db:9100",mountpoint="/"}', 'values': '140x10'},
          {'series': 'node_filesystem_size_bytes{job="node",instance="db:9100",mountpoint="/"}', 'values': '1000x10'}],
         [('4m', None, None), ('5m', {'job': 'node', 'instance': 'db:9100', 'mountpoint': '/'}, '86%')]),
        ([{'series': 'node_filesystem_avail_bytes{job="node",instance="db:9100",mountpoint="/"}', 'values': '151x10'},
          {'series': 'node_filesystem_size_bytes{job="node",instance="db:9100",mountpoint="/"}', 'values': '1000x10'}],
         [('9m', None, None)]),  # 84.9 %
    ],
    'QuickBiteOOMKilled': [
        # Compose, cAdvisor: an OOM event at 2m fires at once (for: 0s).
        ([{'series': 'container_oom_events_total{name="quickbite-backend-1"}', 'values': '0 0 1 1 1 1'}],
         [('1m', None, None), ('2m', {'name': 'quickbite-backend-1'}, None)]),
        ([{'series': 'container_oom_events_total{name="quickbite-backend-1"}', 'values': '0x5'}],
         [('5m', None, None)]),
        # Kubernetes, kube-state-metrics: a restart whose last termination was OOMKilled.
        ([{'series': 'kube_pod_container_status_restarts_total{namespace="quickbite",pod="backend-1",'
                     'container="backend"}', 'values': '0 0 1 1 1'},
          {'series': 'kube_pod_container_status_last_terminated_reason{namespace="quickbite",pod="backend-1",'
                     'container="backend",reason="OOMKilled"}', 'values': '0 0 1 1 1'}],
         [('1m', None, None), ('2m', {'namespace': 'quickbite', 'pod': 'backend-1', 'container': 'backend'}, None)]),
        ([{'series': 'kube_pod_container_status_restarts_total{namespace="quickbite",pod="backend-1",'
                     'container="backend"}', 'values': '0 0 1 1 1'},
          {'series': 'kube_pod_container_status_last_terminated_reason{namespace="quickbite",pod="backend-1",'
                     'container="backend",reason="Error"}', 'values': '0 0 1 1 1'}],
         [('4m', None, None)]),
    ],
    'QuickBiteWebSocketDisconnects': [  # 100 sessions, 40 from 6m: below half of 5m ago; pending 6m..7m
        ([{'series': 'quickbite_websocket_sessions_active{%s}' % JOB, 'values': '100x5 40x10'}],
         [('6m', None, None), ('7m', {}, '40')]),
        ([{'series': 'quickbite_websocket_sessions_active{%s}' % JOB, 'values': '100x5 51x10'}],
         [('10m', None, None)]),  # a 49 % drop
        ([{'series': 'quickbite_websocket_sessions_active{%s}' % JOB, 'values': '8x5 2x10'}],
         [('10m', None, None)]),  # below min_sessions
    ],
}


def _expand(text, labels, value):
    """An annotation as Prometheus expands it, for the few templates the rules use."""
    text = re.sub(r'\{\{ \$labels\.(\w+) \}\}', lambda m: labels.get(m.group(1), ''), text)
    return re.sub(r'\{\{ \$value[^}]*\}\}', lambda m: value, text)


def _rule(name):
    return [r for r in rules.render()['groups'][0]['rules'] if r['alert'] == name][0]


def test_every_alert_has_cases():
    assert sorted(CASES) == sorted(r['alert'] for r in rules.render()['groups'][0]['rules'])
    assert len(CASES) == 7


@pytest.mark.parametrize('name', sorted(CASES))
def test_promtool_rules(name, tmp_path):
    rule = _rule(name)
    tests = []
    for series, checks in CASES[name]:
        alert_tests = []
        for eval_time, labels, value in checks:
            expected = []
            if labels is not None:
                full = dict(labels, **rule['labels'])
                expected.append({'exp_labels': full, 'exp_annotations': dict(
                    (k, _expand(v, full, value)) for k, v in rule['annotations'].items())})
            alert_tests.append({'eval_time': eval_time, 'alertname': name, 'exp_alerts': expected})
        tests.append({'interval': '1m', 'input_series': series, 'alert_rule_test': alert_tests})
    (tmp_path / 'rules.yml').write_text(rules.dump(rules.render()))
    (tmp_path / 'test.yml').write_text(yaml.safe_dump({'rule_files': ['rules.yml'], 'evaluation_interval': '1m',
                                                       'tests': tests}))
    proc = subprocess.run([PROMTOOL, 'test', 'rules', 'test.yml'], cwd=str(tmp_path), capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_promtool_check_rules_accepts_the_rendered_file(tmp_path):
    path = tmp_path / 'rules.yml'
    path.write_text(rules.dump(rules.render(interval='5s', overrides={'backend_down': {'for': '10s'}})))
    proc = subprocess.run([PROMTOOL, 'check', 'rules', str(path)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0 and 'SUCCESS: 7 rules found' in proc.stdout, proc.stdout + proc.stderr
