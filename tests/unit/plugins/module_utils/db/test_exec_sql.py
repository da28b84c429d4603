"""The psql session of the exec access path, with real processes standing in
for psql: what reaches its stdin (never a value's own bytes) and the read
deadline (a silent psql is killed and reported within the limit). The round
trip through a real psql is in tests/integration/test_db_names_compose.py."""
import binascii
import re
import subprocess
import tempfile
import time

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.db import exec_sql
from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError

HOSTILE = "x'\n\\! touch /tmp/pwned\nDROP DATABASE important; -- \\\\ \"q\" \r\u00e9"
LINE = re.compile(r"^SELECT convert_from\(decode\('([0-9a-f]*)', 'hex'\), 'UTF8'\) AS ([a-z_]+) \\gset\n$")


@pytest.mark.parametrize('value', [HOSTILE, '', 'quickbite', "';\\set x 1", 12])
def test_a_variable_is_set_from_hex_digits_only(value):
    line = exec_sql.set_variable('name', value)
    match = LINE.match(line)
    assert match and match.group(2) == 'name'
    assert binascii.unhexlify(match.group(1)).decode('utf-8') == str(value)


@pytest.mark.parametrize('name', ['Name', 'a b', 'x\n', 'v;', '', '1v'])
def test_variable_names_are_code_not_input(name):
    with pytest.raises(ValueError):
        exec_sql.set_variable(name, 'v')


def _silent_psql(tmp_path, procs):
    """A 'psql' that swallows its input into a file and never answers."""
    record = tmp_path / 'stdin'

    def spawn(argv, stdin, stdout, stderr, env=None):
        procs.append(subprocess.Popen(['sh', '-c', 'cat > "$0"; sleep 60', str(record)], stdin=stdin,
                                      stdout=stdout, stderr=stderr))
        return procs[-1]
    return spawn, record


def test_a_silent_psql_is_killed_and_reported_within_the_limit(tmp_path):
    procs = []
    spawn, record = _silent_psql(tmp_path, procs)
    session = exec_sql.PsqlSession(spawn, 5432, 'quickbite', timeout=1)
    started = time.monotonic()
    with pytest.raises(PlatformError) as err:
        session.__enter__()
    assert time.monotonic() - started < 3
    assert 'did not answer within 1 s' in err.value.msg and 'quickbite_db_exec_timeout' in err.value.msg
    assert procs[0].poll() is not None  # killed, not left behind


def test_a_hostile_value_never_reaches_psql_stdin_as_text(tmp_path):
    procs = []
    spawn, record = _silent_psql(tmp_path, procs)
    session = exec_sql.PsqlSession(spawn, 5432, 'quickbite', timeout=1)
    session.stderr = tempfile.TemporaryFile()
    session.proc = spawn(session.argv, subprocess.PIPE, subprocess.PIPE, session.stderr)
    with pytest.raises(PlatformError):
        session.rows("SELECT :'v'", v=HOSTILE)
    sent = record.read_bytes()
    assert b'DROP' not in sent and b'pwned' not in sent and b'\\!' not in sent
    assert binascii.hexlify(HOSTILE.encode('utf-8')) in sent
    lines = sent.decode('ascii').splitlines(True)
    assert LINE.match(lines[0]) and lines[1:] == ["SELECT :'v'\n", ';\n', '\\echo __quickbite_ops_end_1__\n']


def test_the_database_name_reaches_psql_as_a_quoted_keyword():
    session = exec_sql.PsqlSession(None, 5432, "dbname=important'")
    assert session.argv[-1] == "--dbname=dbname='dbname=important\\''"


# --------------------------------------------------------------------------- logins (the password rotation's tests)
CONNECT = re.compile(r"^\\connect -reuse-previous=off '((?:\\x[0-9a-f]{2})+)'\n")


def _psql_answering(tmp_path, stdout=b'', stderr=b'', code=0):
    """A 'psql' that records its argv and stdin and answers as told."""
    record = tmp_path / 'stdin'
    argv_seen = []

    def spawn(argv, stdin, stdout_, stderr_, env=None):
        argv_seen.append(list(argv))
        script = 'cat > "$0"; printf "%%s" "$1"; printf "%%s" "$2" >&2; exit %d' % code
        return subprocess.Popen(['sh', '-c', script, str(record), stdout.decode(), stderr.decode()],
                                stdin=stdin, stdout=stdout_, stderr=stderr_)
    return spawn, record, argv_seen


def test_the_login_sends_the_password_on_stdin_only_and_every_byte_escaped(tmp_path):
    spawn, record, argv_seen = _psql_answering(tmp_path, stdout=exec_sql.LOGIN_OK.encode() + b'\n')
    keywords = dict(host='postgres', port=5432, dbname='quickbite', user='quickbite', password=HOSTILE)
    assert exec_sql.login(spawn, 5432, 'postgres', keywords, 5) == (True, 'connected')
    assert HOSTILE not in repr(argv_seen) and 'quickbite' not in ' '.join(argv_seen[0][:-1])
    sent = record.read_bytes().decode('ascii')
    match = CONNECT.match(sent)
    assert match, sent
    text = bytes(int(h, 16) for h in match.group(1).split('\\x')[1:]).decode('utf-8')
    # psql reads the argument as a quoted identifier: double quotes around, inner ones doubled.
    assert text.startswith('"') and text.endswith('"')
    conninfo = text[1:-1].replace('""', '"')
    assert "password='%s'" % HOSTILE.replace('\\', '\\\\').replace("'", "\\'") in conninfo
    assert "host='postgres'" in conninfo and "user='quickbite'" in conninfo


def test_a_refused_login_is_false_and_a_psql_that_cannot_start_is_no_answer(tmp_path):
    refused = b'\\connect: connection to server at "10.0.0.5", port 5432 failed: FATAL:  password authentication ' \
              b'failed for user "quickbite"\n'
    spawn, dummy, dummy2 = _psql_answering(tmp_path, stderr=refused, code=2)
    works, detail = exec_sql.login(spawn, 5432, 'postgres', dict(password='x'), 5)
    assert works is False and detail.startswith('connection to server at "10.0.0.5"') and 'password auth' in detail
    broken = b'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: FATAL:  ' \
             b'Peer authentication failed for user "postgres"\n'
    spawn, dummy, dummy2 = _psql_answering(tmp_path, stderr=broken, code=2)
    works, detail = exec_sql.login(spawn, 5432, 'postgres', dict(password='x'), 5)
    assert works is None and 'failed before the login' in detail and 'Peer authentication failed' in detail
