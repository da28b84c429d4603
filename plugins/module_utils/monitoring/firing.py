# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is firing now: Alertmanager's API v2 (what on-call was told, with
inhibited and silenced alerts marked), Prometheus' /api/v1/alerts when
Alertmanager does not answer. Each alert with the runbook section and the
playbook its rule names."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.quickbite.ops.plugins.module_utils import _http
from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError


def _get(url, validate_certs, timeout):
    status, body = _http.request(url, timeout=timeout, validate_certs=validate_certs)
    if status != 200:
        raise PlatformError('GET %s answered %d: %s' % (url, status, body.decode('utf-8', 'replace')[:200]))
    try:
        return json.loads(body)
    except ValueError:
        raise PlatformError('GET %s answered 200 but not JSON: %s' % (url, body.decode('utf-8', 'replace')[:200]))


def _entry(labels, annotations, state, since):
    return dict(name=labels.get('alertname', ''), severity=labels.get('severity', ''), state=state, since=since,
                summary=annotations.get('summary', ''), runbook_url=annotations.get('runbook_url', ''),
                runbook_section=annotations.get('runbook_section', ''), playbook=annotations.get('playbook', ''),
                labels=dict(labels))


def from_alertmanager(url, validate_certs=True, timeout=5):
    answer = _get(url.rstrip('/') + '/api/v2/alerts?active=true', validate_certs, timeout)
    found = []
    for alert in answer if isinstance(answer, list) else []:
        status = alert.get('status') or {}
        state = 'firing' if status.get('state') == 'active' else (
            'inhibited' if status.get('inhibitedBy') else 'silenced' if status.get('silencedBy') else
            status.get('state', 'unknown'))
        found.append(_entry(alert.get('labels') or {}, alert.get('annotations') or {}, state, alert.get('startsAt')))
    return found


def from_prometheus(url, validate_certs=True, timeout=5):
    answer = _get(url.rstrip('/') + '/api/v1/alerts', validate_certs, timeout)
    return [_entry(a.get('labels') or {}, a.get('annotations') or {}, a.get('state', 'unknown'), a.get('activeAt'))
            for a in (answer.get('data') or {}).get('alerts', [])]


def report_line(alert):
    return '%s %s [%s] %s; runbook: %s; run: %s' % (
        alert['severity'] or '-', alert['name'], alert['state'], alert['summary'] or '(no summary)',
        alert['runbook_url'] or alert['runbook_section'] or '(none)', alert['playbook'] or '(none)')


def firing(alertmanager_url, prometheus_url, validate_certs=True, timeout=5, include_pending=False):
    """{source, alerts, report_lines, warnings}: Alertmanager first; Prometheus
    when Alertmanager is not set or does not answer (said in a warning)."""
    warnings = []
    problems = []
    for source, url, read in (('alertmanager', alertmanager_url, from_alertmanager),
                              ('prometheus', prometheus_url, from_prometheus)):
        if not url:
            continue
        try:
            alerts = read(url, validate_certs, timeout)
        except (PlatformError,) + _http.NO_ANSWER as exc:
            why = exc.msg if isinstance(exc, PlatformError) else _http.failure(exc)
            problems.append('%s at %s: %s' % (source, url, why))
            warnings.append('%s at %s did not answer (%s); trying the next source' % (source, url, why))
            continue
        if not include_pending:
            alerts = [a for a in alerts if a['state'] != 'pending']
        alerts.sort(key=lambda a: (a['severity'], a['name'], a['since'] or ''))
        lines = [report_line(a) for a in alerts] or ['nothing is firing (%s at %s)' % (source, url)]
        return dict(source=source, alerts=alerts, report_lines=lines, warnings=warnings)
    raise PlatformError('no alert source answered: %s; check alerts_alertmanager_url and alerts_prometheus_url'
                        % '; '.join(problems or ['neither URL is set']))
