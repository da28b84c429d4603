# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health check as a service other procedures reuse (restart, rotation,
restore all end with it): runs the selected checks, retries until a deadline,
and builds one report."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.quickbite.ops.plugins.module_utils.health import checks, exec_checks

ALL_CHECKS = ('actuator', 'db', 'redis', 'frontend', 'platform')
# The check that asks a service's own health endpoint (HealthSettings.endpoints).
ENDPOINTS = {'backend': 'actuator'}


class HealthSettings(object):
    """Plain holder so callers other than the healthcheck module can build one."""

    def __init__(self, **kwargs):
        self.checks = kwargs.get('checks') or list(ALL_CHECKS)
        self.backend_url = kwargs.get('backend_url', 'http://127.0.0.1:8080')
        self.frontend_url = kwargs.get('frontend_url', 'http://127.0.0.1')
        self.frontend_deep_route = kwargs.get('frontend_deep_route', '/some/deep/route')
        self.db = kwargs.get('db', {})
        self.redis = kwargs.get('redis', {})
        self.services = kwargs.get('services') or []
        self.request_timeout = kwargs.get('request_timeout', 5)
        self.log_lines = kwargs.get('log_lines', 20)
        self.validate_certs = kwargs.get('validate_certs', True)
        # {service: check}: the check that asks the service's own health endpoint.
        # When given, the platform check accepts that service's sole replica while
        # its probe still says "starting" if the check is UP in the same attempt
        # (platform.base.ready_by_endpoint). The health check itself leaves it empty.
        self.endpoints = kwargs.get('endpoints') or {}
        # _mask.Masker of the configuration's secrets, for the log lines of
        # failing services (None: lines as the platform gives them).
        self.masker = kwargs.get('masker')


def endpoint_probes(settings):
    """{service: probe()} for adapter.wait: whether the service's own health
    endpoint answers UP now (empty when the settings do not check it)."""
    probes = {}
    if settings.endpoints.get('backend') == 'actuator' and 'actuator' in settings.checks:
        probes['backend'] = lambda: checks.actuator(settings.backend_url, settings.request_timeout,
                                                    settings.validate_certs)['status'] == 'UP'
    return probes


def _in_service(adapter, service, user=None):
    """The starter of an exec_checks check inside ``service``'s container or pod."""
    return lambda: adapter.exec_spawn(service, user=user)


def _db_check(adapter, settings):
    db = settings.db
    if db.get('exec_service'):
        return exec_checks.database(_in_service(adapter, db['exec_service'], 'postgres'), db['port'], db['name'],
                                    settings.request_timeout, 'service %s of %s' % (db['exec_service'],
                                                                                    adapter.describe()))
    return checks.database(db['host'], db['port'], db['name'], db['user'], db.get('password'),
                           settings.request_timeout, db.get('sslmode') or 'prefer', db.get('sslrootcert'))


def _redis_check(adapter, settings):
    redis = settings.redis
    if redis.get('exec_service'):
        return exec_checks.redis(_in_service(adapter, redis['exec_service']), redis['port'], redis.get('password'),
                                 settings.request_timeout, 'service %s of %s' % (redis['exec_service'],
                                                                                 adapter.describe()))
    return checks.redis(redis['host'], redis['port'], redis.get('password'), settings.request_timeout)


def run_once(adapter, settings):
    runners = {
        'actuator': lambda: checks.actuator(settings.backend_url, settings.request_timeout,
                                            settings.validate_certs),
        'db': lambda: _db_check(adapter, settings),
        'redis': lambda: _redis_check(adapter, settings),
        'frontend': lambda: checks.frontend(settings.frontend_url, settings.frontend_deep_route,
                                            settings.request_timeout, settings.validate_certs),
        'platform': lambda: checks.platform_state(adapter, settings.services, settings.log_lines,
                                                  endpoint_up=endpoint_up if settings.endpoints else None,
                                                  masker=settings.masker),
    }
    futures = {}

    def endpoint_up(service):
        check = settings.endpoints.get(service)
        return check in futures and futures[check].result()['status'] == 'UP'

    # The checks are independent and mostly wait on the network: run them
    # side by side so an attempt costs the slowest check, not the sum. (One
    # thread each, so the platform check can wait for an endpoint check.)
    with ThreadPoolExecutor(max_workers=len(settings.checks)) as pool:
        for name in sorted(settings.checks, key=lambda n: n == 'platform'):
            futures[name] = pool.submit(runners[name])
        return dict((name, futures[name].result()) for name in settings.checks)


def failure_message(report):
    lines = ['QuickBite is not healthy on %s after %d attempt(s) in %.1f s; failed checks:'
             % (report['target'], report['attempts'], report['elapsed'])]
    for name in report['failed_checks']:
        lines.append('- %s: %s' % (name, report['checks'][name]['evidence']))
    return '\n'.join(lines)


def run(adapter, settings, timeout=0, interval=2, sleep=time.sleep, clock=time.time):
    """Retry until every check is UP or ``timeout`` seconds have passed.

    The last attempt's results are the report: a check that recovered and
    failed again is reported as it was last seen.
    """
    started = clock()
    attempts = 0
    while True:
        attempts += 1
        results = run_once(adapter, settings)
        failed = [name for name in settings.checks if results[name]['status'] != 'UP']
        if not failed or clock() - started + interval > timeout:
            break
        sleep(interval)
    report = dict(
        status='DOWN' if failed else 'UP',
        target=adapter.describe(),
        platform=adapter.platform,
        checks=results,
        failed_checks=failed,
        attempts=attempts,
        elapsed=round(clock() - started, 3),
    )
    report['summary'] = failure_message(report) if failed else (
        'QuickBite is healthy on %s: %s UP (%d attempt(s), %.1f s)'
        % (report['target'], ', '.join(settings.checks), attempts, report['elapsed']))
    report['report_lines'] = report_lines(report)
    return report


def report_lines(report):
    """The report as lines a person reads at 3 a.m.: one per check, then the
    evidence of failed ones line by line."""
    lines = ['%s on %s (%d attempt(s), %.1f s)%s' % (
        report['status'], report['target'], report['attempts'], report['elapsed'],
        '; failed: ' + ', '.join(report['failed_checks']) if report['failed_checks'] else '')]
    for name, result in report['checks'].items():
        evidence = result['evidence'].splitlines() or ['']
        lines.append('%-8s %-4s %s' % (name, result['status'], evidence[0]))
        lines.extend('              ' + extra.strip() for extra in evidence[1:])
    return lines
