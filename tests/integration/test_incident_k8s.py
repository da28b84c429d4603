"""Incident evidence on the Kubernetes path, against the API emulator
(tests/k8s_emulator): crash loop, unready pods, a failed rollout (the bad
deploy), OOMKilled last state, Warning events. The
probes that need no stack (services, logs, deploys) only: no stack lock."""
import json
import os
import time

import pytest

from conftest import run_playbook
from k8s_defaults import emulator, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

PROBES = ['services', 'logs', 'deploys']


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    with emulator(tmp_path_factory) as k8s:
        yield k8s


_wait = wait_until


def _run(k8s, tmp_path, incident_id, **extra):
    variables = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, incident_dir=str(tmp_path / 'incidents'),
                     incident_id=incident_id, incident_probes=PROBES, incident_deploy_services=['backend'])
    variables.update(extra)
    return run_playbook('incident.yml', inventory='inventory/k8s', extra=variables, tmp_path=tmp_path)


def _service(result, name):
    return [s for s in result['evidence']['services']['data']['services'] if s['name'] == name][0]


def test_crash_loop_is_p1_with_restarts_exit_code_and_warning_events(k8s, tmp_path):
    k8s.emulator.set_crashloop('quickbite-backend', True, log_lines=['ERROR payment gateway unreachable: boom'])
    _wait(lambda: all(p['status']['containerStatuses'][0]['restartCount'] >= 3
                      for p in k8s.emulator.list('pods', label_selector='app=quickbite-backend')))
    run = _run(k8s, tmp_path, 'crash-1')
    assert run.rc != 0 and 'crash-1: P1 (respond within 15 min)' in run.output, run.output
    result = run.result('incident_evidence')
    assert result['platform'] == 'k8s' and result['severity']['level'] == 'P1'
    backend = _service(result, 'backend')
    assert not backend['ok'] and len(backend['replicas']) == 3
    for rep in backend['replicas']:
        assert rep['restart_count'] >= 3 and rep['last_reason'] == 'Error' and rep['exit_code'] == 1
        assert rep['oom_killed'] is False
    assert any(r.startswith('backend crash loop (') for r in result['severity']['reasons']['P1'])
    events = result['evidence']['services']['data']['events']
    assert events and all(e['reason'] == 'BackOff' for e in events)
    assert all(e['object'].startswith('pod/quickbite-backend-') for e in events)
    errors = result['evidence']['logs']['data']['errors']
    assert errors[0]['service'] == 'backend' and errors[0]['message'] == 'ERROR payment gateway unreachable: boom'
    with open(os.path.join(str(tmp_path / 'incidents'), 'crash-1', 'timeline.jsonl')) as handle:
        steps = [json.loads(line)['step'] for line in handle]
    assert sorted(steps) == sorted(['notify start', 'detected', 'probe services', 'probe logs', 'probe deploys',
                                    'severity', 'notify findings', 'rollback', 'notify end'])


def test_unready_pods_are_named_and_p2(k8s, tmp_path):
    """Pods that run but never pass their readiness probe: the service is
    degraded (P2), each replica named with its state, nothing rolled back."""
    k8s.emulator.set_unready('quickbite-frontend', True)
    _wait(lambda: not any(c['type'] == 'Ready' and c['status'] == 'True'
                          for p in k8s.emulator.list('pods', label_selector='app=quickbite-frontend')
                          for c in (p.get('status') or {}).get('conditions', [])))
    run = _run(k8s, tmp_path, 'unready-1', incident_fail=False)
    assert run.rc == 0, run.output
    result = run.result('incident_evidence')
    frontend = _service(result, 'frontend')
    assert not frontend['ok'] and frontend['replicas']
    assert all(r['state'] == 'Running' and r['last_reason'] == 'not Ready' for r in frontend['replicas'])
    assert '0 of %d replicas ready' % len(frontend['replicas']) in frontend['problems']
    assert result['severity']['level'] == 'P2'
    assert any(r.startswith('frontend degraded: ') for r in result['severity']['reasons']['P2']), result['severity']
    assert any('Readiness probe failed' in r for r in result['severity']['reasons']['P3'])  # the Warning events


def test_oomkilled_last_state_is_named_and_p2(k8s, tmp_path):
    emulator = k8s.emulator
    with emulator._lock:  # pylint: disable=protected-access  # the emulator has no OOM switch: set the kubelet's record
        now = emulator.now()
        for dummy, sim in emulator._pods_for('quickbite-backend'):  # pylint: disable=protected-access
            sim.last_terminated = (now - 60, now - 30, 137, 'OOMKilled')
    emulator._wake.set()  # pylint: disable=protected-access
    _wait(lambda: all((p['status']['containerStatuses'][0].get('lastState') or {}).get('terminated', {}).get('reason')
                      == 'OOMKilled' for p in emulator.list('pods', label_selector='app=quickbite-backend')))
    run = _run(k8s, tmp_path, 'oom-1', incident_fail=False)
    assert run.rc == 0, run.output
    result = run.result('incident_evidence')
    backend = _service(result, 'backend')
    assert backend['ok'] and all(r['oom_killed'] and r['exit_code'] == 137 for r in backend['replicas'])
    assert result['severity']['level'] == 'P2'
    assert any(r.startswith('backend was OOMKilled') for r in result['severity']['reasons']['P2'])
    assert result['evidence']['deploys']['data']['services']['backend']['revision']


