"""Log Access (playbooks/logs.yml): on the real Compose stack, compared with
`docker compose logs` run independently, and on the Kubernetes emulator."""
import os
import stat
import time
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import compose, run_playbook
from k8s_defaults import emulator, wait_until

pytestmark = [pytest.mark.integration]

BACKEND = 'http://127.0.0.1:18080'


# ------------------------------------------------------------------ helpers

def _grouped(text):
    """`docker compose logs` output -> {container prefix: [lines]}."""
    groups = {}
    for line in text.splitlines():
        prefix, sep, body = line.partition(' | ')
        if not sep and line.rstrip().endswith(' |'):
            prefix, body = line.rstrip()[:-2], ''
        groups.setdefault(prefix.strip(), []).append(body)
    return groups


def _independent(service, *args):
    return _grouped(compose('logs', '--no-color', *(list(args) + [service])).stdout)


def _container_ids():
    return compose('ps', '-q').stdout.split()


def _is_run_of(collected, full):
    """``collected`` appears as consecutive lines in ``full``."""
    if not collected:
        return True
    for start in range(len(full) - len(collected) + 1):
        if full[start:start + len(collected)] == collected:
            return True
    return False


def _stable(attempt, tries=3):
    """Run ``attempt`` again when another test recreated a container meanwhile
    (its logs go with it): the stack is shared with the other procedures' tests."""
    for left in range(tries, 0, -1):
        before = _container_ids()
        result = attempt()
        if _container_ids() == before or left == 1:
            return result
        wait_until(_settled, timeout=120)
    return None


def _settled():
    """Every container of the stack running and healthy (a recreate has finished)."""
    states = compose('ps', '--all', '--format', '{{.State}} {{.Health}}').stdout.split('\n')
    return all(line.split() in (['running', 'healthy'], ['running']) for line in states if line.strip())


def _probe(marker):
    """A request the backend logs (`GET /api/orders/<marker> -> 40x`)."""
    try:
        urllib.request.urlopen('%s/api/orders/%s' % (BACKEND, marker), timeout=5)
    except urllib.error.HTTPError as exc:
        return exc.code
    return 200


def _sections(path):
    """The log file -> {source: [lines]} from its ===== sections."""
    sections, current = {}, None
    with open(path) as handle:
        for line in handle.read().splitlines():
            if line.startswith('===== matches of '):
                break
            if line.startswith('===== ') and line.endswith(' ====='):
                current = line[len('===== '):].split(' (')[0].split(': ', 1)[1]
                sections[current] = []
            elif current is not None:
                sections[current].append(line)
    # Each section ends with one blank separator line.
    return dict((source, lines[:-1]) for source, lines in sections.items())


def _read(path):
    with open(path) as handle:
        return handle.read()


def _logs(tmp_path, extra, **kwargs):
    return run_playbook('logs.yml', extra=extra, tmp_path=tmp_path, **kwargs)


# ------------------------------------------------------------------ compose

@pytest.mark.compose
def test_all_services_tail_and_file_match_docker_compose_logs(demo_vars, stack, tmp_path):
    dest = tmp_path / 'incidents'

    def attempt():
        run = _logs(tmp_path, dict(demo_vars, logs_tail=3, logs_dest_dir=str(dest)))
        assert run.rc == 0, run.output
        result = run.result('logs')
        independent = {}
        for name in result['summary']:
            independent.update(_independent(name))
        return run, result, independent

    run, result, independent = _stable(attempt)
    services = compose('config', '--services').stdout.split()
    assert sorted(result['summary']) == sorted(services)
    assert result['changed'] is True and result['platform'] == 'compose'
    assert os.path.dirname(result['file']) == str(dest)
    name = os.path.basename(result['file'])
    assert name.startswith('quickbite-logs-all-') and name.endswith('Z.log') and len(name) == len(
        'quickbite-logs-all-20260105T101500Z.log')
    assert stat.S_IMODE(os.stat(result['file']).st_mode) == 0o640
    sections = _sections(result['file'])
    assert sorted(sections) == sorted(s['source'] for s in result['sources'])
    for source in result['sources']:
        lines = sections[source['source']]
        full = independent[source['source']]
        # --tail 3 as docker compose applies it: the collected lines are lines of that
        # container's log, consecutive, and min(3, all) of them.
        assert source['lines'] == len(lines) == min(3, len(full)), source
        assert _is_run_of(lines, full), (lines, full[-6:])
    assert result['total_lines'] == sum(len(lines) for lines in sections.values())
    assert 'Written to %s' % result['file'] in run.output
    secrets = [v for k, v in stack['env'].items() if ('PASSWORD' in k or 'SECRET' in k) and len(v) >= 8]
    everything = run.output + repr(run.records)
    assert secrets and not [s for s in secrets if s in everything]


