# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnosis checks, each registered once with @check: its name, its
time limit and the thresholds it reads (with their defaults). run() runs the
selected checks side by side, each bounded by its limit like the incident
probes (incident.bounded): a check that hangs is reported as a PROBLEM that
did not finish, and the run goes on.

A check is ``func(adapter, settings) -> [Finding]`` (finding.py); it asks the
platform only through ``adapter`` (platform/base.py) and reads its options
from ``settings`` (options.DiagnoseSettings: ``settings.threshold(name)``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.finding import PROBLEM, Finding
from ansible_collections.quickbite.ops.plugins.module_utils.incident.bounded import run_bounded


class Check(object):

    def __init__(self, name, section, func, limit, thresholds, order):
        self.name = name
        self.section = section
        self.func = func
        self.limit = limit
        self.thresholds = dict(thresholds or {})
        self.order = order


CHECKS = {}


def check(name, section, limit=15, thresholds=None, order=50):
    """Register the decorated function as check ``name`` of runbook section
    ``section`` (finding.py's constants): ``limit`` seconds at most,
    ``thresholds`` {name: default} it reads through settings.threshold(),
    ``order`` its place in the report."""
    def register(func):
        if name in CHECKS:
            raise ValueError('diagnosis check %s is registered twice' % name)
        CHECKS[name] = Check(name, section, func, limit, thresholds, order)
        return func
    return register


def names():
    """Every registered check, in report order."""
    return [c.name for c in sorted(CHECKS.values(), key=lambda c: (c.order, c.name))]


def default_thresholds():
    found = {}
    for one in CHECKS.values():
        found.update(one.thresholds)
    return found


def _findings(one, value):
    """The check's findings, each told which check found it."""
    if isinstance(value, Finding):
        value = [value]
    for found in value:
        found.check = one.name
    return list(value)


def run(adapter, settings):
    """([Finding], {check: milliseconds}) of the selected checks (settings.checks), in report order."""
    chosen = [CHECKS[name] for name in names() if name in settings.checks]
    limits = dict((c.name, settings.limits.get(c.name, c.limit)) for c in chosen)
    results = run_bounded(dict((c.name, _probe(c, adapter, settings)) for c in chosen), limits)
    findings = []
    took = dict((name, result['duration_ms']) for name, result in results.items())
    for one in chosen:
        result = results[one.name]
        if result['status'] in ('ok', 'failed'):
            findings.extend(result['data']['findings'])
            continue
        what = 'did not finish within %s s' % limits[one.name] if result['status'] == 'timed_out' else \
            'could not run: %s' % result['summary']
        findings.append(Finding(one.section, PROBLEM, 'check %s %s' % (one.name, what),
                                dict(status=result['status'], limit_s=limits[one.name]), check=one.name,
                                fix_note='the check itself failed: see its message; raise diagnose_check_timeouts.%s '
                                         'when the target is slow' % one.name))
    return findings, took


def _probe(one, adapter, settings):
    def probe():
        found = _findings(one, one.func(adapter, settings))
        return not any(f.problem for f in found), '', dict(findings=found)
    return probe
