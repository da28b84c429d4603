"""The secrets' specs as the modules build them from their options, and the
engine's entry point: what is masked, check mode against a run, the
finished message each secret adds."""
import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.rotation import dbpassword, engine, jwt, specs
from tests.unit.fakes import FakeAdapter, FakeModule

COMMON = dict(backend_url='http://127.0.0.1:8080/', validate_certs=True, wait_timeout=30, abandon_pending=False,
              operator='tester')


def _module(tmp_path, check_mode=False, **params):
    module = FakeModule(dict(COMMON, audit_log=str(tmp_path / 'audit.log'), **params))
    module.check_mode = check_mode
    return module


def _jwt(tmp_path, **params):
    return _module(tmp_path, **dict(dict(keep_previous=False, probe_path='/api/orders', new_secret=None), **params))


def test_jwt_secret_keeps_the_old_value_for_a_grace_period_and_waits_for_an_interrupted_end(tmp_path):
    adapter = FakeAdapter(dict(JWT_SECRET='old'))
    spec = specs.jwt_secret(_jwt(tmp_path, keep_previous=True), adapter)
    assert (spec.key, spec.previous_key, spec.keep_previous, spec.lock) == (
        'JWT_SECRET', 'JWT_SECRET_PREVIOUS', True, None)
    assert spec.generate is jwt.new_secret and spec.hints['value'] == 'rotate_jwt_new_secret'
    assert spec.done(dict(msg='rotated')) == ('rotated; tokens signed with the old secret stay valid until the grace '
                                              'period is ended (end_grace, rotate_jwt_end_grace=true)')
    assert specs.jwt_secret(_jwt(tmp_path), adapter).done(dict(msg='rotated')) == (
        'rotated; every user must log in again (tokens signed with the old secret are refused)')
    adapter.store().save('JWT_SECRET_PREVIOUS', dict(old='grace', new='', phase='set'))
    with pytest.raises(ConfigError, match='^an end of the JWT grace period was interrupted in test target; run '
                                          'rotate-jwt.yml with rotate_jwt_end_grace=true to finish it first'):
        engine.rotate(_jwt(tmp_path, check_mode=True), adapter, spec, 'new')


def test_jwt_grace_end_empties_the_previous_key_and_says_so(tmp_path):
    adapter = FakeAdapter(dict(JWT_SECRET='current', JWT_SECRET_PREVIOUS=''))
    module = _jwt(tmp_path, check_mode=True)
    spec = specs.jwt_grace_end(module, adapter)
    assert (spec.key, spec.value, spec.lock, spec.masked) == ('JWT_SECRET_PREVIOUS', '', 'end the JWT grace period',
                                                              ('current',))
    result = engine.rotate(module, adapter, spec)
    assert (result['changed'], result['outcome'], result['old_fingerprint']) == (False, 'unchanged', None)
    assert result['msg'] == 'JWT_SECRET_PREVIOUS is empty in test target: no grace period to end'
    assert spec.done(dict(old_fingerprint='abcd1234')) == (
        'ended the grace period: JWT_SECRET_PREVIOUS (abcd1234) dropped, verified by the backend; tokens signed with it '
        'are refused, JWT_SECRET (%s) is unchanged' % fingerprint('current'))
    adapter.config['JWT_SECRET_PREVIOUS'] = 'grace'
    planned = engine.rotate(module, adapter, spec)
    assert planned['msg'] == ('would rotate JWT_SECRET_PREVIOUS (now %s) to empty, then restart and test'
                              % fingerprint('grace'))
    assert {'current', 'grace'} <= module.no_log_values


def test_webhook_secret_is_never_generated(tmp_path):
    adapter = FakeAdapter(dict(PAYMENT_WEBHOOK_SECRET='old'))
    module = _module(tmp_path, check_mode=True, path='/api/payments/webhook', new_secret=None)
    spec = specs.webhook_secret(module, adapter)
    assert spec.generate is None and spec.hints['finish'] == 'run again with that same value (rotate_webhook_secret_new)'
    with pytest.raises(ConfigError, match='none can be generated here; supply rotate_webhook_secret_new$'):
        engine.rotate(module, adapter, spec)


def _db(tmp_path, **params):
    return _module(tmp_path, **dict(dict(new_password=None, db_host='127.0.0.1', db_port=5432, db_name=None,
                                         db_user=None, db_sslmode='prefer', db_sslrootcert=None, admin_user='postgres',
                                         admin_password=None, admin_db='postgres'), **params))


def test_db_password_names_the_role_from_the_configuration_and_masks_the_admin_password(tmp_path):
    adapter = FakeAdapter(dict(DB_PASSWORD='old', DB_USER='app', DB_NAME='orders', POSTGRES_PASSWORD='admin-secret'))
    module = _db(tmp_path, check_mode=True)
    spec = specs.db_password(module, adapter)
    assert spec.generate is dbpassword.new_password and spec.validate is dbpassword.check_password
    assert spec.masked == ('admin-secret',) and spec.set_external and spec.restore_external
    planned = engine.rotate(module, adapter, spec, None)
    assert planned['actions'] == ['create', 'set external', 'set', 'restart', 'test', 'finish']
    assert {'old', 'admin-secret'} <= module.no_log_values and adapter.config['DB_PASSWORD'] == 'old'
    with pytest.raises(ConfigError, match='quickbite_db_user'):
        specs.db_password(_db(tmp_path), FakeAdapter(dict(DB_USER='app=x')))


def test_the_finished_message_is_added_to_a_rotation_only(tmp_path):
    adapter = FakeAdapter(dict(JWT_SECRET='old'))
    module = _jwt(tmp_path)
    spec = specs.SecretSpec('JWT_SECRET', lambda adapter: None, lambda old, new: [('token', True, '200')],
                            done=lambda result: result['msg'] + '; done')
    result = engine.rotate(module, adapter, spec, 'new')
    assert result['msg'].endswith('verified by the backend; done') and result['report_lines'][0] == result['msg']
    assert engine.rotate(module, adapter, spec, 'new')['msg'] == 'JWT_SECRET already has that value'
    assert {'old', 'new'} <= module.no_log_values
