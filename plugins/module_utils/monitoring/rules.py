# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's seven Monitoring Alerts as Prometheus alerting rules, rendered
from settings: each alert is one declarative spec below (the exporter and
metrics it relies on, its expression, its defaults), and render() turns the
defaults merged with the caller's overrides into one rule group.

Metrics, as the exporters publish them:
- Spring Boot Micrometer (the backend's /actuator/prometheus, scrape job
  ``job``): ``up``; ``http_server_requests_seconds_bucket`` (needs
  management.metrics.distribution.percentiles-histogram.http.server.requests=true);
  the application's counters ``quickbite_payments_total{outcome}`` and
  ``quickbite_payment_webhooks_total{outcome}`` and the gauge
  ``quickbite_websocket_sessions_active``;
- node_exporter: ``node_filesystem_avail_bytes`` / ``node_filesystem_size_bytes``
  of the database volume's mount point;
- OOM kills: kube-state-metrics on Kubernetes
  (``kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}`` with
  ``kube_pod_container_status_restarts_total``), cAdvisor on Compose
  (``container_oom_events_total``); the expression takes whichever exists.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import re

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

RUNBOOK = 'https://github.com/quickbite/quickbite/blob/main/docs/runbook.md'
DURATION = re.compile(r'^(?:[0-9]+(?:ms|s|m|h|d|w|y))+$')
SEVERITIES = ('P1', 'P2', 'P3')

# Settings every alert has; each spec adds its own.
COMMON = {'enabled': True, 'for': '1m', 'severity': 'P2', 'labels': {}}

