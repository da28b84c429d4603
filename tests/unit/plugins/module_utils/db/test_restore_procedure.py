"""pg_restore's procedure over an in-memory platform and database: any
exception (KeyboardInterrupt and SystemExit included) puts things back and is
re-raised; a recorded interrupted restore is finished or put back by the next
run; derived names that exist already are refused, never dropped. The same
paths run for real in tests/integration/test_restore_state_compose.py."""
import datetime

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.db import restore as procedure
from ansible_collections.quickbite.ops.plugins.module_utils.db.names import swap_names
from ansible_collections.quickbite.ops.plugins.module_utils.db.restore_state import state_key
from ansible_collections.quickbite.ops.plugins.module_utils.db.integrity import CorruptBackup
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, VerificationError
from tests.unit.fakes import FakeAdapter, FreeLock, MemoryStore

_REAL_DATETIME = datetime.datetime


class _Adapter(FakeAdapter):
    def __init__(self, replicas=2):
        super(_Adapter, self).__init__()
        self.running = {'backend': replicas}
        self._store = MemoryStore()

    def store(self):
        return self._store

    def lock(self, procedure_name, ttl=3600):
        return FreeLock()

    def services(self, names, detail=True):
        return [dict(name=n, desired=None, replicas=[dict(state='running')] * self.running[n]) for n in names]

    def stop(self, service):
        count, self.running[service] = self.running[service], 0
        return dict(service=service, replicas=count)

    def start(self, service, token):
        self.running[service] = token['replicas']

    def wait(self, service, timeout, replicas=None):
        assert self.running[service] == replicas


class _Db(object):
    """Databases as {name: contents}."""

    def __init__(self, dbs):
        self.dbs = dict(dbs)

    def exists(self, name):
        return name in self.dbs

    def create(self, name):
        assert name not in self.dbs
        self.dbs[name] = 'empty'

    def drop(self, name):
        self.dbs.pop(name, None)

    def rename(self, old, new):
        assert new not in self.dbs
        self.dbs[new] = self.dbs.pop(old)

    def inspect(self, name):
        return dict(orders=1), '4', 0

    def holds_nothing(self, name):
        return self.dbs[name] == 'empty'


class _Target(object):
    dbname = 'quickbite'


class _Client(object):
    target = _Target()

    def __init__(self, db):
        self.db = db

    def admin(self):
        return self.db


class _Module(object):
    def __init__(self, **params):
        self.params = dict(path='/b/new.sql.zst', confirm='quickbite', mode='replace', stop_writers=True,
                           writers=['backend'], pre_restore_backup=True, backup_dir='/b', backend_url='http://x',
                           health_check=False, validate_certs=True, wait_timeout=5, jobs=2)
        self.params.update(params)


class _Loaded(object):
    def __init__(self, lines, inspected):
        self.check_lines = lines
        self.inspected = inspected


class _Streamed(object):
    """integrity.StreamedCheck's verdict: behaviour['conclude'] raises."""

    def __init__(self, behaviour):
        self.behaviour = behaviour

    def conclude(self):
        if self.behaviour.get('conclude'):
            raise self.behaviour['conclude']
        return ['read while loading']


@pytest.fixture
def world(monkeypatch):
    """(adapter, db, load behaviour): the load writes the file's name into the database."""
    adapter, db = _Adapter(), _Db({'quickbite': 'original'})
    behaviour = {}

    def load(path, fmt, comp, client, dbname, jobs=1, check=None, inspect=None):
        behaviour.setdefault('checked while loading', []).append(check is not None)
        if behaviour.get(path):
            db.dbs[dbname] = 'partial'
            raise behaviour[path]
        db.dbs[dbname] = path
        return _Loaded(check.conclude() if check is not None else [], inspect())

    def backup_run(client, params):
        class _Run(object):
            def run(self):
                return dict(path='/b/pre.sql.zst')
        return _Run()

    monkeypatch.setattr(procedure.loading, 'load', load)
    monkeypatch.setattr(procedure.integrity, 'check', lambda path, client, **kw: ('plain', 'zstd', None, ['ok']))
    monkeypatch.setattr(procedure.integrity, 'describe', lambda path: ('plain', 'zstd', None))
    monkeypatch.setattr(procedure.integrity, 'check_streamed',
                        lambda path, client, allow: ('plain', 'zstd', None, ['own'], _Streamed(behaviour)))
    monkeypatch.setattr(procedure, 'BackupRun', backup_run)
    return adapter, db, behaviour


