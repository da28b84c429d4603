"""envfile reads as Compose reads (replayed from Compose 2.40.3's own output,
recorded by tests/integration/test_envfile_compose_oracle.py) and rewrites
one value's bytes only, refusing what it cannot rewrite faithfully."""
import json
import os
import stat

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils import envfile
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

RECORDED = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'compose', '2.40.3', 'dotenv.json')

SAMPLE = (
    "# QuickBite production settings\n"
    "DB_HOST=127.0.0.1\n"
    "export DB_PORT=5432\n"
    "JWT_SECRET=old-secret  # rotated 2026-01-01\n"
    "QUOTED=\"a b\\\"c\"\n"
    "SINGLE='x # not a comment'\n"
    "EMPTY=\n"
    "\n"
    "JWT_SECRET=last-wins\r\n"
    "TAIL=no-newline"
)


def test_parse_follows_compose_rules():
    values = envfile.parse(SAMPLE)
    assert values['DB_HOST'] == '127.0.0.1'
    assert values['DB_PORT'] == '5432'
    assert values['JWT_SECRET'] == 'last-wins'
    assert values['QUOTED'] == 'a b"c'
    assert values['SINGLE'] == 'x # not a comment'
    assert values['EMPTY'] == ''
    assert values['TAIL'] == 'no-newline'


def test_set_key_rewrites_only_the_effective_line():
    out = envfile.set_key(SAMPLE, 'JWT_SECRET', 'n3w')
    before, after = SAMPLE.splitlines(True), out.splitlines(True)
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert changed == [8]
    assert after[8] == 'JWT_SECRET=n3w\r\n'
    assert envfile.parse(out)['JWT_SECRET'] == 'n3w'


def test_set_key_appends_missing_key_and_quotes_specials():
    out = envfile.set_key(SAMPLE, 'NEW_KEY', 'has space#')
    assert out.startswith(SAMPLE)
    assert out.endswith("\nNEW_KEY='has space#'\n")
    assert envfile.parse(out)['NEW_KEY'] == 'has space#'


def test_set_key_refuses_values_it_cannot_represent():
    for value in ('two\nlines', 'cr\r', 'nul\x00'):
        with pytest.raises(ConfigError, match='refusing to write X to the env file: the value contains a line break'):
            envfile.set_key(SAMPLE, 'X', value)
    assert envfile.parse(envfile.set_key(SAMPLE, 'X', "it's \"$q\" \\"))['X'] == "it's \"$q\" \\"


def _recorded():
    with open(RECORDED) as handle:
        return json.load(handle)['cases']


@pytest.mark.parametrize('case', _recorded(), ids=lambda case: case['name'])
def test_parse_reads_what_compose_2_40_3_read(case):
    bom, text = envfile.decode(case['env_file'].encode('utf-8'), 'case')
    assert envfile.parse(text) == case['environment']


def test_a_quoted_value_with_a_comment_is_rewritten_inside_its_quotes():
    text = 'A=1\nJWT_SECRET = "a #x"  # note\nB=2\n'
    assert envfile.parse(text)['JWT_SECRET'] == 'a #x'
    assert envfile.set_key(text, 'JWT_SECRET', 'n3w') == 'A=1\nJWT_SECRET = "n3w"  # note\nB=2\n'


def test_crlf_lines_keep_their_endings():
    text = 'A=1\r\nJWT_SECRET=old # c\r\nB=2\r\n'
    assert envfile.set_key(text, 'JWT_SECRET', 'n3w') == 'A=1\r\nJWT_SECRET=n3w # c\r\nB=2\r\n'
    assert envfile.set_key(text, 'NEW', 'x y') == text + "NEW='x y'\r\n"


@pytest.mark.parametrize('line, why', [
    ('JWT_SECRET\n', "line 2 of the env file has no '=': Compose takes the value from the environment it runs in"),
    ('JWT_SECRET=${BASE}x\n', 'line 2 of the env file uses $VAR or ${VAR} interpolation'),
    ('JWT_SECRET="a" b\n', "line 2 of the env file has text after the closing quote ('b')"),
])
def test_a_value_that_cannot_be_known_is_not_rotated(line, why):
    text = 'BASE=1\n' + line
    with pytest.raises(ConfigError, match=r'^refusing to rotate JWT_SECRET: %s' % why.replace('$', r'\$')
                       .replace('{', r'\{').replace('(', r'\(').replace(')', r'\)')):
        envfile.set_key(text, 'JWT_SECRET', 'n3w')