# alert key: name, runbook section (anchor), playbook that answers it, exporter,
# expression (str.format over the settings), summary, description, defaults.
ALERTS = [
    dict(key='backend_down', name='QuickBiteBackendDown', section='service-restart',
         playbook='playbooks/restart.yml', exporter='Micrometer (scrape of /actuator/prometheus)',
         expr='up{{{selector}}} == 0',
         summary='QuickBite backend is down',
         description='{{{{ $labels.instance }}}} has not answered /actuator/prometheus for {for}.',
         defaults={'for': '2m', 'severity': 'P1'}),
    dict(key='high_latency', name='QuickBiteHighLatency', section='scaling',
         playbook='playbooks/scale.yml', exporter='Micrometer (http_server_requests_seconds histogram)',
         expr='histogram_quantile({quantile}, sum by (le) (rate(http_server_requests_seconds_bucket'
              '{{{selector},uri!~"/actuator.*"}}[{window}]))) > {threshold_seconds}',
         summary='QuickBite p99 latency above {threshold_seconds} s',
         description='p{percent} of API requests took {{{{ $value | humanizeDuration }}}} over {window} '
                     '(threshold {threshold_seconds} s). Check database connections, then scale up.',
         defaults={'for': '5m', 'severity': 'P2', 'threshold_seconds': 2.0, 'quantile': 0.99, 'window': '5m'}),
    dict(key='payment_failure_rate', name='QuickBitePaymentFailureRate', section='monitoring-alerts',
         playbook='playbooks/logs.yml', exporter='Micrometer (application counter quickbite_payments_total)',
         expr='sum(increase(quickbite_payments_total{{{selector},outcome="failure"}}[{window}])) / '
              'sum(increase(quickbite_payments_total{{{selector}}}[{window}])) > {threshold_ratio}',
         summary='QuickBite payment failures above {threshold_percent}%',
         description='{{{{ $value | humanizePercentage }}}} of payments failed over {window}. Check the payment '
                     'provider status and the backend logs.',
         defaults={'for': '1m', 'severity': 'P2', 'threshold_ratio': 0.05, 'window': '10m'}),
    dict(key='webhook_errors', name='QuickBiteWebhookErrors', section='payment-webhook-returning-400',
         playbook='playbooks/rotate_webhook_secret.yml',
         exporter='Micrometer (application counter quickbite_payment_webhooks_total)',
         expr='sum(rate(quickbite_payment_webhooks_total{{{selector},outcome!="accepted"}}[{window}])) * 60 '
              '> {threshold_per_minute}',
         summary='QuickBite payment webhooks failing: more than {threshold_per_minute} errors a minute',
         description='{{{{ $value | humanize }}}} webhook errors a minute (rejected signatures or processing '
                     'errors). Verify the webhook secret and the signature validation.',
         defaults={'for': '1m', 'severity': 'P2', 'threshold_per_minute': 10, 'window': '1m'}),
    dict(key='disk_usage', name='QuickBiteDiskUsage', section='database-backup--restore',
         playbook='playbooks/backup_db.yml', exporter='node_exporter (node_filesystem_*_bytes)',
         expr='1 - node_filesystem_avail_bytes{{{node_selector},mountpoint="{mountpoint}"}} / '
              'node_filesystem_size_bytes{{{node_selector},mountpoint="{mountpoint}"}} > {threshold_ratio}',
         summary='QuickBite database volume above {threshold_percent}% full',
         description='{{{{ $labels.mountpoint }}}} on {{{{ $labels.instance }}}} is {{{{ $value | '
                     'humanizePercentage }}}} full. Run a backup, then prune old data.',
         defaults={'for': '5m', 'severity': 'P2', 'threshold_ratio': 0.85, 'mountpoint': '/'}),
    dict(key='oom_killed', name='QuickBiteOOMKilled', section='scaling',
         playbook='playbooks/scale.yml',
         exporter='kube-state-metrics on Kubernetes; cAdvisor (container_oom_events_total) on Compose',
         expr='(increase(container_oom_events_total{{name=~"{containers}"}}[{window}]) > 0) or '
              '((increase(kube_pod_container_status_restarts_total{{namespace="{namespace}"}}[{window}]) > 0) '
              'and on (namespace, pod, container) (max_over_time(kube_pod_container_status_last_terminated_reason'
              '{{namespace="{namespace}",reason="OOMKilled"}}[{window}]) == 1))',
         summary='A QuickBite container was killed for running out of memory',
         description='{{{{ $labels.name }}}}{{{{ $labels.pod }}}} was OOM-killed within {window}. Increase its '
                     'memory limit.',
         defaults={'for': '0s', 'severity': 'P2', 'window': '10m', 'containers': 'quickbite-.*',
                   'namespace': 'quickbite'}),
    dict(key='websocket_disconnects', name='QuickBiteWebSocketDisconnects',
         section='websocket-connections-timing-out', playbook='playbooks/healthcheck.yml',
         exporter='Micrometer (application gauge quickbite_websocket_sessions_active)',
         expr='sum(quickbite_websocket_sessions_active{{{selector}}}) < {keep_ratio} * '
              'sum(quickbite_websocket_sessions_active{{{selector}}} offset {window}) and '
              'sum(quickbite_websocket_sessions_active{{{selector}}} offset {window}) >= {min_sessions}',
         summary='QuickBite WebSocket sessions dropped by more than {drop_percent}%',
         description='Active WebSocket sessions fell to {{{{ $value }}}}, more than {drop_percent}% below '
                     '{window} ago. Check Redis pub/sub and the backend health.',
         defaults={'for': '1m', 'severity': 'P3', 'drop_ratio': 0.5, 'window': '5m', 'min_sessions': 10}),
]
KEYS = [alert['key'] for alert in ALERTS]
NUMBERS = ('threshold_seconds', 'quantile', 'threshold_ratio', 'threshold_per_minute', 'drop_ratio',
           'min_sessions')
DURATIONS = ('for', 'window')


def defaults():
    """Every alert's settings as they are when nothing is overridden."""
    return dict((alert['key'], dict(copy.deepcopy(COMMON), **alert['defaults'])) for alert in ALERTS)


