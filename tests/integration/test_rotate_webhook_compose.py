"""Payment webhook secret on the real Compose stack, and webhook_probe."""
import hashlib
import json
import os

import pytest

from conftest import kill_at_phase, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.compose]

NEW = 'whsec_from_the_dashboard_' + 'f' * 24


def _fp(value):
    return hashlib.sha256(value.encode()).hexdigest()[:8]


def _env(stack):
    with open(os.path.join(stack['dir'], '.env.prod'), 'rb') as handle:
        raw = handle.read()
    return raw, dict(line.split('=', 1) for line in raw.decode().splitlines() if '=' in line and not line.startswith('#'))


def test_missing_secret_fails_at_once_saying_how_to_pass_it(stack, demo_vars, tmp_path):
    raw = _env(stack)[0]
    run = run_playbook('rotate_webhook_secret.yml', extra=demo_vars, tmp_path=tmp_path)
    assert run.rc != 0 and 'rotate_webhook_secret_new is not set' in run.output
    assert 'survey password field' in run.output and _env(stack)[0] == raw


def test_rotation_verified_with_signed_events_then_rollback(stack, demo_vars, tmp_path):
    raw, values = _env(stack)
    old = values['PAYMENT_WEBHOOK_SECRET']
    audit = str(tmp_path / 'rotation.log')
    extra = dict(demo_vars, rotate_webhook_secret_new=NEW, rotate_webhook_secret_audit_log=audit)
    run = run_playbook('rotate_webhook_secret.yml', extra=extra, verbosity=3, tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    assert _env(stack)[1]['PAYMENT_WEBHOOK_SECRET'] == NEW
    checks = dict((c['check'], c) for c in run.result('webhook_rotate')['checks'])
    assert checks['signed test event accepted']['ok'] and checks['wrongly signed event refused']['ok']
    everything = run.output + json.dumps(run.records) + open(audit).read()
    assert NEW not in everything and old not in everything

    # A test that fails (the endpoint path is wrong) puts the old value back.
    run = run_playbook('rotate_webhook_secret.yml', tmp_path=tmp_path, extra=dict(
        extra, rotate_webhook_secret_new=old, rotate_webhook_secret_path='/api/payments/nope',
        rotate_webhook_secret_wait_timeout=8))
    assert run.rc != 0 and 'rotation of PAYMENT_WEBHOOK_SECRET rolled back' in run.output
    assert _env(stack)[1]['PAYMENT_WEBHOOK_SECRET'] == NEW

    run = run_playbook('rotate_webhook_secret.yml', extra=dict(extra, rotate_webhook_secret_new=old), tmp_path=tmp_path)
    assert run.rc == 0 and _env(stack)[0] == raw


def test_killed_after_set_converges(stack, demo_vars, tmp_path):
    """Killed after "set"; resumed with another value it is refused (an
    outdated value is never re-applied), with the same value it finishes."""
    raw, values = _env(stack)
    old = values['PAYMENT_WEBHOOK_SECRET']
    pending = os.path.join(stack['dir'], '.quickbite-ops', 'PAYMENT_WEBHOOK_SECRET.pending.json')
    extra = dict(demo_vars, rotate_webhook_secret_new=NEW, rotate_webhook_secret_audit_log=str(tmp_path / 'a.log'))
    assert kill_at_phase('rotate_webhook_secret.yml', extra, pending, 'webhook_rotate')
    assert os.path.exists(pending)
    newer = 'whsec_newer_from_the_dashboard_' + 'e' * 20
    for check in (True, False):
        run = run_playbook('rotate_webhook_secret.yml', extra=dict(extra, rotate_webhook_secret_new=newer),
                           check=check, tmp_path=tmp_path)
        assert run.rc != 0 and run.result('webhook_rotate')['msg'].startswith(
            'refusing to resume the interrupted rotation of PAYMENT_WEBHOOK_SECRET in compose project in %s with '
            'another value: it was started with a new value of fingerprint %s, the value supplied now has fingerprint '
            '%s. To finish it, run again with that same value (rotate_webhook_secret_new); to drop it' % (
                stack['dir'], _fp(NEW), _fp(newer))), run.output[-3000:]
        assert 'rotate_webhook_secret_abandon_pending=true' in run.output and newer not in run.output
        assert os.path.exists(pending) and _env(stack)[1]['PAYMENT_WEBHOOK_SECRET'] == NEW
    run = run_playbook('rotate_webhook_secret.yml', extra=extra, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert not os.path.exists(pending) and _env(stack)[1]['PAYMENT_WEBHOOK_SECRET'] == NEW
    run = run_playbook('rotate_webhook_secret.yml', extra=dict(extra, rotate_webhook_secret_new=old), tmp_path=tmp_path)
    assert run.rc == 0 and _env(stack)[0] == raw


def test_abandon_pending_puts_the_original_bytes_back(stack, demo_vars, tmp_path):
    """Killed after "set", then rotate_webhook_secret_abandon_pending=true:
    the env file's bytes as before, the backend restarted and verified with
    the old secret; check mode predicts it, a second abandon has nothing to do."""
    raw, values = _env(stack)
    pending = os.path.join(stack['dir'], '.quickbite-ops', 'PAYMENT_WEBHOOK_SECRET.pending.json')
    extra = dict(demo_vars, rotate_webhook_secret_new=NEW, rotate_webhook_secret_audit_log=str(tmp_path / 'a.log'))
    assert kill_at_phase('rotate_webhook_secret.yml', extra, pending, 'webhook_rotate')
    assert _env(stack)[1]['PAYMENT_WEBHOOK_SECRET'] == NEW
    abandon = dict(demo_vars, rotate_webhook_secret_abandon_pending=True,
                   rotate_webhook_secret_audit_log=str(tmp_path / 'a.log'))
    planned = run_playbook('rotate_webhook_secret.yml', extra=abandon, check=True, tmp_path=tmp_path)
    assert planned.rc == 0 and planned.result('webhook_rotate')['outcome'] == 'would abandon'
    assert planned.result('webhook_rotate')['changed'] is True and os.path.exists(pending)
    run = run_playbook('rotate_webhook_secret.yml', extra=abandon, tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    result = run.result('webhook_rotate')
    assert (result['outcome'], result['changed']) == ('abandoned', True)
    assert _env(stack)[0] == raw and not os.path.exists(pending)
    checks = dict((c['check'], c['ok']) for c in result['checks'])
    assert checks['signed test event accepted'] and checks['wrongly signed event refused']
    run = run_playbook('rotate_webhook_secret.yml', extra=abandon, tmp_path=tmp_path)
    assert run.rc == 0 and run.result('webhook_rotate')['changed'] is False
