# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secrets the runbook rotates, each declared once, in this file: its
key and the key that changes with it, how a new value is made and checked,
how it is applied (which services are recreated; ALTER ROLE for the database
password; the old JWT secret kept for a grace period) and how the backend
proves it (health, then tokens, signed events or logins). The engine
(engine.Rotation) runs any of them and knows nothing of JWT or PostgreSQL;
a module parses its options and hands one of these builders to
engine.run_module."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint
from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import check_identifier, check_identifier_options
from ansible_collections.quickbite.ops.plugins.module_utils.rotation import dbpassword, jwt, procedures, webhook

JWT_PREVIOUS = 'JWT_SECRET_PREVIOUS'


class SecretSpec(object):
    """One secret, declared; the engine does the rest (pending state, lock,
    resume, abandon, rollback, audit).

    - ``key``: the configuration key. ``value``: a fixed new value (``''``
      empties the key: the end of a grace period); otherwise the value
      supplied, or ``generate()``; ``validate(value)`` raises ConfigError for
      a value the secret's consumer cannot take.
    - ``previous_key``, ``keep_previous``: the grace period. The old value is
      kept under ``previous_key`` (keep_previous), or that key is emptied when
      it holds something; a key that is absent stays absent.
    - ``apply(adapter)``: make the services read the new configuration.
      ``set_external(old, new)`` / ``restore_external(old, new)``: the copy
      of the secret outside the configuration (a database role's password).
    - ``test(old, new)``: [(check, ok, evidence)]; ``new`` is None for the
      test after the old value was put back.
    - ``idle(current)``: a message when there is nothing to do, else None.
      ``blocked_by``: {other key: refusal ({target} filled in)} while that
      key's rotation is pending (both answered before the lock is taken).
      ``lock``: a procedure that holds the target's lock around the
      rotation's own (``rotate <key>``). ``done(result)``: the message of a
      finished rotation.
    - ``masked``: other values read for it, never to be printed. ``hints``:
      the role's variables that refusals name (finish, abandon, value).
    """

    def __init__(self, key, apply, test, value=None, generate=None, validate=None, previous_key=None,
                 keep_previous=False, set_external=None, restore_external=None, idle=None, blocked_by=None,
                 lock=None, done=None, masked=(), hints=None):
        self.key, self.apply, self.test, self.value = key, apply, test, value
        self.generate, self.validate = generate, validate
        self.previous_key, self.keep_previous = previous_key, keep_previous
        self.set_external, self.restore_external = set_external, restore_external
        self.idle, self.blocked_by, self.done = idle, blocked_by or {}, done
        self.lock = lock
        self.masked = tuple(masked)
        self.hints = dict(dict(finish='run again without a new value or with the same one',
                               abandon='abandon_pending', value='new_value'), **(hints or {}))


def _hints(role, value_var, value_required=False):
    """The 'finish', 'abandon' and 'value' texts of a refusal, in the role's variables."""
    finish = ('run again with that same value (%s)' % value_var if value_required else
              'run again without %s, or with the same value' % value_var)
    return dict(finish=finish, abandon='%s_abandon_pending' % role, value=value_var)


def _recreate(p, *services):
    return procedures.recreate(services, p['wait_timeout'], p['backend_url'], p['validate_certs'])


def _tested(adapter, p, probe, after_unhealthy=False):
    """The backend's health, then ``probe(old, new)`` (skipped when health
    fails, unless ``after_unhealthy``)."""
    def test(old, new):
        checks = procedures.health_checks(adapter, p['backend_url'], p['wait_timeout'], p['validate_certs'])
        if after_unhealthy or all(c[1] for c in checks):
            checks = checks + probe(old, new)
        return checks
    return test


def _url(p, path):
    return p['backend_url'].rstrip('/') + path


def jwt_secret(module, adapter):
    """JWT_SECRET: 64 random hex characters; tokens signed with the new value
    accepted, with the old one refused, or still accepted while the grace
    period (keep_previous) keeps it as JWT_SECRET_PREVIOUS."""
    p = module.params
    url = _url(p, p['probe_path'])

    def done(result):
        return result['msg'] + (
            '; tokens signed with the old secret stay valid until the grace period is ended '
            '(end_grace, rotate_jwt_end_grace=true)' if p['keep_previous'] else
            '; every user must log in again (tokens signed with the old secret are refused)')
    return SecretSpec(
        'JWT_SECRET', _recreate(p, 'backend'),
        _tested(adapter, p, lambda old, new: jwt.token_checks(url, old, new, p['keep_previous'], p['validate_certs'])),
        generate=jwt.new_secret, previous_key=JWT_PREVIOUS, keep_previous=p['keep_previous'], done=done,
        # Resumed later, that end would put back a previous secret older than this rotation's.
        blocked_by={JWT_PREVIOUS: 'an end of the JWT grace period was interrupted in {target}; run rotate-jwt.yml '
                                  'with rotate_jwt_end_grace=true to finish it first (add '
                                  'rotate_jwt_abandon_pending=true to drop it instead)'},
        hints=_hints('rotate_jwt', 'rotate_jwt_new_secret'))


