"""The rotation engine's logic over an in-memory adapter: finish, unchanged,
rollback with the other keys put back, resume after a kill, check mode, and
fingerprints (an emptied key reads "empty"). The same paths run for real in
tests/integration (Compose stack and emulator)."""
import json

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, VerificationError
from ansible_collections.quickbite.ops.plugins.module_utils.rotation.engine import Rotation


class _Store(object):
    def __init__(self):
        self.data = {}

    def load(self, name):
        return json.loads(self.data[name]) if name in self.data else None

    def save(self, name, value):
        self.data[name] = json.dumps(value)

    def delete(self, name):
        self.data.pop(name, None)


class _Lock(object):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Adapter(object):
    platform = 'compose'

    def __init__(self, config):
        self.config = dict(config)
        self._store = _Store()
        self.restarts = 0

    def describe(self):
        return 'test project'

    def get_config(self, key):
        return self.config.get(key)

    def set_config(self, key, value):
        self.config[key] = value

    def store(self):
        return self._store

    def lock(self, name, ttl=3600):
        return _Lock()


def _rotation(adapter, tmp_path, test=None, extra=None, apply=None):
    def restart(adapter):
        adapter.restarts += 1
    return Rotation(adapter, 'JWT_SECRET', str(tmp_path / 'audit.log'), 'tester', apply=apply or restart,
                    test=test or (lambda old, new: [('backend', True, 'ok')]), extra=extra)


def _audit(tmp_path):
    return [json.loads(line) for line in (tmp_path / 'audit.log').read_text().splitlines()]


def test_rotation_sets_restarts_tests_and_finishes(tmp_path):
    adapter = _Adapter(dict(JWT_SECRET='old', JWT_SECRET_PREVIOUS='x'))
    result = _rotation(adapter, tmp_path, extra=lambda old, new: {'JWT_SECRET_PREVIOUS': old}).run('new')
    assert result['outcome'] == 'rotated' and result['changed']
    assert adapter.config == dict(JWT_SECRET='new', JWT_SECRET_PREVIOUS='old') and adapter.restarts == 1
    assert (result['old_fingerprint'], result['new_fingerprint']) == (fingerprint('old'), fingerprint('new'))
    assert adapter.store().data == {}, 'no pending state is left'
    entry = _audit(tmp_path)[-1]
    assert (entry['secret'], entry['outcome'], entry['operator']) == ('JWT_SECRET', 'rotated', 'tester')
    assert 'old' not in entry.values() and 'new' not in entry.values()


def test_same_value_is_unchanged_and_a_missing_key_is_an_error(tmp_path):
    adapter = _Adapter(dict(JWT_SECRET='same'))
    assert _rotation(adapter, tmp_path).run('same')['outcome'] == 'unchanged' and adapter.restarts == 0
    with pytest.raises(ConfigError, match='WEBHOOK is not set in test project; nothing to rotate'):
        Rotation(adapter, 'WEBHOOK', str(tmp_path / 'a.log'), 'tester', apply=None, test=None).run('x')


def test_failed_test_puts_the_secret_and_the_other_keys_back(tmp_path):
    adapter = _Adapter(dict(JWT_SECRET='old', JWT_SECRET_PREVIOUS='grace'))
    seen = []

    def test(old, new):
        seen.append(new)
        return [('old token refused', new is None, 'answered 200')]
    with pytest.raises(VerificationError, match='rotation of JWT_SECRET rolled back: old token refused: answered 200'):
        _rotation(adapter, tmp_path, test=test, extra=lambda old, new: {'JWT_SECRET_PREVIOUS': old}).run('new')
    assert adapter.config == dict(JWT_SECRET='old', JWT_SECRET_PREVIOUS='grace')
    assert adapter.restarts == 2 and seen == ['new', None]
    assert _audit(tmp_path)[-1]['outcome'] == 'rolled back' and adapter.store().data == {}


def test_a_run_killed_after_set_is_resumed_and_finished(tmp_path):
    adapter = _Adapter(dict(JWT_SECRET='old'))

    def killed(adapter):
        raise KeyboardInterrupt  # the process dies after "set", before the restart
    with pytest.raises(KeyboardInterrupt):
        _rotation(adapter, tmp_path, apply=killed).run('new')
    assert adapter.config['JWT_SECRET'] == 'new' and adapter.store().load('JWT_SECRET')['phase'] == 'set'
    plan = _rotation(adapter, tmp_path).plan(None)
    assert plan['outcome'] == 'would resume'
    # The next run resumes the pending value, whatever new value it was given.
    result = _rotation(adapter, tmp_path).run('another')
    assert result['outcome'] == 'rotated' and adapter.config['JWT_SECRET'] == 'new'
    assert any('resuming' in step for step in result['steps'])


def test_check_mode_plans_without_changing_and_an_emptied_key_reads_empty(tmp_path):
    adapter = _Adapter(dict(JWT_SECRET_PREVIOUS='grace'))
    rotation = Rotation(adapter, 'JWT_SECRET_PREVIOUS', str(tmp_path / 'audit.log'), 'tester',
                        apply=lambda a: None, test=lambda old, new: [('token refused', True, '401')])
    plan = rotation.plan('')
    assert plan['msg'] == 'would rotate JWT_SECRET_PREVIOUS (now %s) to empty, then restart and test' % fingerprint('grace')
    assert adapter.config == dict(JWT_SECRET_PREVIOUS='grace') and not (tmp_path / 'audit.log').exists()
    assert Rotation(adapter, 'JWT_SECRET_PREVIOUS', str(tmp_path / 'audit.log'), 'tester', apply=None,
                    test=None).plan(None)['msg'].endswith('to a new random value, then restart and test')
    result = rotation.run('')
    assert result['new_fingerprint'] == 'empty' and adapter.config['JWT_SECRET_PREVIOUS'] == ''
    assert _audit(tmp_path)[-1]['new'] == 'empty'
