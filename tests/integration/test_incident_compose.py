"""Incident response on the real reference stack (Docker Compose): the
evidence, the severity, the record. Every test leaves the stack as it found
it (the `stack` fixture holds the stack lock)."""
import json
import os
import stat
import subprocess
import time

import pytest

from conftest import BACKEND_URL, REDIS_PORT, STACK_PROJECT, backend_health, container, compose, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.compose]


def _record(directory, incident_id):
    path = os.path.join(directory, incident_id)
    with open(os.path.join(path, 'report.json')) as handle:
        report = json.load(handle)
    with open(os.path.join(path, 'timeline.jsonl')) as handle:
        timeline = [json.loads(line) for line in handle]
    return path, report, timeline


def _container(service):
    return subprocess.run(['docker', 'compose', '-p', STACK_PROJECT, 'ps', '-q', service], check=True,
                          capture_output=True, text=True).stdout.strip()


def test_healthy_stack_is_no_p1_or_p2_and_writes_a_complete_record(demo_vars, stack, tmp_path):
    incidents = str(tmp_path / 'incidents')
    run = run_playbook('incident.yml', extra=dict(demo_vars, incident_dir=incidents, incident_id='healthy-1'),
                       tmp_path=tmp_path)
    assert run.rc == 0, run.output
    result = run.result('incident_evidence')
    assert result['severity']['level'] in ('NONE', 'P3'), result['severity']
    assert sorted(result['evidence']) == ['db', 'deploys', 'health', 'latency', 'logs', 'redis', 'services']
    assert all(p['status'] in ('ok', 'failed') for p in result['evidence'].values()), result['report_lines']
    assert result['evidence']['health']['data']['status'] == 'UP'
    db = result['evidence']['db']['data']
    assert db['reachable'] and db['max_connections'] >= db['connections'] >= 1 and db['size_bytes'] > 0
    # The free space of the database's volume, as the postgres container sees it (df -P through exec).
    volume = db['volume']
    assert volume['available'] and volume['data_directory'] == '/var/lib/postgresql/data', volume
    assert volume['found_by'] == 'SHOW data_directory' and volume['service'] == 'postgres'
    assert 0 < volume['avail_bytes'] < volume['size_bytes'] and 0 < volume['used_pct'] < 100
    assert result['evidence']['redis']['data']['reachable'] is True
    assert result['evidence']['latency']['data']['requests'] == 20 and result['evidence']['latency']['data']['p99_ms']
    names = sorted(s['name'] for s in result['evidence']['services']['data']['services'])
    assert names == ['backend', 'frontend', 'postgres', 'redis']
    path, report, timeline = _record(incidents, 'healthy-1')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert sorted(os.listdir(path)) == ['postmortem.md', 'report.json', 'report.md', 'timeline.jsonl']
    assert all(stat.S_IMODE(os.stat(os.path.join(path, n)).st_mode) == 0o600 for n in os.listdir(path))
    assert report['incident_id'] == 'healthy-1' and report['severity'] == result['severity']
    steps = [e['step'] for e in timeline]
    assert steps.index('detected') < steps.index('probe health') < steps.index('severity')
    assert {'notify start', 'notify findings', 'rollback', 'notify end'} <= set(steps)
    assert all(e['time'].endswith('Z') for e in timeline) and [e['time'] for e in timeline] == sorted(
        e['time'] for e in timeline)
    markdown = open(os.path.join(path, 'report.md')).read()
    assert 'MB free of' in markdown and '(/var/lib/postgresql/data in postgres)' in markdown
    assert report['evidence']['db']['data']['volume']['avail_bytes'] == volume['avail_bytes']
    everything = run.output + open(os.path.join(path, 'report.json')).read() + markdown
    secrets = [k for k in stack['env'] if any(w in k for w in ('SECRET', 'PASSWORD', 'TOKEN', 'KEY'))]
    assert 'DB_PASSWORD' in secrets
    for key in secrets:
        assert len(stack['env'][key]) < 4 or stack['env'][key] not in everything, key
    # The same id again: the timeline grows, the post-mortem draft is kept.
    with open(os.path.join(path, 'postmortem.md'), 'a') as handle:
        handle.write('edited by on-call\n')
    again = run_playbook('incident.yml', tmp_path=tmp_path, extra=dict(
        demo_vars, incident_dir=incidents, incident_id='healthy-1', incident_probes=['health', 'services']))
    assert again.rc == 0, again.output
    assert again.result('incident_record')['files']['postmortem.md'] == 'kept'
    dummy, dummy, longer = _record(incidents, 'healthy-1')
    assert longer[:len(timeline)] == timeline and len(longer) == len(timeline) + 8
    assert open(os.path.join(path, 'postmortem.md')).read().endswith('edited by on-call\n')


