"""JWT secret rotation on the real Compose stack: verified by the backend
itself (old token refused, new accepted), env file kept byte for byte and
0600, rollback on failure, convergence after a kill, no secret anywhere."""
import base64
import hashlib
import hmac
import json
import os
import stat
import time
import urllib.error
import urllib.request

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils import envfile
from conftest import BACKEND_URL, kill_at_phase, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.compose]


def _token(secret):
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b'=').decode()
    now = int(time.time())
    head = b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())
    body = b64(json.dumps({'sub': 'test', 'iat': now, 'exp': now + 600}).encode())
    sig = hmac.new(secret.encode(), ('%s.%s' % (head, body)).encode(), hashlib.sha256).digest()
    return '%s.%s.%s' % (head, body, b64(sig))


def _orders(secret):
    request = urllib.request.Request(BACKEND_URL + '/api/orders',
                                     headers={'Authorization': 'Bearer ' + _token(secret)})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _env(stack):
    path = os.path.join(stack['dir'], '.env.prod')
    with open(path, 'rb') as handle:
        raw = handle.read()
    return path, raw, envfile.parse(raw.decode())


def _fp(value):
    return hashlib.sha256(value.encode()).hexdigest()[:8]


@pytest.fixture
def audit(tmp_path):
    return str(tmp_path / 'audit' / 'rotation.log')


@pytest.fixture
def crlf_symlinked_env(stack, tmp_path):
    """The demo's .env.prod as a symlink to a CRLF copy elsewhere whose
    JWT_SECRET is quoted and commented; afterwards the original regular file
    again, holding the secrets now in force (the backend runs with them)."""
    path = os.path.join(stack['dir'], '.env.prod')
    with open(path, 'rb') as handle:
        original = handle.read()
    text = original.decode().replace('\n', '\r\n')
    secret = envfile.parse(text)['JWT_SECRET']
    text = text.replace('JWT_SECRET=%s\r\n' % secret, 'JWT_SECRET = "%s"  # rotated by ops\r\n' % secret)
    target = tmp_path / 'secrets' / 'env.prod'
    target.parent.mkdir()
    target.write_bytes(text.encode())
    os.chmod(str(target), 0o600)
    os.unlink(path)
    os.symlink(str(target), path)
    try:
        yield path, str(target)
    finally:
        now = envfile.parse(target.read_bytes().decode())
        text = original.decode()
        for key in ('JWT_SECRET', 'JWT_SECRET_PREVIOUS'):
            text = envfile.set_key(text, key, now[key])
        os.unlink(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(text.encode())


def _vars(demo_vars, audit, **extra):
    return dict(demo_vars, rotate_jwt_audit_log=audit, rotate_jwt_wait_timeout=120, **extra)


def test_check_mode_changes_nothing(stack, demo_vars, audit, tmp_path):
    path, raw, values = _env(stack)
    run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit), check=True, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert run.result('jwt_rotate')['msg'].startswith('would rotate JWT_SECRET (now %s)' % _fp(values['JWT_SECRET']))
    assert run.result('jwt_rotate')['changed'] is True
    assert _env(stack)[1] == raw and not os.path.exists(audit)
    # The value already in force: check mode and the run both say unchanged (one decision), nothing restarted.
    same = _vars(demo_vars, audit, rotate_jwt_new_secret=values['JWT_SECRET'])
    planned = run_playbook('rotate-jwt.yml', extra=same, check=True, tmp_path=tmp_path).result('jwt_rotate')
    real = run_playbook('rotate-jwt.yml', extra=same, tmp_path=tmp_path).result('jwt_rotate')
    assert (planned['changed'], planned['outcome']) == (real['changed'], real['outcome']) == (False, 'unchanged')
    assert _env(stack)[1] == raw and (not os.path.exists(audit) or os.path.getsize(audit) == 0)  # nothing audited


def test_an_env_file_that_is_not_utf8_is_refused_naming_file_and_line(stack, demo_vars, audit, tmp_path):
    """One clear message (file, line, byte, how to fix), in check mode and in a
    run; the file and the running backend untouched."""
    path, raw, values = _env(stack)
    latin1 = tmp_path / 'env.latin1'
    latin1.write_bytes(raw + b'# caf\xe9 au lait\n')
    line = raw.count(b'\n') + 1
    for check in (True, False):
        run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit, quickbite_compose_env_file=str(latin1)),
                           check=check, tmp_path=tmp_path)
        assert run.rc != 0 and run.result('jwt_rotate')['msg'] == (
            'refusing to read env file %s: line %d is not UTF-8 (byte 0xe9 at column 6); convert the file to UTF-8 '
            '(iconv -f latin1 -t utf-8, or re-save it as UTF-8 in an editor) or remove that byte, then run again; '
            'nothing was changed' % (latin1, line)), run.output[-3000:]
        assert 'Traceback' not in run.output and not run.result('jwt_rotate').get('changed')
    assert latin1.read_bytes() == raw + b'# caf\xe9 au lait\n' and _env(stack)[1] == raw
    assert _orders(values['JWT_SECRET']) == 200


