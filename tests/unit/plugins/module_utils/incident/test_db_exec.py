"""The database evidence from inside its container: the volume's free space
(SHOW data_directory, else $PGDATA, then df -P -k) and the psql variant of
the database questions, over recorded output of PostgreSQL 15's psql and
Debian bookworm's df (coreutils 9.1)."""
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.incident import _db_exec

# df -P -k /var/lib/postgresql/data in the reference stack's postgres container.
DF = ('Filesystem     1024-blocks     Used Available Capacity Mounted on\n'
      '/dev/vdb        264212084 36759096  69629508      35% /var/lib/postgresql/data\n')
# The same on a nearly full volume.
DF_FULL = ('Filesystem     1024-blocks  Used Available Capacity Mounted on\n'
           'tmpfs                 4096  3700       396      91% /var/lib/postgresql/data\n')


class Proc(object):
    def __init__(self, code):
        self.code = code

    def wait(self, timeout=None):
        return self.code

    def kill(self):
        pass


def spawner(answers, calls):
    """A spawn() that answers each argv[0] with (exit code, stdout, stderr)."""
    def spawn(argv, stdin, stdout, stderr, env=None):
        calls.append(list(argv))
        code, out, err = answers[argv[0]]
        stdout.write(out.encode())
        stderr.write(err.encode())
        return Proc(code)
    return lambda: spawn


class Masker(object):
    def text(self, text):
        return text.replace('s3cret', '********')


def test_volume_asks_the_server_for_its_data_directory_then_df():
    calls = []
    vol = _db_exec.volume(spawner({'psql': (0, '/var/lib/postgresql/data\n', ''), 'df': (0, DF, '')}, calls),
                          15432, '', 5, 'postgres')
    assert calls[0][:2] == ['psql', '-X'] and '--port=15432' in calls[0] and calls[0][-1] == 'SHOW data_directory'
    assert calls[1] == ['df', '-P', '-k', '/var/lib/postgresql/data']
    assert vol['available'] and vol['found_by'] == 'SHOW data_directory' and not vol['full']
    assert vol['avail_bytes'] == 69629508 * 1024 and vol['size_bytes'] == 264212084 * 1024
    assert vol['mountpoint'] == '/var/lib/postgresql/data' and vol['used_pct'] == 34.6
    assert _db_exec.volume_line(vol) == ('volume /var/lib/postgresql/data (/var/lib/postgresql/data in postgres): '
                                         '67997.6 MB free of 258019.6 MB, 34.6% used')


def test_volume_falls_back_to_pgdata_and_a_full_one_is_flagged():
    calls = []
    vol = _db_exec.volume(spawner({'psql': (2, '', 'psql: error: connection to server on socket failed\n'),
                                   'printenv': (0, '/data\n', ''), 'df': (0, DF_FULL, '')}, calls),
                          5432, '', 5, 'postgres')
    assert [c[0] for c in calls] == ['psql', 'printenv', 'df'] and calls[2][-1] == '/data'
    assert vol['full'] and vol['used_pct'] == 90.3 and vol['found_by'].startswith('$PGDATA (psql: psql: error')


def test_a_given_data_directory_is_used_as_is():
    calls = []
    vol = _db_exec.volume(spawner({'df': (0, DF, '')}, calls), 5432, '/pg', 5, 'postgres')
    assert calls == [['df', '-P', '-k', '/pg']] and vol['found_by'] == 'incident_db_data_dir'


def test_no_exec_into_the_database_says_why_and_never_raises():
    def starter():
        raise ConfigError('postgres is external: no pod to exec into')
    vol = _db_exec.volume(starter, 5432, '', 5, 'postgres')
    assert vol == dict(available=False, service='postgres', why='free space of the database volume unknown: '
                       'postgres is external: no pod to exec into')
    calls = []
    vol = _db_exec.volume(spawner({'df': (1, '', "df: /nope: No such file or directory\n")}, calls), 1, '/nope', 5,
                          'postgres')
    assert vol['why'] == 'free space of the database volume unknown: df -P -k /nope: df: /nope: No such file or directory'


