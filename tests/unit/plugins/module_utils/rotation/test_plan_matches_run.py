"""Check mode predicts a run: for each starting state, plan() changes
nothing and says what the run that follows does (changed, and the same
steps in the same order), or both refuse with the same message."""
import copy
import json

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.rotation.engine import Rotation
from ansible_collections.quickbite.ops.plugins.module_utils.rotation.specs import SecretSpec
from tests.unit.fakes import FakeAdapter

ROTATE = ['create', 'set', 'restart', 'test', 'finish']
RESUME = ['resume', 'set', 'restart', 'test', 'finish']
PUT_BACK = ['abandon', 'put back', 'restart', 'test']


class _Adapter(FakeAdapter):
    """Configuration and store in memory; a line break cannot be written."""

    def check_config(self, key, value):
        if '\n' in value:
            raise ConfigError('refusing to write %s: a line break' % key)


def _spec(key='JWT_SECRET', **fields):
    def apply(adapter):
        adapter.calls.append('restart')
    return SecretSpec(key, apply, lambda old, new: [('backend', True, 'ok')], generate=lambda: 'generated', **fields)


def _grace_end():
    return _spec('JWT_SECRET_PREVIOUS', value='', lock='end the JWT grace period',
                 idle=lambda previous: None if previous else 'no grace period to end',
                 blocked_by={'JWT_SECRET': 'a rotation of JWT_SECRET was interrupted in {target}'})


def _with_previous(**fields):
    return _spec(previous_key='JWT_SECRET_PREVIOUS', **fields)


def _external():
    return _spec(set_external=lambda old, new: None, restore_external=lambda old, new: None)


def _interrupt(*args):
    raise KeyboardInterrupt


def _killed(phase):
    """A rotation of JWT_SECRET from 'old' to 'new' killed at ``phase``:
    'created' (before anything changed), 'set' (after the configuration,
    at the restart)."""
    def prepare(adapter, spec, audit_log):
        rotation = Rotation(adapter, SecretSpec(spec.key, _interrupt, None, set_external=spec.set_external,
                                                previous_key=spec.previous_key, keep_previous=spec.keep_previous),
                            audit_log, 'tester')
        if phase == 'created':
            rotation._set_test_finish = _interrupt
        with pytest.raises(KeyboardInterrupt):
            rotation.run('new')
    return prepare


def _pending(key):
    def prepare(adapter, spec, audit_log):
        adapter.store().save(key, dict(secret=key, old='a', new='b', phase='set', saved={key: 'a'}))
    return prepare


# (starting state, config, prepare, spec, new value, abandon, expected: (changed, actions) or the refusal's start)
CASES = [
    ('fresh, a value supplied', dict(JWT_SECRET='old'), None, _spec(), 'new', False, (True, ROTATE)),
    ('fresh, a value generated', dict(JWT_SECRET='old'), None, _spec(), None, False, (True, ROTATE)),
    ('the same value', dict(JWT_SECRET='old'), None, _spec(), 'old', False, (False, [])),
    ('the key is missing', dict(), None, _spec(), 'new', False, 'JWT_SECRET is not set in test target'),
    ('a value the configuration cannot hold', dict(JWT_SECRET='old'), None, _spec(), 'two\nlines', False,
     'refusing to write JWT_SECRET: a line break'),
    ('pending from a run killed after set', dict(JWT_SECRET='old'), _killed('set'), _spec(), None, False,
     (True, RESUME)),
    ('pending, the same value supplied again', dict(JWT_SECRET='old'), _killed('set'), _spec(), 'new', False,
     (True, RESUME)),
    ('pending, a different value supplied', dict(JWT_SECRET='old'), _killed('set'), _spec(), 'other', False,
     'refusing to resume the interrupted rotation of JWT_SECRET'),
    ('pending from a run killed before set', dict(JWT_SECRET='old'), _killed('created'), _spec(), None, False,
     (True, RESUME)),
    ('abandon after a kill after set', dict(JWT_SECRET='old'), _killed('set'), _spec(), None, True,
     (True, PUT_BACK)),
    ('abandon after a kill before set', dict(JWT_SECRET='old'), _killed('created'), _spec(), None, True,
     (True, ['abandon', 'drop'])),
    ('abandon, nothing pending', dict(JWT_SECRET='old'), None, _spec(), None, True, (False, [])),
    ('grace period kept', dict(JWT_SECRET='old'), None, _with_previous(keep_previous=True), 'new', False,
     (True, ROTATE)),
    ('grace period replaced by a rotation', dict(JWT_SECRET='old', JWT_SECRET_PREVIOUS='older'), None,
     _with_previous(), 'new', False, (True, ROTATE)),
    ('grace period expired: end it', dict(JWT_SECRET='cur', JWT_SECRET_PREVIOUS='old'), None, _grace_end(), None,
     False, (True, ROTATE)),
    ('grace period already ended', dict(JWT_SECRET='cur', JWT_SECRET_PREVIOUS=''), None, _grace_end(), None,
     False, (False, [])),
    ('end of grace while JWT_SECRET is pending', dict(JWT_SECRET='cur', JWT_SECRET_PREVIOUS='old'),
     _pending('JWT_SECRET'), _grace_end(), None, False, 'a rotation of JWT_SECRET was interrupted in test target'),
    ('database password, fresh', dict(JWT_SECRET='old'), None, _external(), None, False,
     (True, ['create', 'set external', 'set', 'restart', 'test', 'finish'])),
    ('database password, abandoned after set', dict(JWT_SECRET='old'), _killed('set'), _external(), None, True,
     (True, ['abandon', 'put back', 'restore external', 'restart', 'test'])),
]


def _state(adapter, audit_log):
    lines = open(audit_log).read() if audit_log.exists() else ''
    return copy.deepcopy(adapter.config), json.dumps(adapter.store().data, sort_keys=True), lines


@pytest.mark.parametrize('name, config, prepare, spec, value, abandon, expected', CASES, ids=[c[0] for c in CASES])
def test_check_mode_predicts_the_run(tmp_path, name, config, prepare, spec, value, abandon, expected):
    adapter, audit_log = _Adapter(config), tmp_path / 'audit.log'
    if prepare:
        prepare(adapter, spec, str(audit_log))
    before = _state(adapter, audit_log)
    if isinstance(expected, str):
        for call in ('plan', 'run'):
            with pytest.raises(ConfigError) as refused:
                getattr(Rotation(adapter, spec, str(audit_log), 'tester'), call)(value, abandon)
            assert refused.value.msg.startswith(expected), call
            assert _state(adapter, audit_log) == before, 'the %s refusal changed nothing' % call
        return
    calls = len(adapter.calls)
    planned = Rotation(adapter, spec, str(audit_log), 'tester').plan(value, abandon)
    assert _state(adapter, audit_log) == before and len(adapter.calls) == calls, 'check mode changed nothing'
    done = Rotation(adapter, spec, str(audit_log), 'tester').run(value, abandon)
    assert (planned['changed'], planned['actions']) == (done['changed'], done['actions']) == expected
    assert planned['outcome'] in ('would rotate', 'would resume', 'would abandon', 'unchanged')
    assert adapter.store().load(spec.key) is None, 'no pending state is left'
