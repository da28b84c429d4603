"""Compose itself as the oracle for envfile/_dotenv: a table of env files is
given to ``docker compose config --format json`` (one service per case, its
``env_file``), and what Compose hands the container must be what envfile
reads; values written by envfile.set_key must read back the same in Compose.
Needs only the docker CLI and its compose plugin (``config`` talks to no
daemon), no stack and no stack lock."""
import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils import envfile

pytestmark = [pytest.mark.integration, pytest.mark.compose]

RECORDED = os.path.join(os.path.dirname(__file__), '..', 'unit', 'fixtures', 'compose', '2.40.3', 'dotenv.json')

CASES = [
    ('plain', 'A=1\nB=two words\n'),
    ('comment_after_quotes', 'JWT_SECRET = "a #x"  # note\n'),
    ('comments', '# head\nA=x # comment\nB=x#not-a-comment\nC=x\t# tab is not a comment start\n  # indented\n'),
    ('export', 'export A=1\nexport  B="2"\nexportC=3\n'),
    ('crlf', 'A=1\r\nB="two"\r\nC=\'three\'  # c\r\nD=x # y\r\n'),
    ('escapes', 'A="a\\nb\\tc\\\\d\\"e"\nB=\'a\\nb\\\'c\'\nC="\\$HOME \\0101 \\q"\nD=a\\nb\n'),
    ('interpolation', 'A=1\nB=${A}\nC=$A-x\nD="${A}y"\nE=\'${A}\'\nF=${MISSING:-dflt}\nG=$${A}\nH=${A:+set}\n'),
    ('multiline', 'A="line1\nline2"\nB=\'x\ny\'\nC=after\n'),
    ('empty', 'A=\nB=""\nC=\'\'\nD= # only a comment\n'),
    ('spaces', 'A = spaced  \nB:\tyaml-style\n   C=indented\n'),
    ('last_wins', 'A=first\nA=second\n'),
    ('unicode', 'A=caf\u00e9 \u2603\nB="\u00e9\\u00e9"\n'),
    ('bom', '\ufeffA=1\n'),
    ('no_final_newline', 'A=1\nB="x"'),
    ('specials', 'A=a=b\nB=x\'y\nC="it\'s"\nD=\'say "hi"\'\nE=#start\nF=a  #  b  \n'),
]

WRITES = ['n3w', 'has space', "it's", 'say "hi"', 'back\\slash', 'ends\\', 'dollar$HOME', '${A}', 'hash # x',
          '#lead', ' lead', 'trail ', 'caf\u00e9', '', 'x=y', 'tab\there']


def _compose_config(tmp_path, files):
    """{case: environment} as Compose resolves it for one service per case."""
    if not shutil.which('docker'):
        pytest.skip('docker CLI not installed')
    services = dict((name, {'image': 'scratch', 'env_file': ['%s.env' % name]}) for name in files)
    for name, data in files.items():
        (tmp_path / ('%s.env' % name)).write_bytes(data)
    (tmp_path / 'compose.yml').write_text(json.dumps({'name': 'oracle', 'services': services}))
    # A clean environment: no variable of the caller's shell may leak into ${...}.
    proc = subprocess.run(['docker', 'compose', '-f', str(tmp_path / 'compose.yml'), 'config', '--format', 'json'],
                          capture_output=True, text=True, timeout=60, check=False, cwd=str(tmp_path),
                          env={'PATH': os.environ['PATH'], 'HOME': str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    # ``config`` prints a literal $ as $$ (its output is a compose file again).
    return dict((name, dict((k, v.replace('$$', '$')) for k, v in (service.get('environment') or {}).items()))
                for name, service in json.loads(proc.stdout)['services'].items())


def _ours(data):
    bom, text = envfile.decode(data, 'case')
    return envfile.parse(text)


def test_envfile_reads_what_compose_reads(tmp_path):
    """Also proves the recording the unit tests replay (tests/unit/fixtures/
    compose/2.40.3/dotenv.json) is what this Compose prints."""
    files = dict((name, text.encode('utf-8')) for name, text in CASES)
    compose = _compose_config(tmp_path, files)
    for name, data in files.items():
        assert _ours(data) == compose[name], name
    with open(RECORDED) as handle:
        recorded = json.load(handle)['cases']
    assert [(c['name'], c['env_file'], c['environment']) for c in recorded] == \
        [(name, text, compose[name]) for name, text in CASES]


def test_values_envfile_writes_read_back_the_same_in_compose(tmp_path):
    base = 'A=1\nJWT_SECRET="old" # note\nexport PLAIN=old\r\nSINGLE=\'old\'\n'
    files, wanted = {}, {}
    for index, value in enumerate(WRITES):
        for key in ('JWT_SECRET', 'PLAIN', 'SINGLE', 'NEW'):
            name = 'w%d_%s' % (index, key.lower())
            text = envfile.set_key(base, key, value)
            files[name] = text.encode('utf-8')
            wanted[name] = dict(envfile.parse(base), **{key: value})
            # Only the value's bytes changed: everything before and after it stays.
            assert text.startswith(base[:base.find(key)]) or key == 'NEW'
    compose = _compose_config(tmp_path, files)
    for name in files:
        assert compose[name] == wanted[name] == _ours(files[name]), name
