#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: monitoring_config
short_description: Install QuickBite's alerting rules or Alertmanager routing, validated, then reload the server
version_added: 0.1.0
description:
  - The runbook's Monitoring Alerts as code. With O(rules), renders the seven alerts (Backend Down, High Latency,
    Payment Failure Rate, Webhook Errors, Disk Usage, OOM Killed, WebSocket Disconnects) as one Prometheus rule group;
    with O(alertmanager), renders the Alertmanager routing (a generic and a Slack-compatible webhook, grouped,
    Backend Down inhibiting High Latency).
  - Validates the rendered file with the server's own checker (C(promtool check rules), C(amtool check-config))
    before anything is written; writes it atomically (a temporary file renamed over O(dest), in a directory whose
    owner and mode were checked); reloads the server with C(POST /-/reload) (it must run with
    C(--web.enable-lifecycle)) and verifies that the server holds the new content.
  - Idempotent; an unchanged file is not written and the server is not reloaded, unless it does not hold the file.
  - Compose, and the Alertmanager routing everywhere, writes O(dest) on the host the module runs on (where
    Prometheus or Alertmanager runs). On Kubernetes the rules become a C(PrometheusRule) (monitoring.coreos.com/v1)
    named O(rules.name) in the namespace, for the Prometheus Operator, applied through the platform adapter, read
    back and compared; O(dest) and O(server_url) are not used for them.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
attributes:
  check_mode:
    support: full
    description: Renders, validates and compares; writes and reloads nothing; C(changed) and C(reloaded) say what a run would do.
  diff_mode:
    support: full
    description: The file before and after.
