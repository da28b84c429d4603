# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident's evidence: one probe per question of the runbook's P1
checklist, run side by side with a time limit each (bounded.run_bounded).
Every probe returns (ok, summary, data); log lines and query texts are
masked with the configuration's secrets before they leave here."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import datetime
import time

from ansible_collections.quickbite.ops.plugins.module_utils import _http
from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.health import service as health
from ansible_collections.quickbite.ops.plugins.module_utils.incident import _db_exec, _stores, logsummary
from ansible_collections.quickbite.ops.plugins.module_utils.incident.bounded import run_bounded

PROBES = ('health', 'services', 'logs', 'db', 'redis', 'latency', 'deploys')
DEFAULT_LIMITS = dict(health=15, services=15, logs=20, db=10, redis=5, latency=15, deploys=15)
# Seconds the latency probe keeps sending requests: a slow or hung backend
# (one that waits on a paused database) is evident by then.
LATENCY_BUDGET = 5
# How far past the budget a request started within it may run: one that answers
# just after the budget is still a sample; one cut off later is not.
LATENCY_GRACE = 0.5


class IncidentSettings(object):
    """What the probes need; built by options.incident_settings."""

    def __init__(self, **kwargs):
        self.health = kwargs['health']                  # health.service.HealthSettings
        self.probes = kwargs.get('probes') or list(PROBES)
        self.limits = dict(DEFAULT_LIMITS, **(kwargs.get('limits') or {}))
        self.services = kwargs.get('services') or []
        self.log_minutes = kwargs.get('log_minutes', 15)
        self.log_tail = kwargs.get('log_tail', 2000)
        self.log_keep = kwargs.get('log_keep', 200)
        self.long_query_seconds = kwargs.get('long_query_seconds', 30)
        self.latency_path = kwargs.get('latency_path', '/actuator/health')
        self.latency_requests = kwargs.get('latency_requests', 20)
        self.deploy_services = kwargs.get('deploy_services') or ['backend', 'frontend']
        self.db_service = kwargs.get('db_service') or 'postgres'  # where the database's volume is looked at
        self.db_data_dir = kwargs.get('db_data_dir') or ''        # '' asks the server (SHOW data_directory)
        self.masker = kwargs['masker']


def _health(adapter, settings):
    # The database and Redis are asked by their own probes, each within its own
    # limit: a paused database must cost the db probe's limit, not the health check's.
    own = [name for name in ('db', 'redis') if name in settings.probes]
    checked = copy.copy(settings.health)
    checked.checks = [name for name in settings.health.checks if name not in own]
    results = health.run_once(adapter, checked)
    failed = [name for name, r in results.items() if r['status'] != 'UP']
    checks = dict((name, dict(status=r['status'], evidence=settings.masker.text(r['evidence'])))
                  for name, r in results.items())
    summary = 'every check UP (%s)' % ', '.join(sorted(results)) if not failed else 'DOWN: ' + '; '.join(
        '%s: %s' % (name, checks[name]['evidence'].splitlines()[0] if checks[name]['evidence'] else '')
        for name in failed)
    if own:
        summary += '; %s: see %s probe' % (' and '.join(own), 'their' if len(own) > 1 else 'its')
    return not failed, summary, dict(status='DOWN' if failed else 'UP', failed_checks=failed, checks=checks,
                                     checked_by_probes=own)


def _services(adapter, settings):
    state = adapter.incident_state(settings.services or None)
    lines = []
    for svc in state['services']:
        restarts = sum(r['restart_count'] for r in svc['replicas'])
        ooms = [r['name'] for r in svc['replicas'] if r['oom_killed']]
        text = '%s %s, %d replica(s), %d restart(s)' % (svc['name'], 'ok' if svc['ok'] else 'NOT ok',
                                                        len(svc['replicas']), restarts)
        if ooms:
            text += ', OOMKilled: %s' % ', '.join(ooms)
        if svc['problems']:
            text += ' (%s)' % '; '.join(svc['problems'])
        lines.append(text)
    if state['events']:
        newest = state['events'][0]
        lines.append('%d Warning event(s), newest: %s %s' % (len(state['events']), newest['reason'], newest['object']))
    ok = all(s['ok'] for s in state['services']) and not any(
        r['oom_killed'] for s in state['services'] for r in s['replicas'])
    return ok, '; '.join(lines), state


def _logs(adapter, settings):
    names = settings.services or adapter.service_names()
    since = '%ds' % (settings.log_minutes * 60)
    sources, kept, notes = [], {}, {}
    for name in names:
        lines = []
        for entry in adapter.logs(name, tail=settings.log_tail or None, since=since):
            lines.extend(entry['lines'])
            if entry.get('note'):
                notes[name] = entry['note']
        lines = settings.masker.lines(lines)
        sources.append((name, lines))
        kept[name] = lines[-settings.log_keep:] if settings.log_keep else []
    total, errors = logsummary.summarize(sources)
    summary = '%d line(s) of the last %d min from %d service(s); %d error line(s), %d distinct' % (
        sum(len(lines) for dummy, lines in sources), settings.log_minutes, len(names), total, len(errors))
    if errors:
        summary += '; most frequent: %s x%d: %s' % (errors[0]['service'], errors[0]['count'], errors[0]['message'])
    return not total, summary, dict(minutes=settings.log_minutes, error_lines=total, errors=errors, lines=kept,
                                    notes=notes)