@pytest.mark.compose
def test_one_service_since_and_a_pattern_the_backend_really_logs(demo_vars, tmp_path):
    old, new = 'probe-%s' % uuid.uuid4().hex[:12], 'probe-%s' % uuid.uuid4().hex[:12]

    def attempt():
        assert _probe(old) in (401, 403, 404)
        # Not a wait for a condition: the test needs the old probe 8 s in the past,
        # outside the 6 s window of logs_since, and the new one inside it.
        time.sleep(8)
        assert _probe(new) in (401, 403, 404)
        started = time.time()
        run = _logs(tmp_path, dict(demo_vars, logs_services=['backend'], logs_since='6s', logs_tail=0,
                                   logs_pattern='%s|%s' % (old, new), logs_context_lines=2,
                                   logs_dest_dir=str(tmp_path)))
        assert run.rc == 0, run.output
        return run, started, _independent('backend')

    run, started, full = _stable(attempt)
    result = run.result('logs')
    assert list(result['summary']) == ['backend'] and set(s['service'] for s in result['sources']) == {'backend'}
    assert os.path.basename(result['file']).startswith('quickbite-logs-backend-')
    # --since: the new probe is in, the one from 8 s before is not (while the full log has both).
    matched = [m['line'] for m in result['matches']]
    assert len(matched) == 1 and new in matched[0] and 'GET /api/orders/%s -> 40' % new in matched[0]
    assert any(old in line for lines in full.values() for line in lines)
    sections = _sections(result['file'])
    for source, lines in sections.items():
        assert _is_run_of(lines, full[source])
        # Spring Boot lines start with their UTC timestamp: none older than the window.
        stamps = [time.mktime(time.strptime(line[:19], '%Y-%m-%dT%H:%M:%S')) - time.timezone
                  for line in lines if line[:4].isdigit()]
        assert stamps and min(stamps) >= started - 6 - 10 - 1, (started, lines[:2])
    match = result['matches'][0]
    assert match['source'] in sections and sections[match['source']][match['line_number'] - 1] == match['line']
    assert len(match['context_before']) == min(2, match['line_number'] - 1)
    assert result['summary']['backend']['matches'] == 1 and result['total_matches'] == 1
    text = _read(result['file'])
    assert '===== matches of /%s|%s/i (1, grep -n -C 2) =====' % (old, new) in text
    assert '%d:%s' % (match['line_number'], match['line']) in result['report_lines']


@pytest.mark.compose
def test_secrets_a_container_prints_are_masked_in_output_results_and_file(demo_vars, tmp_path):
    """Issue 10, item 19: a service that prints JWT_SECRET (here written to the
    backend's PID 1 stdout, which is what `docker logs` keeps) has it masked in
    the playbook's output, the returned values and the written file."""
    marker = 'mask-%s' % uuid.uuid4().hex[:12]
    compose('exec', '-T', 'backend', 'sh', '-c',
            'echo "%s JWT_SECRET=$JWT_SECRET DB_PASSWORD=$DB_PASSWORD" > /proc/1/fd/1' % marker)
    printed = compose('exec', '-T', 'backend', 'printenv', 'JWT_SECRET', 'DB_PASSWORD').stdout.split()
    assert len(printed) == 2 and all(len(value) >= 32 for value in printed)
    assert '%s JWT_SECRET=%s DB_PASSWORD=%s' % (marker, printed[0], printed[1]) in compose(
        'logs', '--no-color', '--tail', '200', 'backend').stdout  # the container's log holds the values
    run = _logs(tmp_path, dict(demo_vars, logs_services=['backend'], logs_tail=200, logs_pattern=marker,
                               logs_dest_dir=str(tmp_path)))
    assert run.rc == 0, run.output
    result = run.result('logs')
    assert result['total_matches'] == 1
    assert result['matches'][0]['line'].endswith('%s JWT_SECRET=******** DB_PASSWORD=********' % marker)
    text = _read(result['file'])
    assert '%s JWT_SECRET=******** DB_PASSWORD=********' % marker in text
    everything = run.output + repr(run.records) + text
    assert not [value for value in printed if value in everything]