def test_database_through_psql_reads_every_answer_and_masks_query_texts():
    out = ('Timing is on.\n1\nTime: 0.412 ms\n7\x1f100\x1f7708007\nTime: 1.0 ms\n1\nTime: 0.2 ms\n'
           '4242\x1fquickbite\x1factive\x1f45\x1fSELECT pg_sleep(60) -- s3cret\nTime: 0.3 ms\n')
    calls = []
    ok, summary, data = _db_exec.database(spawner({'psql': (0, out, '')}, calls), 5432, 'quickbite', 5, 30,
                                          Masker(), 'service postgres of namespace quickbite')
    assert not ok and data['select1_ms'] == 0.412 and data['connections'] == 7 and data['max_connections'] == 100
    assert data['blocked_locks'] == 1 and data['size_bytes'] == 7708007
    assert data['long_queries'] == [dict(pid=4242, user='quickbite', state='active', seconds=45,
                                         query='SELECT pg_sleep(60) -- ********')]
    assert summary.startswith('SELECT 1 in 0.4 ms on database quickbite in service postgres of namespace quickbite')
    assert '1 lock(s) waiting, 1 quer(ies) running over 30 s' in summary
    argv = calls[0]
    assert argv[argv.index('-F') + 1] == '\x1f' and 'make_interval(secs => 30)' in argv[-1]
    assert "replace(left(query, 120), E'\\n', ' ')" in argv[-1]


def test_database_through_psql_that_cannot_connect_is_unreachable():
    ok, summary, data = _db_exec.database(spawner({'psql': (2, '', 'psql: error: connection refused\n')}, []), 5432,
                                          'quickbite', 5, 30, Masker(), 'service postgres')
    assert not ok and data == dict(reachable=False) and summary.endswith('psql: error: connection refused')


def test_parse_df_keeps_a_mountpoint_with_spaces():
    found = _db_exec.parse_df('Filesystem 1024-blocks Used Available Capacity Mounted on\n'
                              'srv:/x 100 50 50 50% /mnt/my volume\n')
    assert found['mountpoint'] == '/mnt/my volume' and found['used_pct'] == 50.0


def sequence(answers, inputs):
    """A spawn() answering its calls in turn, keeping what each got on stdin."""
    def spawn(argv, stdin, stdout, stderr, env=None):
        inputs.append((list(argv), stdin.read() if hasattr(stdin, 'read') else None))
        code, out, err = answers.pop(0)
        stdout.write(out.encode())
        stderr.write(err.encode())
        return Proc(code)
    return lambda: spawn


# redis-cli 7.0 without a terminal: AUTH's OK, then INFO's text as it is (CRLF lines).
INFO = ('OK\n# Server\r\nredis_version:7.0.15\r\n\r\n# Clients\r\nconnected_clients:3\r\n\r\n# Memory\r\n'
        'used_memory:1048576\r\nmaxmemory:2097152\r\n\r\n# Stats\r\npubsub_channels:2\r\n')


def test_redis_through_redis_cli_reads_info_and_keeps_the_password_off_argv():
    inputs = []
    ok, summary, data = _db_exec.redis(sequence([(0, 'OK\nPONG\n', ''), (0, INFO, '')], inputs), 6379, 'pa"ss',
                                       5, 'service redis of namespace quickbite')
    assert ok and data == dict(reachable=True, used_memory=1048576, maxmemory=2097152, connected_clients=3,
                               pubsub_channels=2, version='7.0.15')
    assert summary == ('PING answered PONG from redis in service redis of namespace quickbite (redis-cli on port 6379); '
                       'memory 1.0 MB of 2.0 MB, 3 client(s), 2 pub/sub channel(s)')
    assert all(argv == ['redis-cli', '-p', '6379'] for argv, dummy in inputs)
    assert inputs[1][1].endswith(b'INFO\n') and b'AUTH "\\x70\\x61\\x22\\x73\\x73"' in inputs[1][1]


def test_redis_through_redis_cli_that_refuses_is_unreachable():
    ok, summary, data = _db_exec.redis(sequence([(0, 'OK\n', "Could not connect to Redis at 127.0.0.1:6379\n")], []),
                                       6379, None, 5, 'service redis')
    assert not ok and data == dict(reachable=False) and 'service redis' in summary
