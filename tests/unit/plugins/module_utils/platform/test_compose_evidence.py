"""ComposeAdapter.incident_state over recorded Engine states (the state-only
inspect of the reference stack, tests/unit/fixtures/compose/2.40.3/):
OOMKilled, exit code and restart count as the Engine reports them."""
import json

from tests.unit.plugins.module_utils.platform.test_compose import _adapter_and_module, _read


def _inspect(change):
    rows = [json.loads(line) for line in _read('2.40.3', 'inspect.json').splitlines()]
    for row in rows:
        change(row)
    return '\n'.join(json.dumps(r) for r in rows)


def test_an_oom_killed_container_is_named_with_its_exit_code_and_restarts(tmp_path):
    def oom(row):
        if row['Name'].endswith('backend-1'):
            row['State'].update(Status='exited', Running=False, ExitCode=137, OOMKilled=True,
                                FinishedAt='2026-11-30T03:14:59.5Z')
            row['State'].pop('Health', None)
            row['RestartCount'] = 2
    adapter, module = _adapter_and_module(tmp_path, inspect=_inspect(oom))
    state = adapter.incident_state()
    services = dict((s['name'], s) for s in state['services'])
    assert sorted(services) == ['backend', 'frontend', 'postgres', 'redis'] and state['events'] == []
    backend = services['backend']
    assert not backend['ok'] and backend['problems'] == ['quickbite-backend-1 is exited (exit code 137), restarts 2']
    assert backend['replicas'] == [dict(name='quickbite-backend-1', state='exited', restart_count=2, exit_code=137,
                                        oom_killed=True, last_reason='OOMKilled', started='2026-11-29T05:16:28.251509573Z',
                                        finished='2026-11-30T03:14:59.5Z', error=None, image='quickbite/backend:1.0')]
    redis = services['redis']['replicas'][0]
    assert services['redis']['ok'] and redis['oom_killed'] is False and redis['last_reason'] is None
    inspect = [c for c in module.calls if c[1] == 'inspect']
    assert len(inspect) == 1 and inspect[0][2] == '--format', 'one state-only inspect, never Config.Env'


def test_a_container_never_started_has_no_times(tmp_path):
    def created(row):
        if row['Name'].endswith('redis-1'):
            row['State'].update(Status='created', Running=False, StartedAt='0001-01-01T00:00:00Z',
                                FinishedAt='0001-01-01T00:00:00Z')
    adapter, dummy = _adapter_and_module(tmp_path, inspect=_inspect(created))
    redis = adapter.incident_state(['redis'])['services'][0]['replicas'][0]
    assert redis['state'] == 'created' and redis['started'] is None and redis['finished'] is None


def _running_again(row):
    if row['Name'].endswith('backend-1'):
        row['State'].update(Status='running', Running=True, ExitCode=0, FinishedAt='2026-11-30T03:14:59.5Z')
        row['RestartCount'] = 4


def _with_events(adapter, module, reply):
    original = module.run_command

    def run_command(argv, cwd=None, **kwargs):
        if argv[1] == 'events':
            module.calls.append(list(argv))
            return reply
        return original(argv, cwd=cwd, **kwargs)
    module.run_command = run_command


def test_a_container_running_again_gets_its_last_exit_code_from_its_die_event(tmp_path):
    """The Engine sets State.ExitCode to 0 when it starts a container again: between
    two crashes of a crash loop the code of the last one is in its die event."""
    adapter, module = _adapter_and_module(tmp_path, inspect=_inspect(_running_again))
    die = {'status': 'die', 'Action': 'die', 'Actor': {'ID': 'x', 'Attributes': {'exitCode': '1', 'name': 'b'}}}
    _with_events(adapter, module, (0, json.dumps(die) + '\n', ''))
    backend = adapter.incident_state(['backend'])['services'][0]['replicas'][0]
    assert backend['state'] == 'running' and backend['restart_count'] == 4 and backend['exit_code'] == 1
    events = [c for c in module.calls if c[1] == 'events'][0]
    # A window around FinishedAt (2026-11-30T03:14:59.5Z = 1796008499.5), ending in the past: the command returns.
    assert events[2:6] == ['--since', '1796008497.500', '--until', '1796008501.500']
    assert 'event=die' in events and [a for a in events if a.startswith('container=')]


def test_a_running_container_whose_die_event_is_gone_has_no_exit_code_not_zero(tmp_path):
    adapter, module = _adapter_and_module(tmp_path, inspect=_inspect(_running_again))
    _with_events(adapter, module, (0, '', ''))
    backend = adapter.incident_state(['backend'])['services'][0]['replicas'][0]
    assert backend['exit_code'] is None