@pytest.mark.compose
def test_check_mode_collects_and_searches_but_writes_no_file(demo_vars, tmp_path):
    dest = tmp_path / 'not-created'
    run = _logs(tmp_path, dict(demo_vars, logs_tail=5, logs_pattern='.', logs_dest_dir=str(dest)), check=True)
    assert run.rc == 0, run.output
    result = run.result('logs')
    assert result['file'] is None and result['changed'] is True
    assert result['would_write'].startswith(str(dest) + '/quickbite-logs-all-')
    assert result['total_lines'] > 0 and result['total_matches'] == result['total_lines']
    assert not dest.exists()
    assert 'Check mode: no file written' in run.output


@pytest.mark.compose
@pytest.mark.parametrize('extra, words', [
    (dict(logs_selector='app=quickbite-backend'), ['logs_selector', 'Kubernetes only']),
    (dict(logs_since='an hour'), ['logs_since', '2h30m']),
    (dict(logs_pattern='(error'), ['logs_pattern', 'not a valid regular expression']),
    (dict(logs_services=['backend', 'worker']), ['unknown service(s) worker']),
    (dict(logs_tail=-1), ['logs_tail', '0 or more']),
])
def test_bad_input_fails_naming_the_variable(demo_vars, tmp_path, extra, words):
    run = _logs(tmp_path, dict(demo_vars, logs_dest_dir=str(tmp_path / 'out'), **extra))
    assert run.rc != 0
    for word in words:
        assert word in run.output, run.output[-2000:]
    assert not (tmp_path / 'out').exists()


# --------------------------------------------------------------- kubernetes

@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    with emulator(tmp_path_factory) as k8s:
        yield k8s


def _k8s_logs(k8s, tmp_path, check=False, **extra):
    base = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, logs_dest_dir=str(tmp_path))
    base.update(extra)
    return run_playbook('logs.yml', inventory='inventory/k8s', extra=base, tmp_path=tmp_path, check=check)


def _pods(k8s, selector):
    return sorted(p['metadata']['name'] for p in k8s.emulator.list('pods', label_selector=selector))


@pytest.mark.k8s
def test_every_pod_of_the_deployment_not_only_the_first(k8s, tmp_path):
    pods = _pods(k8s, 'app=quickbite-backend')
    assert len(pods) == 3
    k8s.emulator.append_log('quickbite-backend', ['2026-01-05T10:00:00.000Z ERROR 1 --- injected failure'])
    run = _k8s_logs(k8s, tmp_path, logs_services=['backend'])
    assert run.rc == 0, run.output
    result = run.result('logs')
    assert [s['source'] for s in result['sources']] == pods
    assert all(s['service'] == 'backend' and s['matches'] == 1 for s in result['sources'])
    assert result['summary'] == {'backend': dict(sources=3, lines=result['total_lines'], matches=3)}
    assert sorted(m['source'] for m in result['matches']) == pods
    lines = dict((s['source'], s['lines']) for s in result['sources'])
    # The appended line is each pod's last: 3 lines of context before, none after.
    assert all(m['line_number'] == lines[m['source']] and len(m['context_before']) == 3 and not m['context_after']
               for m in result['matches'])
    sections = _sections(result['file'])
    assert sorted(sections) == pods
    for pod in pods:
        assert sections[pod][-1] == '2026-01-05T10:00:00.000Z ERROR 1 --- injected failure'
        assert any('Started QuickBiteApplication' in line for line in sections[pod])


@pytest.mark.k8s
def test_all_services_and_a_label_selector(k8s, tmp_path):
    run = _k8s_logs(k8s, tmp_path, logs_pattern='Started QuickBiteApplication')
    assert run.rc == 0, run.output
    result = run.result('logs')
    assert sorted(result['summary']) == ['backend', 'frontend', 'postgres', 'redis']
    assert [s['source'] for s in result['sources'] if s['service'] == 'backend'] == _pods(k8s, 'app=quickbite-backend')
    assert result['summary']['backend']['matches'] == 3 and result['summary']['frontend']['sources'] == 2
    assert result['total_matches'] == 3

    selector = 'app in (redis,postgres)'
    run = _k8s_logs(k8s, tmp_path, logs_selector=selector, logs_pattern='ready to accept connections')
    assert run.rc == 0, run.output
    result = run.result('logs')
    assert list(result['summary']) == [selector]
    assert [s['source'] for s in result['sources']] == _pods(k8s, selector) and len(result['sources']) == 2
    assert result['total_matches'] == 2  # "ready to accept ..." (postgres) and "Ready to accept ..." (redis)
    assert os.path.basename(result['file']).startswith('quickbite-logs-selector-app_in_redis_postgres_-')


