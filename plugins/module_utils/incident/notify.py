# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runbook step 6, notify stakeholders: one message per phase (start,
findings, end) to each receiver, a Slack-compatible incoming webhook
(``blocks`` with a ``text`` fallback) or a generic JSON webhook. Each
receiver is tried side by side with the others, with retries, and bounded by
its deadline (bounded.run_bounded): a failed or hung receiver is reported,
never the end of the run. Messages carry summaries only, masked with the
configuration's secrets; receiver URLs are never returned."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import time

from ansible_collections.quickbite.ops.plugins.module_utils import _http
from ansible_collections.quickbite.ops.plugins.module_utils.incident.bounded import run_bounded
from ansible_collections.quickbite.ops.plugins.module_utils.incident.probes import utc_now

PHASES = ('start', 'findings', 'end')
KINDS = ('slack', 'webhook')
MAX_LINES = 12
# Seconds before the n-th retry: n times this (at most 5).
BACKOFF = 0.5


def content(phase, incident_id, report, target, record_path=None, actions=()):
    """The facts of the message, the same for every receiver kind."""
    sev = (report or {}).get('severity') or {}
    facts = dict(incident_id=incident_id, phase=phase, time=utc_now(), target=target,
                 severity=sev.get('level'), reason=sev.get('reason'), response_time=sev.get('response_time'))
    if phase == 'start':
        facts['title'] = 'Incident %s: collecting evidence on %s' % (incident_id, target)
        facts['lines'] = []
    elif phase == 'findings':
        facts['title'] = '%s incident %s: %s' % (sev.get('level'), incident_id, sev.get('reason'))
        facts['lines'] = list((report or {}).get('report_lines') or [])[:MAX_LINES]
    else:
        facts['title'] = '%s incident %s: run ended' % (sev.get('level') or 'Unclassified', incident_id)
        facts['lines'] = ['action: %s' % a for a in actions] + (['record: %s' % record_path] if record_path else [])
    return facts


def body(kind, facts):
    """The JSON a receiver of ``kind`` is sent."""
    if kind == 'webhook':
        return facts
    text = '\n'.join(facts['lines']) or facts['title']
    blocks = [dict(type='header', text=dict(type='plain_text', text=facts['title'][:150])),
              dict(type='section', text=dict(type='mrkdwn', text='```%s```' % text.replace('```', "'''")[:2900]))]
    context = 'target %s | %s UTC' % (facts['target'], facts['time'])
    if facts.get('response_time'):
        context += ' | respond within %s' % facts['response_time']
    blocks.append(dict(type='context', elements=[dict(type='mrkdwn', text=context)]))
    return dict(text=facts['title'], blocks=blocks)


def _deliver(receiver, data, timeout, deadline, retries, sleep, clock):
    """(ok, summary, data) after at most 1 + ``retries`` attempts within ``deadline`` seconds."""
    started = clock()
    attempts, last = 0, None
    while True:
        attempts += 1
        left = deadline - (clock() - started)
        try:
            status, dummy = _http.request(receiver['url'], method='POST', data=data, timeout=max(0.5, min(timeout, left)),
                                          headers={'Content-Type': 'application/json'})
            last = 'HTTP %d' % status
            if 200 <= status < 300:
                return True, 'delivered (%s, attempt %d)' % (last, attempts), dict(attempts=attempts, status=status)
        except _http.NO_ANSWER as exc:
            last = _http.failure(exc)
        pause = min(BACKOFF * attempts, 5)
        if attempts > retries or clock() - started + pause >= deadline:
            return False, 'not delivered after %d attempt(s): %s' % (attempts, last), dict(attempts=attempts)
        sleep(pause)


def send(receivers, facts, masker, timeout=5, deadline=15, retries=3, sleep=time.sleep, clock=time.monotonic):
    """[{receiver, kind, delivered, attempts, summary}] in the receivers' order."""
    calls = {}
    for index, receiver in enumerate(receivers):
        data = masker.text(json.dumps(body(receiver['kind'], facts), sort_keys=True)).encode('utf-8')
        key = '%d' % index
        calls[key] = (lambda r=receiver, d=data: _deliver(r, d, timeout, deadline, retries, sleep, clock))
    results = run_bounded(calls, dict((key, deadline + 1) for key in calls))
    report = []
    for index, receiver in enumerate(receivers):
        result = results['%d' % index]
        report.append(dict(receiver=receiver['name'], kind=receiver['kind'], delivered=result['status'] == 'ok',
                           attempts=result['data'].get('attempts'), summary=result['summary'],
                           duration_ms=result['duration_ms']))
    return report
