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