def test_rotation_is_verified_by_the_backend_and_keeps_the_env_file(stack, crlf_symlinked_env, demo_vars, audit,
                                                                    tmp_path):
    """On a symlinked CRLF env file whose JWT_SECRET is quoted and commented:
    written through the link, only the value's bytes change."""
    path, raw, values = _env(stack)
    old = values['JWT_SECRET']
    assert _orders(old) == 200
    mode = stat.S_IMODE(os.stat(path).st_mode)
    run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit), verbosity=3, tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    new_path, new_raw, new_values = _env(stack)
    new = new_values['JWT_SECRET']
    assert new != old and len(new) == 64 and int(new, 16) >= 0
    # Every other line byte for byte; mode kept.
    old_lines, new_lines = raw.split(b'\n'), new_raw.split(b'\n')
    assert len(old_lines) == len(new_lines)
    changed = [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b]
    assert [new_lines[i] for i in changed] == [b'JWT_SECRET = "%s"  # rotated by ops\r' % new.encode()]
    assert os.path.islink(path) and os.path.realpath(path) == crlf_symlinked_env[1]
    assert stat.S_IMODE(os.stat(path).st_mode) == mode == 0o600
    # Verified independently: the backend refuses the old secret, accepts the new one.
    assert _orders(old) == 401 and _orders(new) == 200
    result = run.result('jwt_rotate')
    assert result['outcome'] == 'rotated' and result['old_fingerprint'] == _fp(old)
    assert result['new_fingerprint'] == _fp(new) and 'every user must log in again' in result['msg']
    with open(audit) as handle:
        entries = [json.loads(line) for line in handle]
    assert entries[-1]['outcome'] == 'rotated' and entries[-1]['old'] == _fp(old) and entries[-1]['new'] == _fp(new)
    # Nothing printed at -vvv, returned, or audited holds either secret.
    everything = run.output + json.dumps(run.records) + open(audit).read()
    assert old not in everything and new not in everything


def test_keep_previous_keeps_old_tokens_valid(stack, demo_vars, audit, tmp_path):
    old = _env(stack)[2]['JWT_SECRET']
    run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit, rotate_jwt_keep_previous=True), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    values = _env(stack)[2]
    assert values['JWT_SECRET_PREVIOUS'] == old and _orders(old) == 200 and _orders(values['JWT_SECRET']) == 200
    run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit), tmp_path=tmp_path)
    assert run.rc == 0 and _env(stack)[2]['JWT_SECRET_PREVIOUS'] == '' and _orders(old) == 401


def test_end_grace_drops_only_the_previous_secret(stack, demo_vars, audit, tmp_path):
    """keep_previous, then end_grace: tokens of the dropped secret are refused,
    JWT_SECRET and its tokens stay; a second run has nothing to end."""
    old = _env(stack)[2]['JWT_SECRET']
    run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit, rotate_jwt_keep_previous=True), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert 'until the grace period is ended (end_grace, rotate_jwt_end_grace=true)' in run.result('jwt_rotate')['msg']
    path, raw, values = _env(stack)
    current = values['JWT_SECRET']
    assert values['JWT_SECRET_PREVIOUS'] == old and _orders(old) == 200
    run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit, rotate_jwt_end_grace=True), check=True,
                       tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert run.result('jwt_rotate')['msg'] == \
        'would rotate JWT_SECRET_PREVIOUS (now %s) to empty, then restart and test' % _fp(old)
    assert _env(stack)[1] == raw and _orders(old) == 200
    run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit, rotate_jwt_end_grace=True), verbosity=3,
                       tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    result = run.result('jwt_rotate')
    assert result['msg'] == ('ended the grace period: JWT_SECRET_PREVIOUS (%s) dropped, verified by the backend; '
                             'tokens signed with it are refused, JWT_SECRET (%s) is unchanged' % (_fp(old), _fp(current)))
    assert (result['old_fingerprint'], result['new_fingerprint']) == (_fp(old), 'empty')
    # Only the one line changed; verified independently by the backend.
    new_raw, new_values = _env(stack)[1:]
    assert [a for a, b in zip(raw.split(b'\n'), new_raw.split(b'\n')) if a != b] == [b'JWT_SECRET_PREVIOUS=' + old.encode()]
    assert new_values['JWT_SECRET'] == current and new_values['JWT_SECRET_PREVIOUS'] == ''
    assert _orders(old) == 401 and _orders(current) == 200
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(audit) as handle:
        entry = json.loads(handle.readlines()[-1])
    assert (entry['secret'], entry['old'], entry['new'], entry['outcome']) == ('JWT_SECRET_PREVIOUS', _fp(old), 'empty',
                                                                               'rotated')
    everything = run.output + json.dumps(run.records) + open(audit).read()
    assert old not in everything and current not in everything
    run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit, rotate_jwt_end_grace=True), tmp_path=tmp_path)
    assert run.rc == 0 and run.result('jwt_rotate')['changed'] is False
    assert run.result('jwt_rotate')['msg'] == \
        'JWT_SECRET_PREVIOUS is empty in compose project in %s: no grace period to end' % stack['dir']
    run = run_playbook('rotate-jwt.yml', tmp_path=tmp_path,
                       extra=_vars(demo_vars, audit, rotate_jwt_end_grace=True, rotate_jwt_keep_previous=True))
    assert run.rc != 0 and 'it cannot be combined with keep_previous (rotate_jwt_end_grace with rotate_jwt_keep_previous)' in run.output