def test_check_mode_collects_but_writes_nothing(demo_vars, tmp_path):
    incidents = str(tmp_path / 'incidents')
    run = run_playbook('incident.yml', extra=dict(demo_vars, incident_dir=incidents, incident_id='check-1',
                                                  incident_probes=['health', 'services', 'db']),
                       check=True, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert run.result('incident_evidence')['evidence']['db']['status'] == 'ok'
    assert run.result('incident_record')['files']['postmortem.md'] == 'written'
    assert not os.path.exists(incidents)


def test_backend_stopped_is_p1_with_its_evidence(demo_vars, tmp_path):
    incidents = str(tmp_path / 'incidents')
    compose('stop', 'backend')
    try:
        run = run_playbook('incident.yml', extra=dict(demo_vars, incident_dir=incidents, incident_id='down-1',
                                                      incident_latency_requests=3), tmp_path=tmp_path)
    finally:
        compose('start', 'backend')
    assert run.rc != 0 and 'down-1: P1 (respond within 15 min)' in run.output, run.output
    result = run.result('incident_evidence')
    assert result['severity']['level'] == 'P1'
    reasons = result['severity']['reasons']['P1']
    assert any(r.startswith('backend is down: %s is exited' % container('backend')) for r in reasons), reasons
    assert any(r.startswith('health DOWN (actuator') for r in reasons), reasons
    assert 'backend answers no request (3 of 3 failed)' in reasons
    backend = [s for s in result['evidence']['services']['data']['services'] if s['name'] == 'backend'][0]
    assert backend['replicas'][0]['state'] == 'exited' and backend['replicas'][0]['oom_killed'] is False
    assert 'no rollback: incident_rollback is false' in run.output
    path, report, timeline = _record(incidents, 'down-1')
    assert report['severity']['level'] == 'P1'
    postmortem = open(os.path.join(path, 'postmortem.md')).read()
    assert 'Severity: P1 (respond within 15 min)' in postmortem and 'backend is down' in postmortem
    assert 'Post-mortem due: ' in postmortem and '## Root cause' in postmortem
    health = run_playbook('healthcheck.yml', extra=dict(demo_vars, healthcheck_timeout=90), tmp_path=tmp_path)
    assert health.rc == 0, health.output


def test_paused_postgres_times_out_its_probe_within_the_limit_and_the_run_completes(demo_vars, tmp_path):
    incidents = str(tmp_path / 'incidents')
    postgres = _container('postgres')
    subprocess.run(['docker', 'pause', postgres], check=True, capture_output=True)
    try:
        started = time.monotonic()
        run = run_playbook('incident.yml', extra=dict(
            demo_vars, incident_dir=incidents, incident_id='paused-1', incident_fail=False,
            incident_probes=['health', 'db', 'redis', 'services', 'deploys'], incident_probe_timeouts={'db': 3}),
            tmp_path=tmp_path)
        took = time.monotonic() - started
    finally:
        subprocess.run(['docker', 'unpause', postgres], check=True, capture_output=True)
    assert run.rc == 0, run.output
    result = run.result('incident_evidence')
    db = result['evidence']['db']
    assert db['status'] == 'timed_out' and db['limit_s'] == 3 and db['duration_ms'] == 3000
    # The whole evidence within the db probe's limit + 5 s (the health probe leaves the database to it).
    assert result['elapsed'] < 3 + 5, result['elapsed']
    assert result['evidence']['health']['status'] in ('ok', 'failed')
    assert result['evidence']['health']['data']['checked_by_probes'] == ['db', 'redis']
    assert 'database unreachable: its probe timed out after 3.0 s' in result['severity']['reasons']['P1']
    assert result['evidence']['redis']['status'] == 'ok'
    postgres_state = [s for s in result['evidence']['services']['data']['services'] if s['name'] == 'postgres'][0]
    assert postgres_state['replicas'][0]['state'] == 'paused'
    assert took < 30, took
    dummy, report, timeline = _record(incidents, 'paused-1')
    assert any(e['step'] == 'probe db' and e['detail'].startswith('timed_out in 3000 ms') for e in timeline)
    # Leave the stack healthy: PostgreSQL's own healthcheck failed while paused.
    health = run_playbook('healthcheck.yml', extra=dict(demo_vars, healthcheck_timeout=90), tmp_path=tmp_path)
    assert health.rc == 0, health.output


def _faults(body):
    import urllib.request
    req = urllib.request.Request(BACKEND_URL + '/actuator/faults', data=json.dumps(body).encode(),
                                 headers={'Content-Type': 'application/json'}, method='POST')
    with urllib.request.urlopen(req, timeout=10) as response:
        assert response.status == 200


def test_slow_backend_is_p2(demo_vars, tmp_path):
    _faults({'delay_ms': 2500})  # the stand-in answers every non-actuator request 2.5 s late
    try:
        run = run_playbook('incident.yml', tmp_path=tmp_path, extra=dict(
            demo_vars, incident_dir=str(tmp_path / 'incidents'), incident_id='slow-1',
            incident_probes=['health', 'latency'], incident_latency_path='/api/orders', incident_latency_requests=3))
    finally:
        _faults({'delay_ms': 0})
    assert run.rc != 0 and 'slow-1: P2 (respond within 1 hour)' in run.output, run.output
    result = run.result('incident_evidence')
    latency = result['evidence']['latency']['data']
    # 2.5 s each: the probe stops once its 5 s budget is spent.
    assert latency['requests'] == 2 and latency['failures'] == 0 and latency['p99_ms'] >= 2500
    assert 'stopped after 2 of 3 requests: 5 s budget spent' in result['evidence']['latency']['summary']
    assert result['severity']['level'] == 'P2'
    assert result['severity']['reason'] == 'slow responses: p99 %.0f ms over 2000 ms' % latency['p99_ms']
    assert result['rollback']['indicated'] is False


def _notified(hook, incident_id, level, timeline):
    """The generic webhook got the start, findings and end messages of the run,
    the last two with the severity, and the timeline says each was delivered."""
    assert [b['phase'] for b in hook.bodies] == ['start', 'findings', 'end'], hook.bodies
    assert all(b['incident_id'] == incident_id for b in hook.bodies)
    assert [b['severity'] for b in hook.bodies[1:]] == [level, level]
    sent = dict((e['step'], e['detail']) for e in timeline if e['step'].startswith('notify'))
    for phase in ('start', 'findings', 'end'):
        assert sent['notify ' + phase].startswith('oncall (webhook): delivered (HTTP 200'), sent
    assert [e['time'] for e in timeline] == sorted(e['time'] for e in timeline)


def _receivers(hook):
    return [dict(name='oncall', kind='webhook', url=hook.url)]


def test_redis_stopped_is_p1_notified_and_in_the_timeline(demo_vars, tmp_path):
    from tests.unit.plugins.module_utils.incident.receivers import Receiver
    incidents = str(tmp_path / 'incidents')
    with Receiver() as hook:
        compose('stop', 'redis')
        try:
            run = run_playbook('incident.yml', tmp_path=tmp_path, extra=dict(
                demo_vars, incident_dir=incidents, incident_id='redis-1', incident_latency_requests=3,
                incident_probes=['health', 'services', 'redis', 'deploys'], incident_notify_receivers=_receivers(hook)))
        finally:
            compose('start', 'redis')
    assert run.rc != 0 and 'redis-1: P1 (respond within 15 min)' in run.output, run.output
    result = run.result('incident_evidence')
    reasons = result['severity']['reasons']['P1']
    assert any(r.startswith('Redis unreachable: unable to connect to redis at 127.0.0.1:%d' % REDIS_PORT) for r in reasons), reasons
    assert any(r.startswith('redis is down: %s is exited' % container('redis')) for r in reasons), reasons
    assert result['evidence']['redis']['data'] == {'reachable': False}
    assert 'no rollback: incident_rollback is false' in run.output
    path, report, timeline = _record(incidents, 'redis-1')
    assert report['evidence']['redis']['status'] == 'failed'
    assert 'Redis unreachable' in open(os.path.join(path, 'report.md')).read()
    _notified(hook, 'redis-1', 'P1', timeline)
    assert any(e['step'] == 'probe redis' and e['detail'].startswith('failed in ') for e in timeline)
    health = run_playbook('healthcheck.yml', extra=dict(demo_vars, healthcheck_timeout=90), tmp_path=tmp_path)
    assert health.rc == 0, health.output


def _inspect(container):
    return json.loads(subprocess.run(['docker', 'inspect', container], check=True, capture_output=True,
                                     text=True).stdout)[0]


def _wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, '%s: not within %s s' % (what, timeout)
        time.sleep(0.1)


def test_backend_crash_looping_on_a_bad_env_is_p1_with_restarts_exit_code_and_its_last_words(
        demo_vars, stack, tmp_path):
    """A JWT secret of 64 bits in the env file: the backend stops at start-up
    (jjwt's WeakKeyException, exit 1) and Docker restarts it (restart:
    unless-stopped) again and again: P1 crash loop with the restarts, the exit
    code and the backend's own error line. The env file's bytes go back and the
    backend is recreated, whatever happens."""
    incidents = str(tmp_path / 'incidents')
    env_path = os.path.join(stack['dir'], '.env.prod')
    with open(env_path, 'rb') as handle:
        raw = handle.read()
    bad = b'\n'.join(b'JWT_SECRET=short-secret' if line.startswith(b'JWT_SECRET=') else line
                     for line in raw.split(b'\n'))
    assert bad != raw
    try:
        with open(env_path, 'wb') as handle:
            handle.write(bad)
        compose('up', '-d', '--no-deps', 'backend')
        _wait(lambda: _inspect(_container('backend'))['RestartCount'] >= 3, 60, 'three restarts of the backend')
        run = run_playbook('incident.yml', extra=dict(demo_vars, incident_dir=incidents, incident_id='loop-1',
                                                      incident_latency_requests=3), tmp_path=tmp_path)
    finally:
        with open(env_path, 'wb') as handle:
            handle.write(raw)
        compose('up', '-d', '--no-deps', 'backend')
        _wait(lambda: backend_health() == 'UP', 120, 'the backend answering again')  # before the next test, whatever failed here
    assert run.rc != 0 and 'loop-1: P1 (respond within 15 min)' in run.output, run.output
    result = run.result('incident_evidence')
    reasons = result['severity']['reasons']['P1']
    # The exit code of the last crash comes from its die event: the Engine keeps only its last 256
    # events (a few seconds of health checks of two stacks), so it may be gone, and then is said to be.
    assert any(r.startswith('backend crash loop (%s: ' % container('backend'))
               and ('exit code 1' in r or 'last exit code no longer known' in r) for r in reasons), reasons
    assert not any('exit code 0' in r for r in reasons), reasons
    backend = [s for s in result['evidence']['services']['data']['services'] if s['name'] == 'backend'][0]
    assert not backend['ok'] and backend['replicas'][0]['restart_count'] >= 3
    errors = result['evidence']['logs']['data']['errors']
    assert any('WeakKeyException' in e['message'] or 'Application run failed' in e['message'] for e in errors), errors
    assert 'short-secret' not in run.output and 'short-secret' not in json.dumps(run.records)
    health = run_playbook('healthcheck.yml', extra=dict(demo_vars, healthcheck_timeout=90), tmp_path=tmp_path)
    assert health.rc == 0, health.output


def test_backend_oom_killed_for_real_is_named_and_p2(demo_vars, tmp_path):
    """This engine (Docker 20.10, cgroup v1 memory controller) enforces --memory:
    the backend, limited to 96 MiB, leaks 256 MiB (the stand-in's alloc_mb switch),
    the kernel OOM-kills it, Docker records State.OOMKilled and restarts it."""
    from tests.unit.plugins.module_utils.incident.receivers import Receiver
    incidents = str(tmp_path / 'incidents')
    backend = _container('backend')
    _wait(lambda: backend_health() == 'UP', 120, 'the backend answering')
    subprocess.run(['docker', 'update', '--memory', '96m', '--memory-swap', '96m', backend], check=True,
                   capture_output=True)
    try:
        _faults({'alloc_mb': 256})
        _wait(lambda: _inspect(backend)['State']['OOMKilled'], 30, 'the backend OOM-killed')
        _wait(lambda: _inspect(backend)['State'].get('Health', {}).get('Status') == 'healthy', 60,
              'the backend restarted and healthy')
        state = _inspect(backend)
        assert state['RestartCount'] >= 1 and state['HostConfig']['Memory'] == 96 << 20
        with Receiver() as hook:
            run = run_playbook('incident.yml', tmp_path=tmp_path, extra=dict(
                demo_vars, incident_dir=incidents, incident_id='oom-1', incident_fail=False,
                incident_probes=['health', 'services', 'logs', 'deploys'], incident_notify_receivers=_receivers(hook)))
    finally:
        # A new container: no memory limit, no OOMKilled record.
        compose('up', '-d', '--wait', '--no-deps', '--force-recreate', 'backend')
    assert run.rc == 0, run.output
    result = run.result('incident_evidence')
    replica = [s for s in result['evidence']['services']['data']['services'] if s['name'] == 'backend'][0]['replicas'][0]
    assert replica['oom_killed'] is True and replica['restart_count'] >= 1 and replica['state'] == 'running'
    assert 'OOMKilled: %s' % container('backend') in result['evidence']['services']['summary']
    assert result['severity']['level'] == 'P2', result['severity']
    assert 'backend was OOMKilled (%s); raise its memory limit' % container('backend') in result['severity']['reasons']['P2']
    path, report, timeline = _record(incidents, 'oom-1')
    assert 'OOMKilled' in open(os.path.join(path, 'report.md')).read()
    assert 'backend was OOMKilled' in open(os.path.join(path, 'postmortem.md')).read()
    _notified(hook, 'oom-1', 'P2', timeline)
    assert 'backend was OOMKilled' in hook.bodies[1]['reason']
    assert not _inspect(_container('backend'))['State']['OOMKilled']


BROKEN = 'quickbite/backend:1.2-broken'
# 1.1 whose start fails as a Spring Boot application's does: it exits 1 at once, every time.
BROKEN_DOCKERFILE = '''FROM quickbite/backend:1.1
ENTRYPOINT ["/usr/bin/tini", "--", "python3", "-c", "import sys, time; print(time.strftime('%Y-%m-%dT%H:%M:%S.000Z', \
time.gmtime()) + ' ERROR 1 --- [main] o.s.boot.SpringApplication : Application run failed: \
BeanCreationException: paymentGateway'); sys.exit(1)"]
'''


@pytest.fixture
def broken_deploy(stack, demo_vars, tmp_path):
    """A new backend image that never becomes healthy; afterwards the backend is
    back on the compose file's image, unpinned, and the image is gone."""
    from test_service_ops_compose import _set_env
    subprocess.run(['docker', 'build', '-q', '-t', BROKEN, '-'], input=BROKEN_DOCKERFILE, text=True, check=True,
                   capture_output=True, env=dict(os.environ, DOCKER_BUILDKIT='0'))
    _set_env(stack, 'BACKEND_TAG', BROKEN.split(':')[1])
    try:
        yield
    finally:
        _set_env(stack, 'BACKEND_TAG', None)
        run_playbook('rollback.yml', extra=dict(demo_vars, rollback_unpin=True), tmp_path=tmp_path)
        restored = run_playbook('restart.yml', extra=dict(demo_vars, restart_mode='recreate'), tmp_path=tmp_path)
        subprocess.run(['docker', 'rmi', BROKEN], check=False, capture_output=True)
    assert restored.rc == 0, restored.output


def test_a_bad_deploy_is_rolled_back_when_asked_and_the_stack_is_healthy_after(demo_vars, tmp_path, broken_deploy):
    from tests.unit.plugins.module_utils.incident.receivers import Receiver
    incidents = str(tmp_path / 'incidents')
    # The deploy, through the collection's restart (which records the image it replaces): never healthy.
    deploy = run_playbook('restart.yml', extra=dict(demo_vars, restart_wait_timeout=5), tmp_path=tmp_path)
    assert deploy.rc != 0 and 'backend did not become ready within 5 s' in deploy.output, deploy.output
    with Receiver() as hook:
        run = run_playbook('incident.yml', tmp_path=tmp_path, extra=dict(
            demo_vars, incident_dir=incidents, incident_id='deploy-1', incident_rollback=True, incident_fail=False,
            incident_latency_requests=3, incident_notify_receivers=_receivers(hook)))
    assert run.rc == 0, run.output
    result = run.result('incident_evidence')
    assert result['severity']['level'] == 'P1', result['severity']
    assert any(r.startswith('backend ') for r in result['severity']['reasons']['P1'])
    deployed = result['evidence']['deploys']['data']['services']['backend']
    assert deployed['image'] == BROKEN and deployed['rollback_candidate']['label'].startswith('quickbite/backend:1.0')
    errors = [e['message'] for e in result['evidence']['logs']['data']['errors'] if e['service'] == 'backend']
    assert any('Application run failed: BeanCreationException: paymentGateway' in m for m in errors), errors
    assert result['rollback']['indicated'] is True and result['rollback']['service'] == 'backend'
    assert run.result('rollback')['msg'].startswith('rolled back backend: %s' % BROKEN)
    # Healthy after: the rollback's own verification, then an independent look.
    assert run.result('healthcheck')['status'] == 'UP'
    assert _inspect(_container('backend'))['Config']['Image'] == 'quickbite/backend:1.0'
    health = run_playbook('healthcheck.yml', extra=demo_vars, tmp_path=tmp_path)
    assert health.rc == 0, health.output
    path, report, timeline = _record(incidents, 'deploy-1')
    assert [e['detail'] for e in timeline if e['step'] == 'rollback'] == [
        'rolled back backend to %s' % result['rollback']['target']]
    _notified(hook, 'deploy-1', 'P1', timeline)
    assert 'action: rolled back backend to quickbite/backend:1.0' in '\n'.join(hook.bodies[2]['lines'])
    assert 'rolled back backend to quickbite/backend:1.0' in open(os.path.join(path, 'postmortem.md')).read()
