"""Severity from the runbook's table, with its reasons."""
from ansible_collections.quickbite.ops.plugins.module_utils.incident.severity import classify


def probe(status='ok', summary='', **data):
    return dict(status=status, summary=summary, data=data, duration_ms=1, limit_s=5)


def replica(name, state='running', restarts=0, reason=None, oom=False, exit_code=None):
    return dict(name=name, state=state, restart_count=restarts, exit_code=exit_code, oom_killed=oom,
                last_reason=reason, started=None, image='x')


def services(*entries):
    return probe(services=[dict(name=n, ok=ok, problems=[] if ok else ['not ready'], replicas=reps)
                           for n, ok, reps in entries], events=[])


def test_nothing_found_is_none():
    sev = classify(dict(health=probe(status='UP', failed_checks=[]), services=services(('backend', True, [replica('b')]))))
    assert sev['level'] == 'NONE' and sev['response_time'] is None


def test_crash_loop_is_p1_with_restarts_and_exit_code():
    sev = classify(dict(services=services(('backend', False, [replica('b-1', 'Running', 5, 'CrashLoopBackOff',
                                                                      exit_code=1)]))))
    assert sev['level'] == 'P1' and sev['response_time'] == '15 min'
    assert sev['reason'] == 'backend crash loop (b-1: 5 restarts, last CrashLoopBackOff, exit code 1)'


def test_crash_loop_whose_last_exit_code_is_gone_says_so_not_exit_code_none():
    sev = classify(dict(services=services(('backend', False, [replica('b-1', 'running', 5, None, exit_code=None)]))))
    assert sev['reason'] == 'backend crash loop (b-1: 5 restarts, last exit code no longer known)'


def test_db_probe_timing_out_is_p1():
    sev = classify(dict(db=probe(status='timed_out', summary='no answer')))
    assert sev['level'] == 'P1' and sev['reason'] == 'database unreachable: its probe timed out after 5 s'


def test_slow_p99_is_p2_and_other_probe_timeouts_are_p3():
    sev = classify(dict(latency=probe(requests=20, failures=0, p99_ms=2500.0, p50_ms=10.0),
                        deploys=probe(status='timed_out', summary='no answer')))
    assert sev['level'] == 'P2' and sev['reason'] == 'slow responses: p99 2500 ms over 2000 ms'
    assert sev['reasons']['P3'] == ['probe deploys timed out: no answer']
    assert classify(dict(latency=probe(requests=20, failures=0, p99_ms=1999.0)))['level'] == 'NONE'


def test_oom_kill_of_a_running_service_is_p2_restarts_p3():
    sev = classify(dict(services=services(('backend', True, [replica('b-1', restarts=1, reason='OOMKilled', oom=True)]),
                                          ('redis', True, [replica('r-1', restarts=2)]))))
    assert sev['level'] == 'P2' and 'backend was OOMKilled (b-1)' in sev['reason']
    assert sev['reasons']['P3'] == ['r-1 restarted 2 time(s)']


def test_payment_webhook_errors_are_not_payment_failures():
    logs = probe(status='failed', minutes=15, error_lines=3, errors=[
        dict(service='backend', message='ERROR # Payment webhook processing failed', count=3)])
    sev = classify(dict(logs=logs))
    assert sev['level'] == 'P3' and sev['reason'] == '3 error line(s) in the last 15 min'