def test_a_failing_backend_is_rolled_back(stack, crlf_symlinked_env, demo_vars, audit, tmp_path):
    """A secret the backend refuses to start with (64 bits: jjwt's
    WeakKeyException) fails the test and is put back: the env file's original
    bytes (a symlink to a CRLF file, the value quoted and commented), and the
    result says changed (the backend was recreated twice)."""
    path, raw, values = _env(stack)
    old = values['JWT_SECRET']
    bad = 'short-secret'
    run = run_playbook('rotate-jwt.yml', tmp_path=tmp_path, extra=dict(
        _vars(demo_vars, audit, rotate_jwt_new_secret=bad), rotate_jwt_wait_timeout=10))
    assert run.rc != 0
    assert 'rotation of JWT_SECRET rolled back' in run.output and 'is healthy' in run.output
    assert 'WeakKeyException' in run.output  # the backend's own words, from its last log lines
    assert _env(stack)[1] == raw and _orders(old) == 200 and os.path.islink(path)
    assert b'JWT_SECRET = "%s"  # rotated by ops\r\n' % old.encode() in raw
    assert run.result('jwt_rotate')['changed'] is True
    with open(audit) as handle:
        assert json.loads(handle.readlines()[-1])['outcome'] == 'rolled back'
    assert bad not in run.output


def test_a_run_killed_after_set_converges_when_run_again(stack, demo_vars, audit, tmp_path):
    old = _env(stack)[2]['JWT_SECRET']
    pending = os.path.join(stack['dir'], '.quickbite-ops', 'JWT_SECRET.pending.json')
    assert kill_at_phase('rotate_jwt.yml', _vars(demo_vars, audit), pending, 'jwt_rotate'), 'never reached "set"'
    assert os.path.exists(pending)
    assert stat.S_IMODE(os.stat(pending).st_mode) == 0o600

    run = run_playbook('rotate_jwt.yml', extra=_vars(demo_vars, audit), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert not os.path.exists(pending)
    new = _env(stack)[2]['JWT_SECRET']
    assert new != old and _orders(new) == 200 and _orders(old) == 401
    assert 'found an interrupted rotation (phase set); resuming' in ' '.join(run.result('jwt_rotate')['steps']), run.result('jwt_rotate')


def test_an_interrupted_end_of_grace_blocks_rotations_until_it_is_finished(stack, demo_vars, audit, tmp_path):
    """Resumed after a newer rotation, the end would put back an older previous
    secret: a rotation refuses while it is pending, end_grace finishes it."""
    old = _env(stack)[2]['JWT_SECRET']
    run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit, rotate_jwt_keep_previous=True), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    current = _env(stack)[2]['JWT_SECRET']
    pending = os.path.join(stack['dir'], '.quickbite-ops', 'JWT_SECRET_PREVIOUS.pending.json')
    assert kill_at_phase('rotate-jwt.yml', _vars(demo_vars, audit, rotate_jwt_end_grace=True), pending, 'jwt_rotate')
    run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit), tmp_path=tmp_path)
    assert run.rc != 0 and 'run rotate-jwt.yml with rotate_jwt_end_grace=true to finish it first' in run.output
    assert _env(stack)[2]['JWT_SECRET'] == current
    run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit, rotate_jwt_end_grace=True), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert 'found an interrupted rotation (phase set); resuming' in ' '.join(run.result('jwt_rotate')['steps'])
    assert not os.path.exists(pending) and _env(stack)[2]['JWT_SECRET_PREVIOUS'] == ''
    assert _orders(old) == 401 and _orders(current) == 200


def test_lock_refuses_a_second_rotation(stack, demo_vars, audit, tmp_path):
    import fcntl
    lock_path = os.path.join(stack['dir'], '.quickbite-ops', 'target.lock')
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, 'a+') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        run = run_playbook('rotate-jwt.yml', extra=_vars(demo_vars, audit), tmp_path=tmp_path)
    assert run.rc != 0 and 'refusing to rotate JWT_SECRET: another run holds the lock of the compose project' in run.output