def settings(overrides, var='monitoring_alerts'):
    """The defaults merged with ``overrides`` ({alert key: {setting: value}}),
    checked; a wrong key names the variable and what is allowed."""
    merged = defaults()
    for key, values in (overrides or {}).items():
        if key not in merged:
            raise ConfigError('%s has an unknown alert %r; the alerts are %s' % (var, key, ', '.join(KEYS)))
        if not isinstance(values, dict):
            raise ConfigError('%s.%s must be a dict of settings, got %r' % (var, key, values))
        for name, value in values.items():
            if name not in merged[key]:
                raise ConfigError('%s.%s has an unknown setting %r; it takes %s'
                                  % (var, key, name, ', '.join(sorted(merged[key]))))
            merged[key][name] = value
    for key, alert in merged.items():
        _check(alert, '%s.%s' % (var, key))
    return merged


def _check(alert, where):
    for name in DURATIONS:
        if name in alert and not DURATION.match(str(alert[name])):
            raise ConfigError('%s.%s must be a Prometheus duration such as 30s, 5m or 1h, got %r'
                              % (where, name, alert[name]))
    for name in NUMBERS:
        if name in alert:
            try:
                number = float(alert[name])
            except (TypeError, ValueError):
                number = -1
            if number < 0 or (name in ('quantile', 'threshold_ratio', 'drop_ratio') and number > 1):
                raise ConfigError('%s.%s must be a number%s, got %r' % (
                    where, name, ' between 0 and 1' if name in ('quantile', 'threshold_ratio', 'drop_ratio')
                    else ' of 0 or more', alert[name]))
    if alert['severity'] not in SEVERITIES:
        raise ConfigError('%s.severity must be one of %s (the runbook\'s severity levels), got %r'
                          % (where, ', '.join(SEVERITIES), alert['severity']))
    if not isinstance(alert['labels'], dict):
        raise ConfigError('%s.labels must be a dict of label names to values' % where)


def _number(value):
    return ('%f' % float(value)).rstrip('0').rstrip('.')


def render(overrides=None, job='quickbite-backend', node_job='node', runbook_url=RUNBOOK, labels=None,
           interval=None, group='quickbite', var='monitoring_alerts'):
    """The rule file's content as a dict: one group ``group`` (evaluated every
    ``interval`` when set, else at Prometheus' global interval) with one rule
    per enabled alert."""
    merged = settings(overrides, var)
    if interval is not None and not DURATION.match(str(interval)):
        raise ConfigError('the evaluation interval must be a Prometheus duration such as 15s, got %r' % interval)
    rules = []
    for alert in ALERTS:
        values = merged[alert['key']]
        if not values['enabled']:
            continue
        fmt = dict(values, selector='job="%s"' % job, node_selector='job="%s"' % node_job)
        for name in NUMBERS:
            if name in fmt:
                fmt[name] = _number(fmt[name])
        if 'threshold_ratio' in values:
            fmt['threshold_percent'] = _number(float(values['threshold_ratio']) * 100)
        if 'drop_ratio' in values:
            fmt['drop_percent'] = _number(float(values['drop_ratio']) * 100)
            fmt['keep_ratio'] = _number(1 - float(values['drop_ratio']))
        if 'quantile' in values:
            fmt['percent'] = _number(float(values['quantile']) * 100)
        rule_labels = {'severity': values['severity'], 'service': 'quickbite'}
        rule_labels.update(labels or {})
        rule_labels.update(values['labels'])
        rules.append({
            'alert': alert['name'],
            'expr': alert['expr'].format(**fmt),
            'for': values['for'],
            'labels': dict((str(k), str(v)) for k, v in sorted(rule_labels.items())),
            'annotations': {
                'summary': alert['summary'].format(**fmt),
                'description': alert['description'].format(**fmt),
                'runbook_url': '%s#%s' % (runbook_url, alert['section']),
                'runbook_section': alert['section'],
                'playbook': alert['playbook'],
                'exporter': alert['exporter'],
            },
        })
    body = {'name': group, 'rules': rules}
    if interval:
        body['interval'] = interval
    return {'groups': [body]}


def dump(content):
    """The text of a Prometheus config file: YAML when PyYAML is there, else
    JSON (a subset of YAML, which Prometheus reads as well)."""
    try:
        import yaml
    except ImportError:
        return json.dumps(content, indent=2, sort_keys=True) + '\n'
    return yaml.safe_dump(content, default_flow_style=False, sort_keys=True, width=1000)
