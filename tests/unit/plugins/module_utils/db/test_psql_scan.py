"""The psql meta-command scan of plain backups (issue 10 item 2) as a case
table: each case is a dump body between pg_dump's own opening and closing
lines, what the scan says, and that the answer does not depend on where the
stream is cut into blocks."""
import random

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.db import _psql_scan
from ansible_collections.quickbite.ops.plugins.module_utils.db._psql_scan import Scanner, UnsafeDump, scan_bytes

KEY = b'AbC123xyz'
HEAD = (b'--\n-- PostgreSQL database dump\n--\n\n\\restrict ' + KEY + b'\n\n'
        b"SET standard_conforming_strings = on;\nSELECT pg_catalog.set_config('search_path', '', false);\n\n"
        b'CREATE TABLE public.notes (note text, n integer);\n\n')
TAIL = b'\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict ' + KEY + b'\n\n'
COPY = b'COPY public.notes (note, n) FROM stdin;\n'

ACCEPTED = [
    ('a dump with COPY data', COPY + b'hello\t1\n\\.\n'),
    ('a row value starting with a backslash', COPY + b'\\\\! id > /tmp/x\t1\n\\\\.\t2\n\\.\n'),
    ('COPY data ending with CRLF', COPY + b'a\t1\r\n\\.\r\n'),
    ('a meta-command in a dollar quote', b'CREATE FUNCTION f() RETURNS int AS $fn$ \\! id $x$ $fn$ LANGUAGE sql;\n'),
    ('in a standard string', b"COMMENT ON TABLE public.notes IS 'see \\d+ and \\! in psql';\n"),
    ('in an escape string', b"SELECT E'a\\\\', E'\\'';\n"),
    ('in a quoted identifier', b'CREATE TABLE "a\\!b" (x int);\n'),
    ('in nested comments', b'/* outer /* \\! id */ still \\! comment */ SELECT 1;\n-- \\! id\n'),
    ('a BEGIN ATOMIC body', b'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n' + COPY
     + b'x\t1\n\\.\n'),
    ('slices, casts and quoted variables', b"SELECT a[1:n], x::text, :'foo', :\"Bar\", $1 FROM t;\n"),
    ('identifiers with dollars', b'SELECT a$b$c FROM t$1;\n'),
]

REFUSED = [
    ('a shell command', b'\\! id > /tmp/x\n', 'meta-command'),
    ('a meta-command after SQL on one line', b'SELECT 1; \\! id\n', 'meta-command'),
    ('a meta-command after a dollar quote', b'SELECT $a$ x $a$ \\! id;\n', 'meta-command'),
    ('a COPY hidden in parentheses', b'SELECT (;\n' + COPY + b'\\! id\n\\.\n', 'meta-command'),
    ('a COPY inside BEGIN ATOMIC', b'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;\n' + COPY
     + b'\\! id\n\\.\nEND;\n', 'meta-command'),
    ('an N prefix that is not an identifier', b"CREATE N'' FUNCTION f() BEGIN ATOMIC;\n" + COPY + b'\\! id\n\\.\n',
     'meta-command'),
    ('a string whose end depends on standard_conforming_strings', b"SELECT 'a\\'; \\! id; --';\n",
     'standard_conforming_strings'),
    ('text after the COPY statement', COPY[:-1] + b' SELECT 1;\nx\t1\n\\.\n', 'same line'),
    ('a psql variable', b'SELECT :VERSION;\n', 'variable'),
    ('a second restrict', b'\\restrict other\n', 'meta-command'),
    ('an unrestrict in COPY data', COPY + b'\\unrestrict ' + KEY + b'\n\\.\n', 'unrestrict'),
    ('an unrestrict with another key', b'\\unrestrict other\n', 'meta-command'),
]


def dump(body):
    return HEAD + body + TAIL


@pytest.mark.parametrize('name,body', ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted(name, body):
    results = [scan_bytes(dump(body), block) for block in (1, 3, 7, 1 << 16)]
    assert all(r == results[0] for r in results)
    assert results[0]['restrict_key'] == KEY.decode()


@pytest.mark.parametrize('name,body,why', REFUSED, ids=[c[0] for c in REFUSED])
def test_refused(name, body, why):
    for block in (1, 5, 1 << 16):
        with pytest.raises(UnsafeDump) as info:
            scan_bytes(dump(body), block)
        assert why in str(info.value)


def test_refusal_names_the_line_and_shows_it():
    with pytest.raises(UnsafeDump) as info:
        scan_bytes(dump(COPY + b'a\t1\n\\.\n\\! id > /tmp/x\n'), 4)
    assert info.value.line == HEAD.count(b'\n') + 4 and info.value.text == '\\! id > /tmp/x'


def test_a_dump_without_restrict_lines_and_sql_after_the_unrestrict():
    old = dump(COPY + b'a\t1\n\\.\n').replace(b'\\restrict ' + KEY + b'\n', b'').replace(b'\\unrestrict ' + KEY, b'')
    assert scan_bytes(old)['restrict_key'] is None
    with pytest.raises(UnsafeDump, match='after the dump'):
        scan_bytes(dump(b'') + b'SELECT 1;\n')


def test_memory_stays_flat_over_large_copy_data():
    scanner = Scanner()
    scanner.feed(HEAD + COPY)
    row = b'x' * 99 + b'\n'
    for block in range(200):
        scanner.feed(row * 10000)  # 1 MB blocks
        assert len(scanner.buf) - scanner.pos < 8, block
    scanner.feed(b'\\.\n' + TAIL)
    assert scanner.finish()['copy_blocks'] == 1


@pytest.mark.parametrize('seed', range(40))
def test_find_line_start_finds_what_bytes_find_finds(seed):
    """The backslash-first search (and its fall-back after many backslashes) against bytes.find."""
    rnd = random.Random(seed)
    pieces = [b'\n', b'\\', b'.', b'\\.', b'\n\\.\n', b'\\N', b'x', b'\r\n', b'\\\\.']
    buf = b''.join(rnd.choice(pieces) for dummy in range(rnd.randint(0, 60)))
    for needle in (b'\\.', b'\\.\n'):
        for start in range(len(buf) + 1):
            for tries in (1, 2, 8):
                assert _psql_scan.find_line_start(buf, needle, start, tries) == buf.find(b'\n' + needle, start)
