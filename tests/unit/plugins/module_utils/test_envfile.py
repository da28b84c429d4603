import os
import stat

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils import envfile

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
    with pytest.raises(ValueError):
        envfile.set_key(SAMPLE, 'X', "it's")


def test_write_atomic_keeps_mode(tmp_path):
    path = tmp_path / '.env.prod'
    path.write_text(SAMPLE)
    os.chmod(str(path), 0o640)
    envfile.write_atomic(str(path), 'A=1\n')
    assert path.read_text() == 'A=1\n'
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ['.env.prod']


def test_write_atomic_new_file_is_0600(tmp_path):
    path = tmp_path / 'new.env'
    envfile.write_atomic(str(path), 'A=1\n')
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
