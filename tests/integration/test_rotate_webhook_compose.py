"""Payment webhook secret on the real Compose stack, and webhook_probe."""
import json
import os

import pytest

from conftest import kill_at_phase, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.compose]

NEW = 'whsec_from_the_dashboard_' + 'f' * 24


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
        rotate_webhook_secret_wait_timeout=30))
    assert run.rc != 0 and 'rotation of PAYMENT_WEBHOOK_SECRET rolled back' in run.output
    assert _env(stack)[1]['PAYMENT_WEBHOOK_SECRET'] == NEW

    run = run_playbook('rotate_webhook_secret.yml', extra=dict(extra, rotate_webhook_secret_new=old), tmp_path=tmp_path)
    assert run.rc == 0 and _env(stack)[0] == raw


def test_killed_after_set_converges(stack, demo_vars, tmp_path):
    raw, values = _env(stack)
    old = values['PAYMENT_WEBHOOK_SECRET']
    pending = os.path.join(stack['dir'], '.quickbite-ops', 'PAYMENT_WEBHOOK_SECRET.pending.json')
    extra = dict(demo_vars, rotate_webhook_secret_new=NEW, rotate_webhook_secret_audit_log=str(tmp_path / 'a.log'))
    assert kill_at_phase('rotate_webhook_secret.yml', extra, pending, 'webhook_rotate')
    assert os.path.exists(pending)
    run = run_playbook('rotate_webhook_secret.yml', extra=extra, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert not os.path.exists(pending) and _env(stack)[1]['PAYMENT_WEBHOOK_SECRET'] == NEW
    run = run_playbook('rotate_webhook_secret.yml', extra=dict(extra, rotate_webhook_secret_new=old), tmp_path=tmp_path)
    assert run.rc == 0 and _env(stack)[0] == raw
