# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Severity from the runbook's table (Incident Response, Severity Levels),
with every reason found and the response time that goes with the level:

P1 service down (15 min): health DOWN, a service without a running replica,
   a crash loop, the database or Redis unreachable;
P2 degraded (1 hour): payment failures, slow responses (p99 over the High
   Latency alert's 2 s), failed requests, an OOM kill, a database near its
   connection limit or with blocked locks or long queries;
P3 minor (4 hours): restarts, error lines, Warning events, a probe that
   could not answer; NONE when nothing was found."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

RESPONSE_TIME = {'P1': '15 min', 'P2': '1 hour', 'P3': '4 hours', 'NONE': None}
CRASH_LOOP_RESTARTS = 3
# Payments that failed, not the payment webhooks (the Webhook Errors alert).
PAYMENT = re.compile(r'payments?(?! webhook)\s+(failed|failure|declined|error)', re.I)


def _exit(replica):
    if replica['exit_code'] is None:  # running again, and the Engine no longer has its last end's event
        return 'last exit code no longer known'
    return 'exit code %s' % replica['exit_code']


def _services(result, found):
    for svc in result['data'].get('services', []):
        running = [r for r in svc['replicas'] if r['state'] in ('running', 'Running')]
        looping = [r for r in svc['replicas'] if r['last_reason'] == 'CrashLoopBackOff' or (
            not svc['ok'] and r['restart_count'] >= CRASH_LOOP_RESTARTS)]
        if looping:
            found['P1'].append('%s crash loop (%s)' % (svc['name'], ', '.join(
                '%s: %d restarts, %s%s' % (r['name'], r['restart_count'],
                                           'last %s, ' % r['last_reason'] if r['last_reason'] else '', _exit(r))
                for r in looping)))
        elif not running:
            found['P1'].append('%s is down: %s' % (svc['name'], '; '.join(svc['problems']) or 'no replica running'))
        elif not svc['ok']:
            found['P2'].append('%s degraded: %s' % (svc['name'], '; '.join(svc['problems'])))
        for rep in svc['replicas']:
            if rep['oom_killed']:
                found['P2'].append('%s was OOMKilled (%s); raise its memory limit' % (svc['name'], rep['name']))
            elif svc['ok'] and rep['restart_count']:
                found['P3'].append('%s restarted %d time(s)' % (rep['name'], rep['restart_count']))
    events = result['data'].get('events') or []
    if events:
        found['P3'].append('%d Warning event(s), e.g. %s on %s: %s' % (
            len(events), events[0]['reason'], events[0]['object'], events[0]['message']))


def classify(evidence, p99_limit_ms=2000):
    """{level: P1|P2|P3|NONE, reason, reasons: {level: [str]}, response_time}."""
    found = dict(P1=[], P2=[], P3=[])
    for name, result in sorted(evidence.items()):
        if result['status'] in ('timed_out', 'error'):
            if name == 'db':
                found['P1'].append('database unreachable: its probe %s' % (
                    'timed out after %s s' % result['limit_s'] if result['status'] == 'timed_out'
                    else 'failed: %s' % result['summary']))
            elif name == 'health':
                found['P1'].append('the health check %s' % result['summary'])
            else:
                found['P3'].append('probe %s %s: %s' % (name, result['status'].replace('_', ' '), result['summary']))
            continue
        data = result['data']
        if name == 'health' and data.get('status') == 'DOWN':
            found['P1'].append('health DOWN (%s)' % ', '.join(data['failed_checks']))
        elif name == 'services':
            _services(result, found)
        elif name in ('db', 'redis') and result['status'] == 'failed':
            if data.get('reachable') is False:
                found['P1'].append('%s unreachable: %s' % ('database' if name == 'db' else 'Redis', result['summary']))
            else:
                found['P2'].append(result['summary'])
        elif name == 'latency':
            if data['requests'] and data['failures'] == data['requests']:
                found['P1'].append('backend answers no request (%d of %d failed)' % (
                    data['failures'], data['requests']))
            elif data['failures']:
                found['P2'].append('%d of %d backend requests failed' % (data['failures'], data['requests']))
            if data['p99_ms'] is not None and data['p99_ms'] > p99_limit_ms:
                found['P2'].append('slow responses: p99 %.0f ms over %d ms' % (data['p99_ms'], p99_limit_ms))
        elif name == 'logs' and data['error_lines']:
            payments = [e for e in data['errors'] if PAYMENT.search(e['message'])]
            if payments:
                found['P2'].append('payment failures: %d error line(s), e.g. %s' % (
                    sum(e['count'] for e in payments), payments[0]['message']))
            found['P3'].append('%d error line(s) in the last %d min' % (data['error_lines'], data['minutes']))
    level = next((lvl for lvl in ('P1', 'P2', 'P3') if found[lvl]), 'NONE')
    reason = '; '.join(found[level]) if level != 'NONE' else 'no problem found'
    return dict(level=level, reason=reason, reasons=found, response_time=RESPONSE_TIME[level])