def test_a_later_reference_to_the_key_is_refused():
    with pytest.raises(ConfigError, match=r'refusing to write A to the env file: written on line 1, Compose would read'):
        envfile.set_key('A=1\nB=${A}\n', 'A', '2')


def test_a_file_compose_cannot_read_is_refused_with_its_line():
    with pytest.raises(ConfigError, match=r'refusing to use env file f: Compose cannot read it either \(line 2: '
                                          r'unterminated quoted value "open\)'):
        envfile.parse('A=1\nB="open\n', 'f')


def test_a_file_that_is_not_utf8_is_refused_naming_file_and_line(tmp_path):
    path = tmp_path / '.env.prod'
    path.write_bytes(b'A=1\nB=caf\xe9\n')
    with pytest.raises(ConfigError, match=r'refusing to read env file %s: line 2 is not UTF-8 \(byte 0xe9 at column 6\); '
                                          r'convert the file to UTF-8' % path):
        envfile.set_value(str(path), 'A', '2')
    assert path.read_bytes() == b'A=1\nB=caf\xe9\n'


def test_set_value_writes_through_a_symlink_to_its_target(tmp_path):
    target = tmp_path / 'secrets' / 'env.prod'
    target.parent.mkdir()
    target.write_bytes(b'\xef\xbb\xbfA=1\r\nJWT_SECRET=old\r\n')
    os.chmod(str(target), 0o640)
    link = tmp_path / '.env.prod'
    link.symlink_to(target)
    assert envfile.set_value(str(link), 'JWT_SECRET', 'n3w') == str(target)
    assert os.path.islink(str(link)) and target.read_bytes() == b'\xef\xbb\xbfA=1\r\nJWT_SECRET=n3w\r\n'
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o640


def test_restore_puts_back_the_original_bytes_and_drops_an_appended_key(tmp_path):
    path = tmp_path / '.env.prod'
    original = b'A=1\r\nJWT_SECRET = "a #x"  # note\r\nB=2\r\n'
    path.write_bytes(original)
    saved = envfile.snapshot(str(path), ['JWT_SECRET', 'JWT_SECRET_PREVIOUS'])
    assert saved == {'JWT_SECRET': 'JWT_SECRET = "a #x"  # note\r', 'JWT_SECRET_PREVIOUS': None}
    envfile.set_value(str(path), 'JWT_SECRET', 'n3w')
    envfile.set_value(str(path), 'JWT_SECRET_PREVIOUS', 'a #x')
    assert path.read_bytes() != original
    envfile.restore(str(path), json.loads(json.dumps(saved)))
    assert path.read_bytes() == original


def test_replace_keeps_mode_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / '.env.prod'
    path.write_text(SAMPLE)
    os.chmod(str(path), 0o640)
    envfile._replace(str(path), b'A=1\n')
    assert path.read_text() == 'A=1\n'
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ['.env.prod']


def test_replace_keeps_the_owner_in_a_deployment_directory_someone_else_owns(tmp_path):
    # The Compose project directory belongs to the deployment (here nobody's,
    # group-writable): the env file is rewritten in place of the old one, as
    # the old one's owner, not refused as a shared directory would be.
    project = tmp_path / 'project'
    project.mkdir()
    path = project / '.env.prod'
    path.write_text(SAMPLE)
    os.chmod(str(path), 0o640)
    os.chown(str(path), 65534, 65534)
    os.chown(str(project), 65534, 65534)
    os.chmod(str(project), 0o775)
    envfile._replace(str(path), b'A=1\n')
    st = os.stat(str(path))
    assert path.read_text() == 'A=1\n' and (st.st_uid, st.st_gid) == (65534, 65534)
    assert stat.S_IMODE(st.st_mode) == 0o640 and [p.name for p in project.iterdir()] == ['.env.prod']