def _run(adapter, db, **params):
    return procedure.RestoreRun(_Module(**params), adapter, _Client(db))


@pytest.mark.parametrize('exc', [KeyboardInterrupt(), SystemExit(143), RuntimeError('bug'), MemoryError()])
def test_any_exception_during_the_load_puts_the_pre_restore_backup_back_and_is_reraised(world, exc):
    adapter, db, behaviour = world
    behaviour['/b/new.sql.zst'] = exc
    run = _run(adapter, db)
    with pytest.raises(type(exc)):
        run.run()
    assert db.dbs['quickbite'] == '/b/pre.sql.zst'  # the pre-restore backup, loaded again
    assert adapter.running['backend'] == 2
    assert adapter.store().data == {}
    assert run.result['outcome'] == 'original'
    assert any('put back from the pre-restore backup' in s for s in run.result['steps'])


@pytest.mark.parametrize('exc', [KeyboardInterrupt(), RuntimeError('bug')])
def test_any_exception_during_a_swap_load_drops_only_the_new_database(world, exc):
    adapter, db, behaviour = world
    behaviour['/b/new.sql.zst'] = exc
    run = _run(adapter, db, mode='swap')
    with pytest.raises(type(exc)):
        run.run()
    assert db.dbs == {'quickbite': 'original'}
    assert adapter.running['backend'] == 2 and adapter.store().data == {}


def test_a_failed_rename_is_put_back(world, monkeypatch):
    adapter, db, behaviour = world
    real = db.rename

    def rename(old, new):
        if old.startswith('quickbite_restore_'):
            raise KeyboardInterrupt()
        real(old, new)
    monkeypatch.setattr(db, 'rename', rename)
    with pytest.raises(KeyboardInterrupt):
        _run(adapter, db, mode='swap').run()
    assert db.dbs == {'quickbite': 'original'}
    assert adapter.running['backend'] == 2


def test_a_quickbite_error_is_reported_with_what_was_put_back(world):
    adapter, db, behaviour = world
    behaviour['/b/new.sql.zst'] = VerificationError('row counts differ')
    with pytest.raises(VerificationError) as err:
        _run(adapter, db).run()
    assert 'row counts differ' in err.value.msg and 'put back from the pre-restore backup /b/pre.sql.zst' in err.value.msg


def _interrupted(adapter, db, phase, **fields):
    """The record a run killed in ``phase`` leaves (writers stopped)."""
    data = dict(mode='replace', database='quickbite', path='/b/new.sql.zst', stamp='20260101_000000', existed=True,
                names={}, since='2026-01-01T00:00:00Z', phase=phase, created=[],
                writers=[dict(service='backend', replicas=2)])
    data.update(fields)
    adapter.running['backend'] = 0
    adapter.store().save(state_key('quickbite'), data)


def test_rerun_after_a_kill_during_the_load_puts_back_and_says_so(world):
    adapter, db, behaviour = world
    _interrupted(adapter, db, 'loading', pre_restore_backup='/b/pre.sql.zst')
    db.dbs['quickbite'] = 'partial'
    run = _run(adapter, db)
    with pytest.raises(VerificationError) as err:
        run.run()
    assert 'found an interrupted restore of /b/new.sql.zst' in err.value.msg
    assert 'put back from the pre-restore backup' in err.value.msg and 'Run the restore again' in err.value.msg
    assert db.dbs['quickbite'] == '/b/pre.sql.zst' and adapter.running['backend'] == 2
    assert adapter.store().data == {}


def test_rerun_after_a_kill_once_loaded_finishes(world):
    adapter, db, behaviour = world
    _interrupted(adapter, db, 'loaded')
    db.dbs['quickbite'] = '/b/new.sql.zst'
    result = _run(adapter, db).run()
    assert result['outcome'] == 'restored' and result['resumed']['phase'] == 'loaded'
    assert db.dbs['quickbite'] == '/b/new.sql.zst' and adapter.running['backend'] == 2


def test_rerun_after_a_kill_between_the_renames_renames_back(world):
    adapter, db, behaviour = world
    names = swap_names('quickbite', '20260101_000000')
    new, old = names[procedure.NEW], names[procedure.OLD]
    _interrupted(adapter, db, 'swapping', mode='swap', names=names, created=[new])
    db.dbs = {old: 'original', new: '/b/new.sql.zst'}
    with pytest.raises(VerificationError) as err:
        _run(adapter, db, mode='swap').run()
    assert db.dbs == {'quickbite': 'original'} and adapter.running['backend'] == 2
    assert 'renamed %s back to quickbite' % old in err.value.msg


