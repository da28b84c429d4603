# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Alertmanager routing for QuickBite's alerts: one on-call receiver with
a generic webhook and a Slack-compatible webhook (Slack, Mattermost,
Rocket.Chat), alerts grouped by name and service, resolved alerts sent too,
and Backend Down inhibiting High Latency (a down backend is slow by
definition: page once, for the cause)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.monitoring.rules import DURATION

RECEIVER = 'quickbite-oncall'
# (source alert, target alert): the source firing silences the target for the same service.
INHIBITIONS = [('QuickBiteBackendDown', 'QuickBiteHighLatency')]
SLACK_TEXT = ('{{ range .Alerts }}*{{ .Labels.severity }} {{ .Annotations.summary }}*\n{{ .Annotations.description }}\n'
              'Runbook: {{ .Annotations.runbook_url }} - run {{ .Annotations.playbook }}\n{{ end }}')


def render(webhook_urls=None, slack_api_url_file=None, slack_channel=None, group_wait='30s', group_interval='5m',
           repeat_interval='4h', var='monitoring_alertmanager'):
    """alertmanager.yml as a dict. The Slack URL is a secret: it is read by
    Alertmanager from ``slack_api_url_file``, never written here."""
    if not webhook_urls and not slack_api_url_file:
        raise ConfigError('%s_webhook_urls and %s_slack_api_url_file are both empty: alerts would reach nobody; '
                          'set at least one receiver' % (var, var))
    for name, value in (('group_wait', group_wait), ('group_interval', group_interval),
                        ('repeat_interval', repeat_interval)):
        if not DURATION.match(str(value)):
            raise ConfigError('%s_%s must be a Prometheus duration such as 30s or 5m, got %r' % (var, name, value))
    receiver = {'name': RECEIVER}
    if webhook_urls:
        for url in webhook_urls:
            if not str(url).startswith(('http://', 'https://')):
                raise ConfigError('%s_webhook_urls: %r is not an http(s) URL' % (var, url))
        receiver['webhook_configs'] = [{'url': url, 'send_resolved': True} for url in webhook_urls]
    if slack_api_url_file:
        slack = {'api_url_file': slack_api_url_file, 'send_resolved': True,
                 'title': '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}', 'text': SLACK_TEXT}
        if slack_channel:
            slack['channel'] = slack_channel
        receiver['slack_configs'] = [slack]
    return {
        'route': {
            'receiver': RECEIVER,
            'group_by': ['alertname', 'service'],
            'group_wait': group_wait,
            'group_interval': group_interval,
            'repeat_interval': repeat_interval,
        },
        'receivers': [receiver],
        'inhibit_rules': [{'source_matchers': ['alertname="%s"' % source],
                           'target_matchers': ['alertname="%s"' % target],
                           'equal': ['service']} for source, target in INHIBITIONS],
    }