def _latency(settings):
    url = settings.health.backend_url.rstrip('/') + settings.latency_path
    took, failures = [], 0
    began = time.monotonic()
    for dummy in range(settings.latency_requests):
        left = LATENCY_BUDGET - (time.monotonic() - began)
        if took and left <= 0.05:
            break  # a backend this slow has shown it; the other probes must not wait for the rest
        # No request outlives the budget by more than LATENCY_GRACE: the whole probe ends by then.
        timeout = min(settings.health.request_timeout, max(left, 0.05) + LATENCY_GRACE) if took else \
            min(settings.health.request_timeout, LATENCY_BUDGET)
        started = time.monotonic()
        try:
            status, dummy_body = _http.request(url, timeout=timeout, validate_certs=settings.health.validate_certs)
        except _http.NO_ANSWER:
            status = None
            if took and timeout < settings.health.request_timeout and time.monotonic() - started >= timeout - 0.01:
                break  # a later request cut short by the budget, not by the backend: not a sample
        took.append((time.monotonic() - started) * 1000)
        if status is None or status >= 500:
            failures += 1
    took.sort()

    def pct(p):
        return round(took[min(len(took) - 1, int(round(p / 100.0 * (len(took) - 1))))], 1) if took else None

    data = dict(url=url, requests=len(took), failures=failures, p50_ms=pct(50), p99_ms=pct(99),
                max_ms=round(took[-1], 1) if took else None, budget_s=LATENCY_BUDGET)
    summary = 'GET %s x%d: p50 %s ms, p99 %s ms, %d failed' % (url, len(took), data['p50_ms'], data['p99_ms'], failures)
    if len(took) < settings.latency_requests:
        summary += ' (stopped after %d of %d requests: %d s budget spent)' % (
            len(took), settings.latency_requests, LATENCY_BUDGET)
    return not failures, summary, data


def _db(adapter, settings):
    """The database's answers (through libpq, or psql in its container with
    access exec), then the free space of its volume as seen inside the
    container, all within the db probe's limit."""
    db = settings.health.db
    limit = settings.limits['db']
    began = time.monotonic()
    if db.get('exec_service'):
        ok, summary, data = _db_exec.database(
            lambda: adapter.exec_spawn(db['exec_service'], user='postgres'), db['port'], db['name'], limit,
            settings.long_query_seconds, settings.masker, 'service %s of %s' % (db['exec_service'], adapter.describe()))
    else:
        ok, summary, data = _stores.database(db, limit + 2, settings.long_query_seconds, settings.masker)
    service = db.get('exec_service') or settings.db_service
    vol = _db_exec.volume(lambda: adapter.exec_spawn(service, user='postgres'), db['port'], settings.db_data_dir,
                          max(1.0, limit - (time.monotonic() - began)), service)
    data['volume'] = vol
    summary += '; ' + _db_exec.volume_line(vol)
    if vol.get('full'):
        ok = False
        summary += ', over the Disk Usage alert\'s %d%%' % _db_exec.FULL_PCT
    return ok, summary, data


def _redis(adapter, settings):
    """PING and INFO over TCP, or through redis-cli in its container or pod (access exec)."""
    redis = settings.health.redis
    if redis.get('exec_service'):
        return _db_exec.redis(lambda: adapter.exec_spawn(redis['exec_service']), redis['port'], redis.get('password'),
                              settings.limits['redis'], 'service %s of %s' % (redis['exec_service'], adapter.describe()))
    return _stores.redis(redis['host'], redis['port'], redis.get('password'), settings.limits['redis'])


def _changed_at(entry):
    return entry.get('created') or entry.get('time')


def _deploys(adapter, settings):
    found, lines = {}, []
    for name in settings.deploy_services:
        current = adapter.workload(name)
        history = adapter.history(name)
        try:
            target = adapter.rollback_target(name)
            candidate = dict(label=target['label'], changes=target['changes'])
        except QuickbiteError as exc:
            candidate = dict(label=None, changes=False, why_not=exc.msg)
        changed = _changed_at(history[-1]) if history else None
        found[name] = dict(image=current['image'], revision=current['revision'], changed_at=changed,
                           history=history[-5:], rollback_candidate=candidate)
        lines.append('%s %s%s, changed %s, rollback candidate %s' % (
            name, current['image'], ' revision %s' % current['revision'] if current['revision'] else '',
            changed or 'not recorded', candidate['label'] or 'none'))
    return True, '; '.join(lines), dict(services=found)


def collect(adapter, settings):
    """{probe: result} (bounded.run_bounded) for the selected probes."""
    runners = dict(
        health=lambda: _health(adapter, settings),
        services=lambda: _services(adapter, settings),
        logs=lambda: _logs(adapter, settings),
        db=lambda: _db(adapter, settings),
        redis=lambda: _redis(adapter, settings),
        latency=lambda: _latency(settings),
        deploys=lambda: _deploys(adapter, settings),
    )
    chosen = dict((name, runners[name]) for name in settings.probes)
    return run_bounded(chosen, dict((name, settings.limits[name]) for name in chosen))


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
