"""Probes side by side, each bounded by its own limit."""
import threading
import time

from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.incident.bounded import run_bounded


def test_a_hung_probe_is_reported_timed_out_and_does_not_hold_the_others():
    release = threading.Event()
    started = time.monotonic()
    results = run_bounded(
        dict(hung=lambda: release.wait(30) and (True, 'late', {}),
             quick=lambda: (True, 'fine', {'n': 1}),
             failing=lambda: (False, 'down', {})),
        dict(hung=0.3, quick=5, failing=5))
    took = time.monotonic() - started
    release.set()
    assert took < 2
    assert results['hung']['status'] == 'timed_out' and results['hung']['limit_s'] == 0.3
    assert 'no answer within its limit of 0.3 s' in results['hung']['summary']
    assert results['quick'] == dict(status='ok', summary='fine', data={'n': 1},
                                    duration_ms=results['quick']['duration_ms'], limit_s=5)
    assert results['failing']['status'] == 'failed'


def test_a_probe_that_raises_is_evidence_not_the_end():
    def platform_error():
        raise PlatformError('the API server answered 500')

    def bug():
        raise KeyError('replicas')

    results = run_bounded(dict(a=platform_error, b=bug, c=lambda: (True, 'ok', {})), dict(a=1, b=1, c=1))
    assert results['a']['status'] == 'error' and results['a']['summary'] == 'the API server answered 500'
    assert results['b']['status'] == 'error' and results['b']['summary'] == "KeyError: 'replicas'"
    assert results['c']['status'] == 'ok'


def test_probes_run_side_by_side():
    started = time.monotonic()
    results = run_bounded(dict((str(i), lambda: time.sleep(0.3) or (True, '', {})) for i in range(5)),
                          dict((str(i), 5) for i in range(5)))
    assert time.monotonic() - started < 1.2
    assert all(r['status'] == 'ok' for r in results.values())
