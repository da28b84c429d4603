"""The Compose adapter's one read path (_compose_read): both sources give the
same snapshot of the recorded states, the snapshot cannot be changed, and the
one cache is invalidated by every write the adapter makes."""
import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.platform import _compose_read
from ansible_collections.quickbite.ops.plugins.module_utils.platform._compose_read import (
    CliSource, ComposeReader, Container, EngineSource, ReadCache)
from tests.unit.plugins.module_utils.platform.test_compose import _adapter_and_module
from tests.unit.plugins.module_utils.platform.test_docker_api import STATES, FakeEngine, _containers, _inspect_for, _ps

SAME = ('service', 'name', 'state', 'health', 'exit_code', 'restart_count', 'image', 'config_hash', 'inspected')


class _RecordedCli(object):
    """A ComposeCLI whose ps answers with the recorded ``compose ps`` rows."""

    project_name = 'quickbite'
    checked = True

    def __init__(self, rows):
        self._rows = rows

    def ps(self, preflight=True):
        return self._rows

    def check_local(self):
        pass

    def services(self, preflight=True):
        return ['postgres', 'redis', 'backend', 'frontend']

    def inspect(self, ids):
        assert not ids, 'inspect=False asks for none'
        return []


@pytest.mark.parametrize('state', STATES)
def test_the_engine_and_the_cli_give_the_same_snapshot(state):
    cli = _RecordedCli(_ps(state))
    by_cli = ComposeReader(cli).snapshot(inspect=False)
    by_engine = ComposeReader(cli, FakeEngine(_containers(state))).snapshot(inspect=False)
    assert by_cli.services == by_engine.services == ('postgres', 'redis', 'backend', 'frontend')
    for service in by_cli.services:
        ours = [tuple(getattr(c, f) for f in SAME) for c in by_engine.of(service)]
        assert ours == [tuple(getattr(c, f) for f in SAME) for c in by_cli.of(service)] and ours
        assert all(c.config_hash for c in by_cli.of(service)), 'read from the CLI label string'
    # Only the Engine lists image IDs (the CLI's rows have none) and full container IDs.
    assert all(c.image_id.startswith('sha256:') for c in by_engine.containers)


def test_a_snapshot_cannot_be_changed():
    snapshot = ComposeReader(_RecordedCli(_ps('healthy'))).snapshot(inspect=False)
    with pytest.raises(AttributeError):
        snapshot.containers[0].state = 'exited'
    with pytest.raises(AttributeError):
        snapshot.services = ('backend',)
    with pytest.raises(TypeError):
        snapshot.containers[0] = None


def test_an_engine_that_fails_leaves_the_cli_for_the_rest_of_the_run():
    cli = _RecordedCli(_ps('healthy'))
    reader = ComposeReader(cli, FakeEngine(error='docker socket: refused'))
    assert isinstance(reader.source, EngineSource)
    assert len(reader.snapshot(inspect=False).containers) == 4
    assert isinstance(reader.source, CliSource) and reader.engine is None


def test_the_cache_key_is_the_service_and_a_project_write_drops_everything():
    cache = ReadCache()
    cache.put('services', None, ['backend', 'redis'])
    cache.put('workload', 'backend', {'replicas': 1})
    cache.put('workload', 'redis', {'replicas': 1})
    cache.written('backend')
    assert cache.get('workload', 'backend') is None
    assert cache.get('workload', 'redis') == {'replicas': 1} and cache.get('services') == ['backend', 'redis']
    cache.written()
    assert cache.get('workload', 'redis') is None and cache.get('services') is None


def test_gather_keeps_the_order_and_raises_the_first_failure():
    assert _compose_read.gather(lambda: 1, None, lambda: 3) == [1, None, 3]
    ended = []

    def fails(what):
        def call():
            ended.append(what)
            raise ValueError(what)
        return call
    with pytest.raises(ValueError, match='first'):
        _compose_read.gather(fails('first'), fails('second'))
    assert sorted(ended) == ['first', 'second'], 'every call ends before the failure is raised'


def test_inspect_replaces_what_the_list_shows():
    listed = Container.from_row(dict(ID='abc', Name='quickbite-backend-1', Service='backend', State='running',
                                     Health='starting', Image='quickbite/backend:1.0'))
    assert (listed.restart_count, listed.image_id, listed.inspected) == (0, None, False)
    info = dict(Id='abc' + '0' * 61, Name='/quickbite-backend-1', RestartCount=3, Image='sha256:' + 'f' * 64,
                Config={'Image': 'quickbite/backend:1.0'}, State=dict(Status='running', Restarting=True))
    seen = listed.with_inspect(info)
    assert (seen.state, seen.restart_count, seen.image_id, seen.inspected) == ('restarting', 3, 'sha256:' + 'f' * 64, True)
    assert seen.replica()['reason'] == 'restarting' and not seen.replica()['ready']


def _count(module, *words):
    return len([c for c in module.calls if all(w in c for w in words)])


def _planned_adapter(tmp_path):
    containers = _containers('healthy')
    adapter, module = _adapter_and_module(tmp_path, engine=FakeEngine(containers), inspect=_inspect_for(containers))
    module.replies[:0] = [(('--dry-run', 'up', '-d', '--no-deps', '--scale', 'backend=1', 'backend'), (0, '', '')),
                          (('--force-recreate', '--scale', 'backend=1', 'backend'), (0, '', '')),
                          (('stop', 'backend'), (0, '', '')), (('start', 'backend'), (0, '', ''))]
    return adapter, module


def test_what_a_plan_read_is_served_until_the_next_write(tmp_path):
    adapter, module = _planned_adapter(tmp_path)
    planned = adapter.workload('backend')
    assert adapter.workload('backend') is planned and _count(module, '--dry-run') == 1
    adapter.restart('backend')  # a write to backend
    again = adapter.workload('backend')
    assert again is not planned and _count(module, '--dry-run') == 2
    token = adapter.stop('backend')
    assert adapter.workload('backend') is not again and _count(module, '--dry-run') == 3
    adapter.start('backend', token)
    assert _count(module, '--dry-run') == 3
    adapter.workload('backend')
    assert _count(module, '--dry-run') == 4


def test_the_service_list_is_read_once_until_a_project_write(tmp_path):
    adapter, module = _planned_adapter(tmp_path)
    assert adapter.service_names() == ['postgres', 'redis', 'backend', 'frontend']
    adapter.services(detail=False)
    adapter.restart('backend')  # a write to one service: the list stands
    adapter.services(detail=False)
    assert _count(module, 'config', '--services') == 1
    adapter.set_config('DB_PASSWORD', 'new')  # the env file: a write to the whole project
    adapter.services(detail=False)
    assert _count(module, 'config', '--services') == 2
    adapter.restore_config(adapter.config_snapshot(['DB_PASSWORD']))
    adapter.service_names()
    assert _count(module, 'config', '--services') == 3
