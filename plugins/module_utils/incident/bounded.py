# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probes run side by side, each with its own time limit. A probe that has
not answered by its limit is reported as timed out and left behind: it runs
in a daemon thread, which the interpreter drops at exit, so a hung socket or
a paused database never holds the run (a ThreadPoolExecutor would join it)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
import time

from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError


class _Probe(threading.Thread):

    def __init__(self, name, func):
        super(_Probe, self).__init__(name='probe-%s' % name)
        self.daemon = True
        self.func = func
        self.value = None
        self.error = None
        self.took = None

    def run(self):
        started = time.monotonic()
        try:
            self.value = self.func()
        except QuickbiteError as exc:
            self.error = exc.msg
        except Exception as exc:  # pylint: disable=broad-except  # a probe's failure is evidence, never the end
            self.error = '%s: %s' % (exc.__class__.__name__, exc)
        self.took = time.monotonic() - started


def run_bounded(probes, limits, clock=time.monotonic):
    """``probes``: {name: func() -> (ok, summary, data)}; ``limits``: {name:
    seconds}. Returns {name: {status: ok|failed|error|timed_out, summary,
    data, duration_ms, limit_s}}; waits at most the largest limit."""
    started = clock()
    threads = dict((name, _Probe(name, func)) for name, func in probes.items())
    for thread in threads.values():
        thread.start()
    results = {}
    for name, thread in sorted(threads.items(), key=lambda item: limits[item[0]]):
        thread.join(max(0.0, started + limits[name] - clock()))
        if thread.is_alive():
            results[name] = dict(status='timed_out', summary='no answer within its limit of %s s; the probe was left '
                                 'behind and the run went on' % limits[name], data={},
                                 duration_ms=int(limits[name] * 1000), limit_s=limits[name])
        elif thread.error is not None:
            results[name] = dict(status='error', summary=thread.error, data={},
                                 duration_ms=int(thread.took * 1000), limit_s=limits[name])
        else:
            ok, summary, data = thread.value
            results[name] = dict(status='ok' if ok else 'failed', summary=summary, data=data,
                                 duration_ms=int(thread.took * 1000), limit_s=limits[name])
    return results