@pytest.mark.k8s
def test_tail_and_since(k8s, tmp_path):
    k8s.emulator.append_log('redis', ['fresh line %d' % n for n in range(5)])
    run = _k8s_logs(k8s, tmp_path, logs_services=['redis'], logs_tail=2, logs_pattern='')
    assert run.rc == 0, run.output
    source = run.result('logs')['sources'][0]
    assert source['lines'] == 2 and _sections(run.result('logs')['file'])[source['source']] == [
        'fresh line 3', 'fresh line 4']
    # The seeded pods started an hour ago: their start-up lines are outside 10m.
    run = _k8s_logs(k8s, tmp_path, logs_services=['redis'], logs_tail=0, logs_since='10m', logs_pattern='')
    assert run.rc == 0, run.output
    assert list(_sections(run.result('logs')['file']).values()) == [['fresh line %d' % n for n in range(5)]]
    run = _k8s_logs(k8s, tmp_path, logs_services=['redis'], logs_tail=0, logs_pattern='')
    assert run.result('logs')['total_lines'] > 5
    assert 'Ready to accept connections' in _read(run.result('logs')['file'])


@pytest.mark.k8s
def test_previous_returns_the_crashed_containers_logs(k8s, tmp_path):
    fatal = 'FATAL backend cannot start: injected by the logs test'
    k8s.emulator.set_crashloop('quickbite-backend', True, log_lines=[fatal])
    wait_until(lambda: all(p['status']['containerStatuses'][0]['restartCount'] > 0
                           for p in k8s.emulator.list('pods', label_selector='app=quickbite-backend')), timeout=15)
    k8s.emulator.set_crashloop('quickbite-backend', False)
    wait_until(lambda: k8s.emulator.rollout_complete('quickbite-backend')
               and all(c['ready'] for p in k8s.emulator.list('pods', label_selector='app=quickbite-backend')
                       for c in p['status']['containerStatuses']), timeout=15)

    run = _k8s_logs(k8s, tmp_path, logs_services=['backend'], logs_previous=True, logs_pattern='fatal')
    assert run.rc == 0, run.output
    result = run.result('logs')
    assert len(result['sources']) == 3 and all(s['matches'] == 1 for s in result['sources'])
    assert all(m['line'] == fatal for m in result['matches'])

    # The running containers, restarted healthy, do not carry it.
    run = _k8s_logs(k8s, tmp_path, logs_services=['backend'], logs_pattern='fatal')
    assert run.rc == 0, run.output
    assert run.result('logs')['total_matches'] == 0 and run.result('logs')['total_lines'] > 0


@pytest.mark.k8s
def test_previous_without_a_crashed_container_says_so_per_pod(k8s, tmp_path):
    # kubectl logs --previous fails outright; here the pod is reported, the run goes on.
    run = _k8s_logs(k8s, tmp_path, logs_services=['redis'], logs_previous=True)
    assert run.rc == 0, run.output
    source = run.result('logs')['sources'][0]
    assert source['source'] == _pods(k8s, 'app=redis')[0] and source['lines'] == 0
    assert source['note'] == 'no previous container (never restarted)'
    assert any('(no previous container (never restarted))' in line for line in run.result('logs')['report_lines'])


@pytest.mark.k8s
def test_check_mode_and_unknown_service(k8s, tmp_path):
    run = _k8s_logs(k8s, tmp_path, check=True, logs_services=['backend'], logs_dest_dir=str(tmp_path / 'none'))
    assert run.rc == 0, run.output
    result = run.result('logs')
    assert result['file'] is None and len(result['sources']) == 3 and not (tmp_path / 'none').exists()

    run = _k8s_logs(k8s, tmp_path, logs_services=['worker'])
    assert run.rc != 0 and 'unknown service worker' in run.output
