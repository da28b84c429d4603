# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One incident evidence run: the probes, the severity, and whether a
rollback is indicated (the failing service changed image or revision within
the window and has a rollback target), with the reason either way."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.quickbite.ops.plugins.module_utils._time import epoch
from ansible_collections.quickbite.ops.plugins.module_utils.incident import probes, severity


def failing_services(evidence):
    """Services the evidence shows failing: not ok on the platform, or the
    backend when its health endpoint or the latency probe failed."""
    failing = []
    services = evidence.get('services')
    if services and services['status'] in ('ok', 'failed'):
        failing.extend(s['name'] for s in services['data']['services'] if not s['ok'] or any(
            r['oom_killed'] for r in s['replicas']))
    health = evidence.get('health')
    if health and 'actuator' in (health['data'].get('failed_checks') or []) or \
            evidence.get('latency', {}).get('status') == 'failed':
        failing.append('backend')
    return sorted(set(failing))


def rollback_advice(evidence, level, window_minutes, now):
    """{indicated, service, target, why}: indicated only for P1/P2 with a
    failing service whose image/revision changed within the window and a
    rollback target that differs from what runs."""
    if level not in ('P1', 'P2'):
        return dict(indicated=False, service=None, target=None,
                    why='severity %s: a rollback is for a P1 or P2 caused by a deploy' % level)
    deploys = evidence.get('deploys')
    if not deploys or deploys['status'] != 'ok':
        return dict(indicated=False, service=None, target=None,
                    why='no deploy evidence (the deploys probe %s)' % (deploys['status'] if deploys else 'did not run'))
    failing = failing_services(evidence)
    reasons = []
    for name in failing:
        found = deploys['data']['services'].get(name)
        if found is None:
            reasons.append('%s is not among deploy_services' % name)
            continue
        changed = epoch(found['changed_at'])
        candidate = found['rollback_candidate']
        if changed is None:
            reasons.append('%s: no recorded change of image or revision' % name)
        elif now - changed > window_minutes * 60:
            reasons.append('%s last changed at %s, more than %d min ago: not a recent deploy'
                           % (name, found['changed_at'], window_minutes))
        elif not candidate.get('changes'):
            reasons.append('%s changed at %s but has no rollback target (%s)'
                           % (name, found['changed_at'], candidate.get('why_not') or 'already on it'))
        else:
            return dict(indicated=True, service=name, target=candidate['label'],
                        why='%s changed at %s (within %d min) and is failing; roll back to %s'
                            % (name, found['changed_at'], window_minutes, candidate['label']))
    return dict(indicated=False, service=None, target=None,
                why='; '.join(reasons) or 'no failing service points at a deploy')


def report_lines(result):
    sev = result['severity']
    lines = ['%s on %s: %s (respond within %s)' % (
        sev['level'], result['target'], sev['reason'], sev['response_time'] or 'n/a')]
    for name in probes.PROBES:
        if name in result['evidence']:
            probe = result['evidence'][name]
            lines.append('%-8s %-9s %s' % (name, probe['status'], probe['summary']))
    lines.append('rollback: %s' % result['rollback']['why'])
    return lines


def run(adapter, settings, latency_p99_ms, window_minutes, clock=time.time):
    detected = probes.utc_now()
    started = clock()
    evidence = probes.collect(adapter, settings)
    sev = severity.classify(evidence, latency_p99_ms)
    result = dict(changed=False, detected_at=detected, target=adapter.describe(), platform=adapter.platform,
                  evidence=evidence, severity=sev,
                  rollback=rollback_advice(evidence, sev['level'], window_minutes, clock()),
                  elapsed=round(clock() - started, 3))
    result['report_lines'] = report_lines(result)
    return result
