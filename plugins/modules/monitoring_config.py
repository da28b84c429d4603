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
    owner and mode were checked); reloads the server, with C(POST /-/reload) (Prometheus must run with
    C(--web.enable-lifecycle)) or, with O(reload=sighup), by SIGHUP to the process O(pid_file) names (checked to run
    Prometheus or Alertmanager), then waits until the server shows the reload; and verifies that the server holds the
    new content.
  - Idempotent; an unchanged file is not written and the server is not reloaded, unless it does not hold the file.
  - Compose, and the Alertmanager routing everywhere, writes O(dest) on the host the module runs on (where
    Prometheus or Alertmanager runs). On Kubernetes the rules become a C(PrometheusRule) (monitoring.coreos.com/v1)
    named O(rules.name) in the namespace, for the Prometheus Operator, applied through the platform adapter, read
    back and compared; O(dest) and O(server_url) are not used for them. Likewise the routing becomes an
    C(AlertmanagerConfig) (monitoring.coreos.com/v1alpha1) named O(alertmanager.name), validated by C(amtool) in its
    alertmanager.yml form first; the Slack-compatible URL comes from the Secret O(alertmanager.slack_secret_name).
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
  reload:
    description:
      - How the server is reloaded when it does not hold the installed file. C(http) posts to its C(/-/reload)
        endpoint; C(sighup) signals the process named by O(pid_file) (for a Prometheus started without
        C(--web.enable-lifecycle)) and waits up to O(reload_timeout) seconds for the server to show the reload.
    type: str
    choices: [http, sighup]
    default: http
  pid_file:
    description:
      - The server's pid file, for O(reload=sighup) (Debian's init scripts write C(/run/prometheus/prometheus.pid)
        and C(/run/prometheus/prometheus-alertmanager.pid)). The process it names must run C(prometheus) or
        C(prometheus-alertmanager)/C(alertmanager), else nothing is written and nothing signalled.
    type: path
  reload_timeout:
    description: Seconds to wait for the server to show a SIGHUP reload.
    type: int
    default: 30
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
      name:
        description: Name of the C(AlertmanagerConfig) on Kubernetes.
        type: str
        default: quickbite-oncall
      object_labels:
        description: Labels of the C(AlertmanagerConfig) on Kubernetes (what the Alertmanager's
          C(alertmanagerConfigSelector) matches).
        type: dict
        default: {}
      slack_secret_name:
        description:
          - Kubernetes, instead of O(alertmanager.slack_api_url_file) - the Secret in the namespace holding the
            Slack-compatible webhook URL, which the Prometheus Operator reads (never Ansible).
        type: str
        default: ''
      slack_secret_key:
        description: The key of the URL in O(alertmanager.slack_secret_name).
        type: str
        default: url
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

- name: Install the rules on a Prometheus started without --web.enable-lifecycle (reloaded by SIGHUP)
  quickbite.ops.monitoring_config:
    platform: compose
    dest: /etc/prometheus/quickbite.rules.yml
    server_url: http://127.0.0.1:9090
    reload: sighup
    pid_file: /run/prometheus/prometheus.pid
    rules: {}

- name: Route the alerts on Kubernetes as an AlertmanagerConfig, the Slack URL from a Secret
  quickbite.ops.monitoring_config:
    platform: k8s
    alertmanager:
      webhook_urls: [http://incident-hook.quickbite.svc:8088/alerts]
      slack_secret_name: quickbite-slack
      object_labels: {alertmanagerConfig: quickbite}

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
reload:
  description: How the server is reloaded, C(http) or C(sighup).
  returned: when a file was installed
  type: str
object:
  description: The C(PrometheusRule) (with O(rules)) or C(AlertmanagerConfig) (with O(alertmanager)) installed.
  returned: when the platform keeps the rules or the routing
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
    name=dict(type='str', default='quickbite-oncall'),
    object_labels=dict(type='dict', default={}),
    slack_secret_name=dict(type='str', default=''),
    slack_secret_key=dict(type='str', default='url', no_log=False),
)
# Where the Prometheus Operator mounts a Secret for Alertmanager: the file form amtool validates names it.
OPERATOR_SECRETS = '/etc/alertmanager/secrets'


def main():
    module = AnsibleModule(argument_spec=argument_spec(
        platform_argument_spec(),
        dest=dict(type='path'),
        mode=dict(type='raw', default='0644'),
        server_url=dict(type='str', default=''),
        validate_certs=dict(type='bool', default=True),
        reload=dict(type='str', default='http', choices=['http', 'sighup']),
        pid_file=dict(type='path'),
        reload_timeout=dict(type='int', default=30),
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
        adapter = factory.get_adapter(module)
        slack_file, slack_secret = a['slack_api_url_file'] or None, None
        if adapter.stores_alert_routing and a['slack_secret_name']:
            slack_secret = dict(name=a['slack_secret_name'], key=a['slack_secret_key'])
            slack_file = '%s/%s/%s' % (OPERATOR_SECRETS, a['slack_secret_name'], a['slack_secret_key'])
        content = alertmanager.render(a['webhook_urls'], slack_file, a['slack_channel'] or None,
                                      a['group_wait'], a['group_interval'], a['repeat_interval'])
        target = install.alertmanager_config(p['amtool'], alertmanager.RECEIVER)
        if adapter.stores_alert_routing:
            return install.install_routing_object(module, adapter, target,
                                                  alertmanager.custom_resource(content, slack_secret),
                                                  rules.dump(content), a['name'], a['object_labels'])
    if not p['dest']:
        raise ConfigError('dest is required: the file to install on this host (the role sets it from '
                          'monitoring_rules_file or monitoring_alertmanager_file)')
    result = install.install(module, target, rules.dump(content), p['dest'], 'dest', mode=mode,
                             server_url=p['server_url'], validate_certs=p['validate_certs'], reload=p['reload'],
                             pid_var='pid_file (monitoring_%s_pid_file)' % ('prometheus' if p['rules'] else 'alertmanager'),
                             pid_file=p['pid_file'], reload_timeout=p['reload_timeout'])
    result.update(extra)
    return result


if __name__ == '__main__':
    main()