def jwt_grace_end(module, adapter):
    """The end of a grace period: JWT_SECRET_PREVIOUS emptied, JWT_SECRET
    kept; its token accepted, the dropped one's refused (accepted again
    after a put-back)."""
    p = module.params
    url = _url(p, p['probe_path'])
    current = adapter.get_config('JWT_SECRET')

    def probe(old, new):
        if new is None:  # after a rollback the grace period is in force again
            return jwt.expect_tokens(url, [('token of JWT_SECRET accepted', current, 200),
                                           ('token of JWT_SECRET_PREVIOUS accepted again', old, 200)],
                                     p['validate_certs'])
        return jwt.grace_end_checks(url, current, old, p['validate_certs'])

    def idle(previous):
        return None if previous else '%s is empty in %s: no grace period to end' % (JWT_PREVIOUS, adapter.describe())

    def done(result):
        return ('ended the grace period: %s (%s) dropped, verified by the backend; tokens signed with it are refused, '
                'JWT_SECRET (%s) is unchanged' % (JWT_PREVIOUS, result['old_fingerprint'], fingerprint(current)))
    return SecretSpec(
        JWT_PREVIOUS, _recreate(p, 'backend'), _tested(adapter, p, probe), value='', idle=idle, done=done,
        blocked_by={'JWT_SECRET': 'a rotation of JWT_SECRET was interrupted in {target}; run rotate-jwt.yml without '
                                  'end_grace to finish it first'},
        lock='end the JWT grace period', masked=(current,),
        hints=dict(finish='run again with rotate_jwt_end_grace=true', abandon='rotate_jwt_abandon_pending',
                   value='rotate_jwt_end_grace'))


def webhook_secret(module, adapter):
    """PAYMENT_WEBHOOK_SECRET: always supplied (the provider's dashboard makes
    it); a test event signed with it accepted, a wrongly signed one refused."""
    p = module.params
    url = _url(p, p['path'])
    return SecretSpec(
        'PAYMENT_WEBHOOK_SECRET', _recreate(p, 'backend'),
        _tested(adapter, p, lambda old, new: webhook.probe_until(url, new if new is not None else old, 10,
                                                                 p['validate_certs'])),
        hints=_hints('rotate_webhook_secret', 'rotate_webhook_secret_new', value_required=True))


def db_password(module, adapter):
    """DB_PASSWORD: 256 random bits, printable ASCII only; the role's password
    changed first (ALTER ROLE with a SCRAM verifier, through the admin
    connection), put back on a rollback; the new password logs in, the old
    one no longer does (tested even when health fails)."""
    p = module.params
    check_identifier_options(module)
    user = check_identifier(p['db_user'] or adapter.get_config('DB_USER') or 'quickbite',
                            'quickbite_db_user (or DB_USER)')
    tls = dict(sslmode=p['db_sslmode'], sslrootcert=p['db_sslrootcert'])
    target = dict(host=p['db_host'], port=p['db_port'], user=user,
                  dbname=check_identifier(p['db_name'] or adapter.get_config('DB_NAME') or 'quickbite',
                                          'quickbite_db_name (or DB_NAME)'), **tls)
    if p.get('access') == 'exec':  # psql in the database's container or pod, as postgres: no admin password
        set_password, logins = dbpassword.exec_steps(adapter, p, user, target)
        admin_password = None
    else:
        admin_password = p['admin_password'] or adapter.get_config('POSTGRES_PASSWORD')
        admin = dict(host=p['db_host'], port=p['db_port'], dbname=p['admin_db'], user=p['admin_user'],
                     password=admin_password, **tls)

        def set_password(password):
            dbpassword.set_password(admin, user, password)

        def logins(old, new):
            return dbpassword.login_checks(target, old, new)
    return SecretSpec(
        'DB_PASSWORD', _recreate(p, 'backend'), _tested(adapter, p, logins, after_unhealthy=True),
        generate=dbpassword.new_password, validate=dbpassword.check_password,
        set_external=lambda old, new: set_password(new), restore_external=lambda old, new: set_password(old),
        masked=(admin_password,), hints=_hints('rotate_db_password', 'rotate_db_password_new'))
