"""Names of databases and roles where they enter (refusals as a case table),
libpq's reading of the --dbname the programs get, and the TLS settings that
reach psycopg2 and the client programs (recorded by stand-in programs)."""
import stat

import psycopg2.extensions
import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.db import connection
from ansible_collections.quickbite.ops.plugins.module_utils.db.client import Client, make_client
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Pipeline
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from tests.unit.fakes import FakeModule

HOSTILE = [
    'qb\nDROP DATABASE important;',
    'qb\rx',
    'tab\there',
    'nul\x00',
    'del\x7f',
    'dbname=important',
    'host=evil dbname=x',
    'x' * 64,
    u'\u00e9' * 32,            # 64 bytes in UTF-8
    '',
]
FINE = ['quickbite', 'Quick Bite', "o'brien", 'back\\slash', '"quoted"', 'x' * 63, u'\u00e9' * 31 + 'x',
        'postgresql://not-a-uri-here']


@pytest.mark.parametrize('value', HOSTILE)
def test_hostile_names_are_refused(value):
    with pytest.raises(ConfigError) as err:
        connection.check_identifier(value, 'quickbite_db_name')
    assert err.value.msg.startswith('refusing quickbite_db_name ')
    assert 'Set quickbite_db_name to' in err.value.msg and 'nothing was changed' in err.value.msg
    assert '\n' not in err.value.msg and '\r' not in err.value.msg


@pytest.mark.parametrize('value', FINE)
def test_ordinary_names_pass(value):
    assert connection.check_identifier(value, 'quickbite_db_name') == value


@pytest.mark.parametrize('option,variable', [('db_name', 'quickbite_db_name'), ('db_user', 'quickbite_db_user'),
                                             ('admin_user', 'quickbite_db_admin_user'), ('admin_db', 'admin_db'),
                                             ('database', 'verify_backup_database')])
def test_every_name_option_is_checked_before_anything_is_read(option, variable):
    class NoAdapter(object):
        def get_config(self, key):
            raise AssertionError('the deployment was read before the options were checked')
    module = FakeModule(dict({option: 'x\nDROP DATABASE canary;'}))
    with pytest.raises(ConfigError) as err:
        connection.resolve_target(module, NoAdapter())
    assert err.value.msg.startswith('refusing %s' % variable) and 'control character' in err.value.msg


def test_a_name_from_the_deployment_is_checked_too():
    class Adapter(object):
        def get_config(self, key):
            return {'DB_NAME': 'dbname=important'}.get(key)
    with pytest.raises(ConfigError) as err:
        connection.resolve_target(FakeModule({}), Adapter())
    assert "the deployment's DB_NAME" in err.value.msg and 'quickbite_db_name' in err.value.msg


@pytest.mark.parametrize('value', HOSTILE[:-1] + FINE)
def test_dbname_arg_is_one_quoted_keyword_that_libpq_reads_back_verbatim(value):
    if '\x00' in value:
        return  # argv cannot carry NUL at all
    arg = connection.dbname_arg(value)
    assert arg.startswith("--dbname=dbname='")
    # psycopg2's parse_dsn is libpq's PQconninfoParse: the same parser pg_dump and psql use on --dbname.
    assert psycopg2.extensions.parse_dsn(arg[len('--dbname='):]) == {'dbname': value}


def _target(**kwargs):
    return connection.Target('127.0.0.1', 15432, 'quickbite', 'quickbite', 'secret', 5, **kwargs)


def test_tls_settings_go_to_psycopg2_and_to_the_environment_never_to_argv():
    target = _target(sslmode='verify-full', sslrootcert='/etc/ssl/qb-ca.pem')
    assert target.ssl_keywords() == dict(sslmode='verify-full', sslrootcert='/etc/ssl/qb-ca.pem')
    env = target.env()
    assert env['PGSSLMODE'] == 'verify-full' and env['PGSSLROOTCERT'] == '/etc/ssl/qb-ca.pem'
    admin = target.login('postgres', 'postgres', 'other')
    assert (admin.sslmode, admin.sslrootcert, admin.dbname, admin.user) == ('verify-full', '/etc/ssl/qb-ca.pem',
                                                                            'postgres', 'postgres')
    for client in (Client(target, admin), Client(target, admin, spawn=lambda *a, **k: None)):
        stage = client.stage('pg_dump', ['--format=plain'], dbname="we'ird")
        assert not [arg for arg in stage.argv if 'ssl' in arg.lower() or 'password' in arg.lower()]
        assert "--dbname=dbname='we\\'ird'" in stage.argv
    assert _target().env()['PGSSLMODE'] == 'prefer' and 'sslrootcert' not in _target().ssl_keywords()


RECORDER = """#!/bin/sh
{ echo "argv=$*"; echo "PGSSLMODE=$PGSSLMODE"; echo "PGSSLROOTCERT=$PGSSLROOTCERT"; echo "PGDATABASE=$PGDATABASE"; } \
  > "%s/$(basename "$0").seen"
"""


@pytest.mark.parametrize('program,args,as_admin', [('pg_dump', ['--format=plain'], False),
                                                   ('psql', ['-X', '-q'], True),
                                                   ('pg_restore', ['--exit-on-error'], True)])
def test_client_programs_receive_the_tls_settings_in_their_environment(tmp_path, program, args, as_admin):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    fake = bindir / program
    fake.write_text(RECORDER % tmp_path)
    fake.chmod(stat.S_IRWXU)
    target = _target(sslmode='require', sslrootcert=str(tmp_path / 'ca.pem'))
    client = Client(target, target.login('postgres', 'postgres', 'x'), pg_bin_dir=str(bindir))
    pipe = Pipeline([client.stage(program, args, dbname='quickbite', as_admin=as_admin)])
    pipe.start().read()
    pipe.wait()
    seen = dict(line.split('=', 1) for line in (tmp_path / (program + '.seen')).read_text().splitlines())
    assert seen['PGSSLMODE'] == 'require' and seen['PGSSLROOTCERT'] == str(tmp_path / 'ca.pem')
    assert seen['argv'].startswith("--dbname=dbname='quickbite'") and 'ssl' not in seen['argv']


def test_a_missing_root_certificate_is_refused_naming_the_variable(tmp_path):
    module = FakeModule(dict(db_name='quickbite', db_user='quickbite', db_password='x',
                             db_sslmode='verify-full', db_sslrootcert=str(tmp_path / 'absent.pem')))
    with pytest.raises(ConfigError) as err:
        connection.resolve_target(module)
    assert 'quickbite_db_sslrootcert' in err.value.msg
    (tmp_path / 'ca.pem').write_text('')
    module.params['db_sslrootcert'] = str(tmp_path / 'ca.pem')
    target = connection.resolve_target(module)
    assert (target.sslmode, target.sslrootcert) == ('verify-full', str(tmp_path / 'ca.pem'))


def test_exec_timeout_below_one_second_is_refused():
    with pytest.raises(ConfigError) as err:
        make_client(FakeModule(dict(access='libpq', exec_timeout=0)), None, _target())
    assert 'quickbite_db_exec_timeout' in err.value.msg
    assert make_client(FakeModule(dict(access='libpq')), None, _target()).exec_timeout == 600


def test_connect_hint_names_the_tls_variables_for_tls_failures():
    hint = connection.connect_hint(Exception('server does not support SSL, but SSL was required'), 'require')
    assert 'quickbite_db_sslmode (now require)' in hint
    assert 'quickbite_db_password' in connection.connect_hint(Exception('password authentication failed'), 'prefer')
