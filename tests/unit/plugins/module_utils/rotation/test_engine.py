"""The rotation engine's logic over an in-memory adapter: finish, unchanged,
rollback with the other keys put back, resume after a kill, check mode, and
fingerprints (an emptied key reads "empty"). The same paths run for real in
tests/integration (Compose stack and emulator)."""
import json

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, VerificationError
from ansible_collections.quickbite.ops.plugins.module_utils.rotation.engine import Rotation
from ansible_collections.quickbite.ops.plugins.module_utils.rotation.specs import SecretSpec
from tests.unit.fakes import FakeAdapter, FreeLock, MemoryStore


class _Adapter(FakeAdapter):

    def __init__(self, config, refuse=None):
        self.config = dict(config)
        self._store = MemoryStore()
        self.restarts = 0
        self.refuse = refuse  # a value check_config refuses, as an env file refuses a line break

    def check_config(self, key, value):
        if value == self.refuse:
            raise ConfigError('refusing to write %s: cannot be written' % key)

    def describe(self):
        return 'test project'

    def get_config(self, key):
        return self.config.get(key)

    def set_config(self, key, value):
        self.config[key] = value

    def store(self):
        return self._store

    def lock(self, procedure, ttl=3600):
        return FreeLock()


def _restart(adapter):
    adapter.restarts += 1


def _passed(old, new):
    return [('backend', True, 'ok')]


def _rotation(adapter, tmp_path, key='JWT_SECRET', test=None, apply=None, **spec):
    """``spec``: the other SecretSpec fields (keep_previous=True keeps the old value as JWT_SECRET_PREVIOUS)."""
    if spec.get('keep_previous'):
        spec['previous_key'] = 'JWT_SECRET_PREVIOUS'
    return Rotation(adapter, SecretSpec(key, apply or _restart, test or _passed, **spec), str(tmp_path / 'audit.log'),
                    'tester')


def _audit(tmp_path):
    return [json.loads(line) for line in (tmp_path / 'audit.log').read_text().splitlines()]


def test_rotation_sets_restarts_tests_and_finishes(tmp_path):
    adapter = _Adapter(dict(JWT_SECRET='old', JWT_SECRET_PREVIOUS='x'))
    result = _rotation(adapter, tmp_path, keep_previous=True).run('new')
    assert result['outcome'] == 'rotated' and result['changed']
    assert result['actions'] == ['create', 'set', 'restart', 'test', 'finish']
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
        Rotation(adapter, SecretSpec('WEBHOOK', None, None), str(tmp_path / 'a.log'), 'tester').run('x')


def test_failed_test_puts_the_secret_and_the_other_keys_back(tmp_path):
    adapter = _Adapter(dict(JWT_SECRET='old', JWT_SECRET_PREVIOUS='grace'))
    seen = []

    def test(old, new):
        seen.append(new)
        return [('old token refused', new is None, 'answered 200')]
    with pytest.raises(VerificationError, match='rotation of JWT_SECRET rolled back: old token refused: answered 200'):
        _rotation(adapter, tmp_path, test=test, keep_previous=True).run('new')
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
    # Another new value is refused (in check mode too), naming both fingerprints and the ways out.
    for call in (lambda r: r.plan('another'), lambda r: r.run('another')):
        with pytest.raises(ConfigError) as refused:
            call(_rotation(adapter, tmp_path))
        assert refused.value.msg.startswith(
            'refusing to resume the interrupted rotation of JWT_SECRET in test project with another value: it was '
            'started with a new value of fingerprint %s, the value supplied now has fingerprint %s. To finish it, run '
            'again without a new value or with the same one; to drop it' % (fingerprint('new'), fingerprint('another')))
        assert 'abandon_pending=true' in refused.value.msg and 'another' not in refused.value.msg.replace(
            'another value', '')
    assert adapter.config['JWT_SECRET'] == 'new' and adapter.store().load('JWT_SECRET')['phase'] == 'set'
    # Without a value (or with the same one) the next run resumes the pending value.
    result = _rotation(adapter, tmp_path).run(None)
    assert result['outcome'] == 'rotated' and adapter.config['JWT_SECRET'] == 'new'
    assert any('resuming' in step for step in result['steps'])