options:
  dest:
    description:
      - Absolute path of the file to install (its directory must exist, owned by the running user, not writable by others).
      - Required, except for rules on a platform that keeps them as its own object (Kubernetes).
    type: path
  mode:
    description: File mode of O(dest).
    type: raw
    default: '0644'
  server_url:
    description:
      - Base URL of the Prometheus (with O(rules)) or Alertmanager (with O(alertmanager)) to reload and verify.
        Empty installs the file only.
    type: str
    default: ''
  validate_certs:
    description: Verify TLS certificates of O(server_url).
    type: bool
    default: true
  promtool:
    description: The C(promtool) binary that validates rules.
    type: path
    default: /usr/bin/promtool
  amtool:
    description: The C(amtool) binary that validates the Alertmanager configuration.
    type: path
    default: /usr/bin/amtool
  rules:
    description: Install the alerting rules; exclusive with O(alertmanager).
    type: dict
    suboptions:
      alerts:
        description:
          - "Overrides of the alerts' settings, C({alert: {setting: value}}); alerts are C(backend_down), C(high_latency),
            C(payment_failure_rate), C(webhook_errors), C(disk_usage), C(oom_killed), C(websocket_disconnects)."
          - Every alert takes C(enabled), C(for), C(severity) (P1, P2, P3) and C(labels); thresholds and windows per alert
            are listed in docs/procedures/monitoring.md.
        type: dict
        default: {}
      job:
        description: The scrape job of the backend's C(/actuator/prometheus).
        type: str
        default: quickbite-backend
      node_job:
        description: The scrape job of node_exporter on the database host.
        type: str
        default: node
      runbook_url:
        description: The runbook's URL; each alert's C(runbook_url) is it with the section's anchor.
        type: str
        default: https://github.com/quickbite/quickbite/blob/main/docs/runbook.md
      labels:
        description: Labels added to every alert.
        type: dict
        default: {}
      interval:
        description: Evaluation interval of the rule group; Prometheus' global one when empty.
        type: str
        default: ''
      name:
        description: Name of the C(PrometheusRule) on Kubernetes.
        type: str
        default: quickbite-alerts
      object_labels:
        description: Labels of the C(PrometheusRule) on Kubernetes (what the Operator's C(ruleSelector) matches).
        type: dict
        default: {}
  alertmanager:
    description: Install the Alertmanager routing; exclusive with O(rules).
    type: dict
    suboptions:
      webhook_urls:
        description: Generic webhook receivers (the incident tooling).
        type: list
        elements: str
        default: []
      slack_api_url_file:
        description:
          - A file on the Alertmanager host holding the Slack-compatible webhook URL (a secret, so Alertmanager reads it
            from there and it never passes through Ansible).
        type: str
        default: ''
      slack_channel:
        description: The Slack channel; the webhook's own when empty.
        type: str
        default: ''
      group_wait:
        description: How long Alertmanager waits to group a new alert with others.
        type: str
        default: 30s
      group_interval:
        description: How long it waits before notifying about new alerts of a group already notified.
        type: str
        default: 5m
      repeat_interval:
        description: How long before it notifies again about an alert still firing.
        type: str
        default: 4h
'''

EXAMPLES = r'''
- name: Install the alerting rules on the Compose host and reload Prometheus
  quickbite.ops.monitoring_config:
    platform: compose
    dest: /etc/prometheus/quickbite.rules.yml
    server_url: http://127.0.0.1:9090
    rules:
      runbook_url: https://wiki.example.com/quickbite/runbook.md
      alerts:
        high_latency: {threshold_seconds: 1.5}

- name: Route the alerts to the incident webhook and Slack
  quickbite.ops.monitoring_config:
    platform: compose
    dest: /etc/prometheus/alertmanager.yml
    server_url: http://127.0.0.1:9093
    alertmanager:
      webhook_urls: [http://127.0.0.1:8088/alerts]
      slack_api_url_file: /etc/prometheus/slack-webhook-url
      slack_channel: '#quickbite-oncall'
'''

RETURN = r'''
dest:
  description: The file installed.
  returned: always
  type: str
validated:
  description: The checker accepted the rendered file.
  returned: always
  type: bool
reloaded:
  description: The server was reloaded (in check mode, would be) and holds the file.
  returned: always
  type: bool
object:
  description: The C(PrometheusRule) installed (Kubernetes, with O(rules)).
  returned: when the platform keeps the rules
  type: str
alerts:
  description: Names of the alerts in the rule file (with O(rules)).
  returned: with rules
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils.common import run_module
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.monitoring import alertmanager, install, rules
from ansible_collections.quickbite.ops.plugins.module_utils.options import argument_spec, platform_argument_spec
from ansible_collections.quickbite.ops.plugins.module_utils.platform import factory

RULES = dict(
    alerts=dict(type='dict', default={}),
    job=dict(type='str', default='quickbite-backend'),
    node_job=dict(type='str', default='node'),
    runbook_url=dict(type='str', default=rules.RUNBOOK),
    labels=dict(type='dict', default={}),
    interval=dict(type='str', default=''),
    name=dict(type='str', default='quickbite-alerts'),
    object_labels=dict(type='dict', default={}),
)
ALERTMANAGER = dict(
    webhook_urls=dict(type='list', elements='str', default=[]),
    slack_api_url_file=dict(type='str', default=''),
    slack_channel=dict(type='str', default=''),
    group_wait=dict(type='str', default='30s'),
    group_interval=dict(type='str', default='5m'),
    repeat_interval=dict(type='str', default='4h'),
)


def main():
    module = AnsibleModule(argument_spec=argument_spec(
        platform_argument_spec(),
        dest=dict(type='path'),
        mode=dict(type='raw', default='0644'),
        server_url=dict(type='str', default=''),
        validate_certs=dict(type='bool', default=True),
        promtool=dict(type='path', default='/usr/bin/promtool'),
        amtool=dict(type='path', default='/usr/bin/amtool'),
        rules=dict(type='dict', options=RULES),
        alertmanager=dict(type='dict', options=ALERTMANAGER),
    ), mutually_exclusive=[('rules', 'alertmanager')], required_one_of=[('rules', 'alertmanager')],
        supports_check_mode=True)
    run_module(module, configure)


def configure(module):
    p = module.params
    try:
        mode = int(str(p['mode']), 8)
    except ValueError:
        raise ConfigError('mode must be an octal file mode such as 0644, got %r' % p['mode'])
    extra = {}
    if p['rules']:
        r = p['rules']
        content = rules.render(r['alerts'], job=r['job'], node_job=r['node_job'], runbook_url=r['runbook_url'],
                               labels=r['labels'], interval=r['interval'] or None)
        extra['alerts'] = [rule['alert'] for rule in content['groups'][0]['rules']]
        target = install.prometheus_rules(p['promtool'], extra['alerts'])
        adapter = factory.get_adapter(module)
        if adapter.stores_alert_rules:
            result = install.install_object(module, adapter, target, content['groups'], rules.dump(content),
                                            r['name'], r['object_labels'])
            result.update(extra)
            return result
    else:
        a = p['alertmanager']
        content = alertmanager.render(a['webhook_urls'], a['slack_api_url_file'] or None, a['slack_channel'] or None,
                                      a['group_wait'], a['group_interval'], a['repeat_interval'])
        target = install.alertmanager_config(p['amtool'], alertmanager.RECEIVER)
    if not p['dest']:
        raise ConfigError('dest is required: the file to install on this host (the role sets it from '
                          'monitoring_rules_file or monitoring_alertmanager_file)')
    result = install.install(module, target, rules.dump(content), p['dest'], 'dest', mode=mode,
                             server_url=p['server_url'], validate_certs=p['validate_certs'])
    result.update(extra)
    return result


if __name__ == '__main__':
    main()