def test_notifications_reach_a_flaky_receiver_and_a_hung_one_never_stops_the_run(k8s, tmp_path):
    from tests.unit.plugins.module_utils.incident.receivers import Hanging, Receiver
    k8s.emulator.set_crashloop('quickbite-backend', True)
    _wait(lambda: all(p['status']['containerStatuses'][0]['restartCount'] >= 3
                      for p in k8s.emulator.list('pods', label_selector='app=quickbite-backend')))
    # Fails twice (the start message's first two attempts), then accepts everything.
    with Receiver(failures=2) as slack, Hanging() as hung:
        started = time.monotonic()
        run = _run(k8s, tmp_path, 'notify-1', incident_fail=False, incident_notify_timeout=1,
                   incident_notify_deadline=4, incident_notify_retries=3,
                   incident_notify_receivers=[dict(name='oncall', kind='slack', url=slack.url),
                                              dict(name='pager', kind='webhook', url=hung.url)])
        took = time.monotonic() - started
    assert run.rc == 0, run.output
    assert took < 60, took
    titles = [b['text'] for b in slack.bodies]
    assert titles == ['Incident notify-1: collecting evidence on namespace quickbite at %s' % k8s.url,
                      'P1 incident notify-1: ' + run.result('incident_evidence')['severity']['reason'],
                      'P1 incident notify-1: run ended']
    assert all([b['type'] for b in body['blocks']] == ['header', 'section', 'context'] for body in slack.bodies)
    assert 'record: %s/notify-1' % (tmp_path / 'incidents') in slack.bodies[2]['blocks'][1]['text']['text']
    assert slack.url not in run.output and hung.url not in run.output
    assert 'notification to pager (webhook) failed' in run.output
    with open(os.path.join(str(tmp_path / 'incidents'), 'notify-1', 'timeline.jsonl')) as handle:
        notes = [json.loads(line) for line in handle]
    sent = [(n['step'], n['detail']) for n in notes if n['step'].startswith('notify')]
    assert ('notify start', 'oncall (slack): delivered (HTTP 200, attempt 3)') in sent
    assert ('notify findings', 'oncall (slack): delivered (HTTP 200, attempt 1)') in sent
    assert len([s for s in sent if s[1].startswith('pager (webhook): not delivered')]) == 3


def test_a_bad_deploy_is_rolled_back_when_asked(k8s, tmp_path):
    dep = 'quickbite-backend'
    image_v1 = k8s.emulator.get('deployments', dep)['spec']['template']
    k8s.emulator.fail_new_pods(dep, True)  # the next revision's pods never become Ready
    k8s.emulator.set_progress_deadline(2)
    try:
        deploy = run_playbook('restart.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                              extra=dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, restart_wait_timeout=30))
        assert deploy.rc != 0  # revision 2 stalls: the bad deploy
        assert k8s.emulator.get('deployments', dep)['metadata']['annotations'][
            'deployment.kubernetes.io/revision'] == '2'
        run = _run(k8s, tmp_path, 'deploy-1', incident_rollback=True, incident_fail=False,
                   incident_probes=['services', 'deploys'], healthcheck_checks=['platform'])
    finally:
        k8s.emulator.set_progress_deadline(None)
    assert run.rc == 0, run.output
    result = run.result('incident_evidence')
    assert result['severity']['level'] in ('P1', 'P2')
    assert result['rollback']['indicated'] is True and result['rollback']['target'] == 'revision 1 (quickbite/backend:1.0)'
    assert run.result('rollback')['msg'].startswith('rolled back backend: revision 2')
    template = k8s.emulator.get('deployments', dep)['spec']['template']
    assert template['spec']['containers'][0]['image'] == image_v1['spec']['containers'][0]['image']
    assert run.result('healthcheck')['status'] == 'UP'
    with open(os.path.join(str(tmp_path / 'incidents'), 'deploy-1', 'timeline.jsonl')) as handle:
        notes = [json.loads(line) for line in handle]
    assert [n['detail'] for n in notes if n['step'] == 'rollback'] == ['rolled back backend to revision 1 (quickbite/backend:1.0)']
    k8s.emulator.fail_new_pods(dep, False)


def test_no_rollback_without_a_recent_change_says_why(k8s, tmp_path):
    k8s.emulator.set_crashloop('quickbite-backend', True)
    _wait(lambda: all(p['status']['containerStatuses'][0]['restartCount'] >= 3
                      for p in k8s.emulator.list('pods', label_selector='app=quickbite-backend')))
    run = _run(k8s, tmp_path, 'nodeploy-1', incident_rollback=True, incident_fail=False,
               incident_probes=['services', 'deploys'])
    assert run.rc == 0, run.output
    rollback = run.result('incident_evidence')['rollback']
    assert rollback['indicated'] is False
    assert rollback['why'].startswith('backend changed at ') and 'but has no rollback target' in rollback['why']
    assert 'no rollback: backend changed at' in run.output


def test_receivers_as_a_survey_gives_them_a_json_string_and_anything_else_refused(k8s, tmp_path):
    """An AWX survey answers incident_notify_receivers (a password question) with a
    string: the list as JSON is read as the list; a JSON object is refused by name."""
    from tests.unit.plugins.module_utils.incident.receivers import Receiver
    with Receiver() as hook:
        answer = json.dumps([dict(name='oncall', kind='webhook', url=hook.url)])
        run = _run(k8s, tmp_path, 'survey-1', incident_fail=False, incident_probes=['services'],
                   incident_notify_receivers=answer)
        assert run.rc == 0, run.output
        assert len(hook.bodies) == 3 and hook.url not in run.output + json.dumps(run.records)
        run = _run(k8s, tmp_path, 'survey-2', incident_probes=['services'],
                   incident_notify_receivers=json.dumps(dict(name='oncall', url=hook.url)))
        assert run.rc != 0 and 'incident_notify_receivers must be a list of receivers' in run.output
        assert len(hook.bodies) == 3 and hook.url not in run.output