def test_abandon_puts_the_old_value_back_like_a_failed_test(tmp_path):
    adapter = _Adapter(dict(JWT_SECRET='old', JWT_SECRET_PREVIOUS='grace'))

    def killed(adapter):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        _rotation(adapter, tmp_path, apply=killed, keep_previous=True).run('new')
    assert adapter.config == dict(JWT_SECRET='new', JWT_SECRET_PREVIOUS='old')
    plan = _rotation(adapter, tmp_path).plan(None, abandon=True)
    assert (plan['changed'], plan['outcome']) == (True, 'would abandon') and adapter.config['JWT_SECRET'] == 'new'
    result = _rotation(adapter, tmp_path, keep_previous=True).run(None, abandon=True)
    assert (result['changed'], result['outcome']) == (True, 'abandoned')
    assert result['msg'] == ('abandoned the interrupted rotation of JWT_SECRET (new %s): the old value (%s) is in place '
                             'again and the service is healthy' % (fingerprint('new'), fingerprint('old')))
    assert adapter.config == dict(JWT_SECRET='old', JWT_SECRET_PREVIOUS='grace') and adapter.store().data == {}
    assert _audit(tmp_path)[-1]['outcome'] == 'abandoned'
    nothing = _rotation(adapter, tmp_path).run(None, abandon=True)
    assert (nothing['changed'], nothing['outcome']) == (False, 'unchanged')
    assert _rotation(adapter, tmp_path).plan(None, abandon=True)['changed'] is False


def test_check_mode_and_the_run_decide_changed_the_same_way(tmp_path):
    """One decision (decide) for both: the same value is no change in check mode too."""
    for value, changed in (('same', False), ('other', True), (None, True)):
        adapter = _Adapter(dict(JWT_SECRET='same'))
        rotation = _rotation(adapter, tmp_path, generate=lambda: 'generated')
        planned = rotation.plan(value)
        assert adapter.config == dict(JWT_SECRET='same') and adapter.restarts == 0
        assert planned['changed'] is changed and rotation.run(value)['changed'] is changed, value


def test_a_value_the_configuration_cannot_hold_is_refused_before_any_change(tmp_path):
    adapter = _Adapter(dict(JWT_SECRET='old'), refuse='two\nlines')
    calls = []
    rotation = _rotation(adapter, tmp_path, apply=calls.append, set_external=lambda old, new: calls.append('external'),
                         hints=dict(value='rotate_x_new'))
    for call in (rotation.plan, rotation.run):
        with pytest.raises(ConfigError, match=r'^refusing to write JWT_SECRET: cannot be written \(the new value: '
                                              r'rotate_x_new\)$'):
            call('two\nlines')
    assert calls == [] and adapter.config == dict(JWT_SECRET='old') and adapter.store().data == {}


def test_failures_report_changed_when_something_changed(tmp_path):
    adapter = _Adapter(dict(JWT_SECRET='old'))
    with pytest.raises(VerificationError) as failed:
        _rotation(adapter, tmp_path, test=lambda old, new: [('token', new is None, 'answered 401')]).run('new')
    assert failed.value.details['changed'] is True and adapter.restarts == 2

    def refused(old, new):
        raise ConfigError('password authentication failed')
    rotation = _rotation(adapter, tmp_path, set_external=refused)
    with pytest.raises(VerificationError, match='stopped before changing anything') as failed:
        rotation.run('new')
    assert failed.value.details['changed'] is False and adapter.restarts == 2


def test_a_put_back_value_is_read_back_before_the_rollback_claims_it(tmp_path):
    class Drifting(_Adapter):
        def restore_config(self, snapshot):
            self.config['JWT_SECRET'] = 'something else'
    adapter = Drifting(dict(JWT_SECRET='old'))
    with pytest.raises(VerificationError) as failed:
        _rotation(adapter, tmp_path, test=lambda old, new: [('token', False, 'answered 401')]).run('new')
    assert 'and so did the rollback: JWT_SECRET reads %s after being put back, not the old value %s' % (
        fingerprint('something else'), fingerprint('old')) in failed.value.msg
    assert failed.value.details['changed'] is True and adapter.store().load('JWT_SECRET') is not None


def test_check_mode_plans_without_changing_and_an_emptied_key_reads_empty(tmp_path):
    adapter = _Adapter(dict(JWT_SECRET_PREVIOUS='grace'))
    rotation = _rotation(adapter, tmp_path, key='JWT_SECRET_PREVIOUS', apply=lambda a: None,
                         test=lambda old, new: [('token refused', True, '401')])
    plan = rotation.plan('')
    assert plan['msg'] == 'would rotate JWT_SECRET_PREVIOUS (now %s) to empty, then restart and test' % fingerprint('grace')
    assert adapter.config == dict(JWT_SECRET_PREVIOUS='grace') and not (tmp_path / 'audit.log').exists()
    assert _rotation(adapter, tmp_path, key='JWT_SECRET_PREVIOUS', generate=lambda: 'random').plan(None)[
        'msg'].endswith('to a new random value, then restart and test')
    result = rotation.run('')
    assert result['new_fingerprint'] == 'empty' and adapter.config['JWT_SECRET_PREVIOUS'] == ''
    assert _audit(tmp_path)[-1]['new'] == 'empty'
