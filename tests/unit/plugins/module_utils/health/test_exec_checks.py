"""health/exec_checks over a fake container: spawn runs a small Python stand-in
for psql or redis-cli, which records its argv and stdin."""
import json
import subprocess
import sys

from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.health import exec_checks

FAKE = r'''
import json, sys
argv, data = sys.argv[1:], sys.stdin.read()
open(sys.argv[0] + '.seen', 'w').write(json.dumps([argv, data]))
if argv[0] == 'psql':
    print('1'); print('15.8')
elif 'AUTH "\\x73\\x33\\x63\\x72\\x65\\x74\\x20\\x0a\\x22"' in data:
    print('OK'); print('PONG')
else:
    print('WRONGPASS invalid username-password pair or user is disabled.')
'''


def _spawn(tmp_path):
    script = tmp_path / 'fake.py'
    script.write_text(FAKE)

    def spawn(argv, stdin, stdout, stderr, env=None):
        return subprocess.Popen([sys.executable, str(script)] + list(argv), stdin=stdin, stdout=stdout, stderr=stderr)
    return spawn, tmp_path / 'fake.py.seen'


def test_db_runs_psql_as_postgres_on_the_local_socket(tmp_path):
    spawn, seen = _spawn(tmp_path)
    result = exec_checks.database(lambda: spawn, 5432, 'quickbite', 5, 'service postgres of namespace q')
    assert result['status'] == 'UP' and result['details']['server_version'] == '15.8'
    argv, data = json.loads(seen.read_text())
    assert argv[:6] == ['psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1'] and '--username=postgres' in argv
    assert "--dbname=dbname='quickbite'" in argv and data == ''


def test_redis_password_only_on_stdin_hex_escaped(tmp_path):
    spawn, seen = _spawn(tmp_path)
    result = exec_checks.redis(lambda: spawn, 6379, 's3cret \n"', 5, 'service redis')
    assert result['status'] == 'UP', result
    argv, data = json.loads(seen.read_text())
    assert argv == ['redis-cli', '-p', '6379'] and data.endswith('PING\n') and 's3cret' not in data
    refused = exec_checks.redis(lambda: spawn, 6379, 'other', 5, 'service redis')
    assert refused['status'] == 'DOWN' and refused['evidence'].startswith('AUTH refused by redis in service redis')


def test_no_pod_to_run_in_is_down_not_an_error():
    def starter():
        raise PlatformError('no Running and Ready pod of deployment postgres')
    result = exec_checks.database(starter, 5432, 'quickbite', 5, 'x')
    assert result['status'] == 'DOWN' and 'no Running and Ready pod' in result['evidence']


def test_a_hung_command_is_killed_at_the_timeout(tmp_path):
    def spawn(argv, stdin, stdout, stderr, env=None):
        return subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'], stdin=stdin, stdout=stdout,
                                stderr=stderr)
    result = exec_checks.redis(lambda: spawn, 6379, None, 1, 'service redis')
    assert result['status'] == 'DOWN' and 'did not answer within 1 s' in result['evidence']
