# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One diagnosis run: the registered checks (registry.run), every finding
masked once more with the configuration's secrets, the report lines and the
problems. Read-only: no check changes anything, in check mode or not."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import time

from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import registry
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.finding import PROBLEM


def _masked(value, masker):
    """``value`` (JSON-serialisable) with every secret of the configuration masked."""
    if not masker.values:
        return value
    return json.loads(masker.text(json.dumps(value)))


def run(adapter, settings, clock=time.monotonic):
    started = clock()
    found, took = registry.run(adapter, settings)
    findings = [_masked(f.as_dict(), settings.masker) for f in found]
    problems = [f for f in findings if f['status'] == PROBLEM]
    summary = ('%d problem(s) found by %d check(s)' % (len(problems), len(settings.checks)) if problems else
               'no problem found by %d check(s) (%s)' % (len(settings.checks), ', '.join(settings.checks)))
    return dict(changed=False, target=adapter.describe(), platform=adapter.platform, checks=settings.checks,
                findings=findings, problems=problems, report_lines=[f['line'] for f in findings] + [summary],
                summary=summary, durations_ms=took, elapsed=round(clock() - started, 3))
