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


def _matchers(expressions):
    """Alertmanager's ``name="value"`` matchers as the Operator's matcher objects."""
    found = []
    for expression in expressions:
        name, value = expression.split('=', 1)
        found.append({'name': name, 'value': value.strip('"'), 'matchType': '='})
    return found


def custom_resource(config, slack_secret=None):
    """The spec of an AlertmanagerConfig (monitoring.coreos.com/v1alpha1, the
    Prometheus Operator's) holding the same routing as ``config`` (render()'s
    dict). The Operator scopes it to the namespace it lives in (it adds a
    ``namespace`` matcher to the route). The Slack-compatible URL is a
    secret: the Operator reads it from the Secret ``slack_secret``
    ({name, key}) in that namespace; it never passes through here."""
    route = config['route']
    receivers = []
    for receiver in config['receivers']:
        out = {'name': receiver['name']}
        if receiver.get('webhook_configs'):
            out['webhookConfigs'] = [{'url': c['url'], 'sendResolved': c['send_resolved']}
                                     for c in receiver['webhook_configs']]
        if receiver.get('slack_configs'):
            if not slack_secret:
                raise ConfigError('a Slack-compatible receiver on Kubernetes reads its URL from a Secret: set '
                                  'monitoring_alertmanager_slack_secret_name (and _key) instead of the URL file')
            out['slackConfigs'] = []
            for slack in receiver['slack_configs']:
                item = {'apiURL': dict(slack_secret), 'sendResolved': slack['send_resolved'], 'title': slack['title'],
                        'text': slack['text']}
                if slack.get('channel'):
                    item['channel'] = slack['channel']
                out['slackConfigs'].append(item)
        receivers.append(out)
    return {
        'route': {'receiver': route['receiver'], 'groupBy': list(route['group_by']), 'groupWait': route['group_wait'],
                  'groupInterval': route['group_interval'], 'repeatInterval': route['repeat_interval']},
        'receivers': receivers,
        'inhibitRules': [{'sourceMatch': _matchers(rule['source_matchers']),
                          'targetMatch': _matchers(rule['target_matchers']),
                          'equal': list(rule['equal'])} for rule in config['inhibit_rules']],
    }