def test_check_mode_reports_the_interrupted_restore_and_changes_nothing(world):
    adapter, db, behaviour = world
    _interrupted(adapter, db, 'loading', pre_restore_backup='/b/pre.sql.zst')
    result = _run(adapter, db).plan()
    assert 'would put quickbite back from the pre-restore backup' in result['steps'][0]
    assert adapter.running['backend'] == 0 and adapter.store().data


def test_a_derived_name_that_exists_is_refused_not_dropped(world, monkeypatch):
    adapter, db, behaviour = world
    monkeypatch.setattr(procedure.datetime, 'datetime', _FixedClock)
    taken = swap_names('quickbite', '20260101_000000')[procedure.NEW]
    db.dbs[taken] = 'someone else\'s'
    with pytest.raises(ConfigError) as err:
        _run(adapter, db, mode='swap').run()
    assert taken in err.value.msg and 'did not create it' in err.value.msg
    assert db.dbs[taken] == 'someone else\'s' and adapter.running['backend'] == 2


def test_jobs_below_one_is_refused(world):
    adapter, db, behaviour = world
    with pytest.raises(ConfigError) as err:
        _run(adapter, db, jobs=0).run()
    assert 'restore_db_jobs' in err.value.msg and db.dbs == {'quickbite': 'original'}


class _FixedClock(object):
    @staticmethod
    def now():
        return _REAL_DATETIME(2026, 1, 1)


def _evidence(result):
    return [c['evidence'] for c in result['checks'] if c['check'] == 'backup reads back whole']


def test_a_target_holding_data_has_its_backup_checked_before_anything_changes(world):
    adapter, db, behaviour = world
    result = _run(adapter, db).run()
    assert behaviour['checked while loading'] == [False] and _evidence(result) == ['ok']


@pytest.mark.parametrize('params, dbs', [
    (dict(mode='swap'), {'quickbite': 'original'}),          # a new database: the live one is untouched
    (dict(), {'quickbite': 'empty'}),                        # holds nothing of its own
    (dict(confirm='', pre_restore_backup=False), {}),        # does not exist
])
def test_a_target_with_nothing_to_lose_has_its_backup_checked_while_it_loads(world, params, dbs):
    adapter, db, behaviour = world
    db.dbs = dict(dbs)
    result = _run(adapter, db, **params).run()
    assert behaviour['checked while loading'] == [True]
    assert _evidence(result) == ['own', 'read while loading'] and db.dbs['quickbite'] == '/b/new.sql.zst'


def test_a_check_failing_while_loading_a_swap_drops_only_the_new_database(world):
    adapter, db, behaviour = world
    behaviour['conclude'] = CorruptBackup('checksum mismatch for /b/new.sql.zst; found while loading it')
    with pytest.raises(VerificationError) as err:
        _run(adapter, db, mode='swap').run()
    assert 'checksum mismatch' in err.value.msg and 'is the original one' in err.value.msg
    assert db.dbs == {'quickbite': 'original'} and adapter.running['backend'] == 2 and adapter.store().data == {}


@pytest.mark.parametrize('dbs, params, after, said', [
    ({'quickbite': 'empty'}, dict(pre_restore_backup=False), {'quickbite': 'empty'}, 'empty again'),
    ({}, dict(confirm=''), {}, 'did not exist before'),
])
def test_a_check_failing_while_loading_leaves_the_target_as_it_was(world, dbs, params, after, said):
    adapter, db, behaviour = world
    db.dbs = dict(dbs)
    behaviour['conclude'] = CorruptBackup('/b/new.sql.zst ends without its closing line; found while loading it')
    with pytest.raises(VerificationError) as err:
        _run(adapter, db, **params).run()
    assert 'closing line' in err.value.msg and said in err.value.msg
    assert db.dbs == after and adapter.running['backend'] == 2 and adapter.store().data == {}


def test_rerun_after_a_kill_while_loading_into_an_empty_target_empties_it_again(world):
    adapter, db, behaviour = world
    _interrupted(adapter, db, 'loading', pre_restore_backup=None, held_nothing=True)
    db.dbs['quickbite'] = 'partial'
    with pytest.raises(VerificationError) as err:
        _run(adapter, db).run()
    assert 'empty again' in err.value.msg and db.dbs['quickbite'] == 'empty' and adapter.running['backend'] == 2
