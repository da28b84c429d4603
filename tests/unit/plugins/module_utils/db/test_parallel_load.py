"""How a plain dump is split over sessions, with stand-in psql programs that
record what they are sent: the schema session gets the header and everything
before the data, the COPY sessions the header and whole-row chunks of each
table (together exactly the dump's rows), the last session what follows the
data. The loads into PostgreSQL run in tests/integration/test_restore_compose.py."""
import hashlib
import os
import subprocess
import sys
import threading

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.db import integrity, parallel_load
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import PipelineError, Stage

HEADER = (b'--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\n'
          b"SET client_encoding = 'UTF8';\nSELECT pg_catalog.set_config('search_path', '', false);\n\n")
PRE = (b'--\n-- Name: t; Type: TABLE; Schema: public; Owner: q\n--\n\n'
       b'CREATE TABLE public.t (id integer, v text);\n\n'
       b'--\n-- Name: f; Type: FUNCTION; Schema: public; Owner: q\n--\n\n'
       b'CREATE FUNCTION public.f() RETURNS void AS $$\nCOPY public.t (id, v) FROM stdin;\n$$ LANGUAGE sql;\n\n')


def _data(table, rows):
    return (b'--\n-- Data for Name: %s; Type: TABLE DATA; Schema: public; Owner: q\n--\n\n'
            b'COPY public.%s (id, v) FROM stdin;\n' % (table, table)) + b''.join(rows) + b'\\.\n\n\n'


POST = (b'--\n-- Name: t_id_seq; Type: SEQUENCE SET; Schema: public; Owner: q\n--\n\n'
        b"SELECT pg_catalog.setval('public.t_id_seq', 3, true);\n\n"
        b'--\n-- Name: t t_pkey; Type: CONSTRAINT; Schema: public; Owner: q\n--\n\n'
        b'ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n\n'
        b"SET default_tablespace = fast;\n\n"
        b'--\n-- Name: t_v_idx; Type: INDEX; Schema: public; Owner: q\n--\n\n'
        b'CREATE INDEX t_v_idx ON public.t USING btree (v);\n\n'
        b'--\n-- Name: u_v_idx; Type: INDEX; Schema: public; Owner: q\n--\n\n'
        b'CREATE INDEX u_v_idx ON public.u USING btree (v);\n\n'
        b'--\n-- Name: u u_t_fkey; Type: FK CONSTRAINT; Schema: public; Owner: q\n--\n\n'
        b'ALTER TABLE ONLY public.u\n    ADD CONSTRAINT u_t_fkey FOREIGN KEY (id) REFERENCES public.t(id);\n\n'
        b'--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n')


def _recorders(tmp_path, outputs):
    """A stand-in for psql() whose sessions each write what they are sent to a file listed in ``outputs``."""
    def psql():
        path = str(tmp_path / ('session%d' % len(outputs)))
        outputs.append(path)
        return Stage([sys.executable, '-c', 'import shutil,sys; shutil.copyfileobj(sys.stdin.buffer, open(sys.argv[1], "wb"))',
                      path], label='psql')
    return psql


def _load(tmp_path, dump, jobs=2):
    source = tmp_path / 'dump.sql'
    source.write_bytes(dump)
    outputs = []
    load = parallel_load.ParallelLoad(str(source), None, _recorders(tmp_path, outputs), jobs).run()
    return load, [open(p, 'rb').read() for p in outputs]


def _rows(text, table):
    rows, inside = [], False
    for line in text.splitlines(True):
        if line.startswith(b'COPY public.%s ' % table):
            inside = True
        elif line == b'\\.\n':
            inside = False
        elif inside:
            rows.append(line)
    return rows


def test_a_dump_is_split_into_schema_data_chunks_and_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_load, 'CHUNK', 100)
    big = [b'%d\tvalue with a \\\\. inside and \\\\n escapes %d\n' % (i, i) for i in range(200)]
    small = [b'1\tone\n']
    dump = HEADER + PRE + _data(b't', big) + _data(b'empty', []) + _data(b'u', small) + POST
    load, sessions = _load(tmp_path, dump)
    schema, workers, post = sessions[0], sessions[1:3], sessions[-1]
    builds = [s for s in sessions[3:-1] if b' INDEX ' in s]
    vacuums = [s for s in sessions[3:-1] if b' INDEX ' not in s]
    assert len(sessions) == 9 and all(s.startswith(HEADER) for s in sessions)
    assert schema == HEADER + parallel_load.SESSION_SETTINGS + PRE
    # each COPY session's one commit waits for its WAL, so that VACUUM can mark the rows all-visible
    assert all(w.endswith(b'SET LOCAL synchronous_commit = on;\nCOMMIT;\n') and b'BEGIN;\n' in w for w in workers)
    # both tables of the foreign key u -> t had rows: each is vacuumed in a session of its own
    assert sorted(v.split(b'\n')[-2] for v in vacuums) == [b'VACUUM public.t;', b'VACUUM public.u;']
    assert sorted(_rows(workers[0], b't') + _rows(workers[1], b't')) == sorted(big)
    assert _rows(workers[0], b't') and _rows(workers[1], b't')  # the big table went to both sessions
    assert _rows(workers[0], b'u') + _rows(workers[1], b'u') == small
    # each index build in a session of its own, under the tablespace pg_dump had set for it; none
    # holds more than a session's share of the data, so none gets parallel workers
    build = dict((text.split(b' INDEX ')[1].split()[0], text) for text in builds)
    assert sorted(build) == [b't_pkey', b't_v_idx', b'u_v_idx'] and not any(b'ADD CONSTRAINT' in t for t in builds)
    # t's primary key is built as a unique index beside t's other index, and made the key once both have ended
    assert b'\nCREATE UNIQUE INDEX t_pkey ON public.t USING btree (id);\n' in build[b't_pkey']
    assert post.index(b'ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;\n') == len(
        HEADER + parallel_load.SESSION_SETTINGS)
    assert all(text.count(parallel_load._NO_WORKERS) == 1 for text in builds)
    assert b'default_tablespace = fast' not in build[b't_pkey']
    assert b'SET default_tablespace = fast;\n\n--\n-- Name: t_v_idx' in build[b't_v_idx']
    assert b'SET default_tablespace = fast;\n\n--\n-- Name: u_v_idx' in build[b'u_v_idx']
    # the largest table's builds first, its constraint (which holds the table alone) before its index
    builds = parallel_load._split_after_data(parallel_load._entries(POST), None)[0]
    order = parallel_load._schedule(builds, load.table_bytes, 2)
    assert [(b.table, b.exclusive) for b in order] == [(b'public.t', True), (b'public.t', False), (b'public.u', False)]
    assert [b'u_v_idx' in b.text for b in order] == [False, False, True]
    assert b'COPY' not in post and b'setval' in post and b'FOREIGN KEY' in post and b'CREATE INDEX' not in post
    assert post.endswith(b'\\unrestrict abc\n\n')
    assert load.tables == 3 and load.index_builds == 3 and load.vacuums == 2
    assert load.table_bytes[b'public.t'] == len(b''.join(big)) and load.table_bytes[b'public.u'] == len(small[0])


def test_a_build_that_would_wait_for_a_lock_another_build_holds_starts_after_it():
    build = parallel_load._Build
    queue = parallel_load._BuildQueue([build(b'pk', b't', True), build(b'i1', b't', False), build(b'i2', b't', False),
                                       build(b'u', b'u', False), build(b'x', None, True)])
    pk = queue.take()
    # t is held alone by its primary key: u's and the unknown table's builds go first
    assert pk.text == b'pk' and queue.take().text == b'u' and queue.take().text == b'x'
    taken = []
    waiter = threading.Thread(target=lambda: taken.append(queue.take()))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and not taken  # i1 waits for pk
    queue.done(pk)
    waiter.join(5)
    assert [b.text for b in taken] == [b'i1'] and queue.take().text == b'i2'  # two CREATE INDEX side by side
    queue.done(taken[0], failed=True)
    assert queue.take() is None  # nothing more starts after a failure


def test_the_tables_a_foreign_key_reads_are_vacuumed_before_their_builds():
    """So that the foreign key's check reads the indexes, not the tables
    (the load into PostgreSQL: test_restore_compose)."""
    fk = (b'--\n-- Name: %s fk; Type: FK CONSTRAINT; Schema: public; Owner: q\n--\n\n'
          b'ALTER TABLE %s\n    ADD CONSTRAINT fk FOREIGN KEY (a, "B c") REFERENCES %s(id, x) ON DELETE CASCADE;\n\n')
    text = (fk % (b'o', b'ONLY public.o', b'"My"."Users"') + fk % (b'o', b'ONLY public.o', b'public.empty')
            + fk % (b'p', b'public.p', b'public.o'))
    sizes = {b'public.o': 100, b'"My"."Users"': 5, b'public.p': 50}
    # both sides, each once; no VACUUM of a table without rows here, nor of a partitioned table (no ONLY)

    def vacuums(text, sizes):
        return parallel_load._vacuums(parallel_load._entries(text), sizes)
    assert vacuums(text, sizes) == [b'VACUUM public.o;\n', b'VACUUM "My"."Users";\n']
    assert vacuums(text, {}) == [] and vacuums(POST.replace(b'FK CONSTRAINT', b'X'), sizes) == []
    # a quoted name with a line break in it does not survive _statement's joined lines: no VACUUM of a wrong name
    broken = fk % (b'o', b'ONLY public."o\nx"', b'public.o')
    assert vacuums(broken, {b'public."o x"': 5, b'public.o': 5}) == []
    builds = [INDEX.replace(b'public.t', b'public.o'), b'VACUUM "My"."Users";\n', b'VACUUM public.o;\n',
              INDEX.replace(b'public.t', b'"My"."Users"')]
    order = parallel_load._schedule(builds, sizes, 2)
    # the largest table first, its VACUUM before its build, and it holds the table against builds
    assert [(b.table, b.exclusive, b'VACUUM' in b.text) for b in order] == [
        (b'public.o', True, True), (b'public.o', False, False), (b'"My"."Users"', True, True),
        (b'"My"."Users"', False, False)]
    # no VACUUM counts as data a build reads: o's build keeps its workers
    assert parallel_load._NO_WORKERS not in order[1].text and parallel_load._NO_WORKERS in order[3].text
    queue = parallel_load._BuildQueue(order)
    assert [queue.take().text.endswith(b'VACUUM %s;\n' % name) for name in (b'public.o', b'"My"."Users"')] == [True, True]
    waiter = threading.Thread(target=queue.take)
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # each build waits for its table's VACUUM
    queue.done(order[0])
    waiter.join(5)
    assert not waiter.is_alive() and [b.text for b in queue.running] == [order[2].text, order[1].text]


KEY = b'--\n-- Name: t %s; Type: CONSTRAINT; Schema: public; Owner: q\n--\n\nALTER TABLE ONLY public.t\n    ADD CONSTRAINT %s;\n\n'
INDEX = b'--\n-- Name: t_v_idx; Type: INDEX; Schema: public; Owner: q\n--\n\nCREATE INDEX t_v_idx ON public.t USING btree (v);\n\n'


@pytest.mark.parametrize('name,kind,columns,rest,rewritten', [
    (b'k', b'PRIMARY KEY', b'id', b'', True), (b'"K ""x"""', b'UNIQUE', b'id, "V w"', b'', True),
    # what CREATE UNIQUE INDEX + ADD CONSTRAINT USING INDEX would not give the same: left as pg_dump wrote it
    (b'k', b'PRIMARY KEY', b'id', b' INCLUDE (v)', False), (b'k', b'UNIQUE NULLS NOT DISTINCT', b'id', b'', False),
    (b'k', b'PRIMARY KEY', b'id', b' DEFERRABLE INITIALLY DEFERRED', False),
    (b'k', b'UNIQUE', b'id', b" WITH (fillfactor='70')", False),
    (b'k', b'PRIMARY KEY', b'id', b' USING INDEX TABLESPACE fast', False), (b'k', b'UNIQUE', b'lower(v)', b'', False),
])
def test_a_plain_key_is_built_as_a_unique_index_beside_the_other_builds_of_its_table(
        name, kind, columns, rest, rewritten):
    key = KEY % (name, b'%s %s (%s)%s' % (name, kind, columns, rest))
    builds, attach = parallel_load._keys_as_indexes([key, INDEX], {b'public.t': 10})
    if not rewritten:
        assert builds == [key, INDEX] and attach == []
        return
    assert builds == [key.split(b'ALTER TABLE')[0] + b'CREATE UNIQUE INDEX %s ON public.t USING btree (%s);\n' % (
        name, columns), INDEX]
    assert attach == [b'ALTER TABLE ONLY public.t ADD CONSTRAINT %s %s USING INDEX %s;\n' % (name, kind, name)]
    assert parallel_load._build_table(builds[0]) == b'public.t'
    assert not parallel_load._schedule(builds, {b'public.t': 10}, 2)[0].exclusive  # CREATE INDEX: beside t_v_idx


def test_a_key_stays_a_constraint_alone_on_its_table_without_data_or_in_a_partitioned_schema(tmp_path):
    key = KEY % (b'k', b'k PRIMARY KEY (id)')
    assert parallel_load._keys_as_indexes([key], {b'public.t': 10}) == ([key], [])  # nothing to build beside
    # a quoted name with a line break in it (pg_dump's comment shows it as a space) would not be rebuilt as
    # written: left to pg_dump's statement
    broken = KEY % (b'"k x"', b'"k\nx" PRIMARY KEY (id)')
    assert parallel_load._keys_as_indexes([broken, INDEX], {b'public.t': 10}) == ([broken, INDEX], [])
    assert parallel_load._keys_as_indexes([key, INDEX], {}) == ([key, INDEX], [])  # no rows loaded here
    # ADD CONSTRAINT ... USING INDEX is refused on a partitioned table: a schema with partitions is left alone
    partitioned = PRE.replace(b'(id integer, v text);', b'(id integer, v text)\nPARTITION BY RANGE (id);')
    for pre in (PRE, partitioned):
        load, sessions = _load(tmp_path, HEADER + pre + _data(b't', [b'1\tone\n']) + key + INDEX)
        assert load.partitions == (pre is partitioned)
        assert sum(b'ADD CONSTRAINT k PRIMARY KEY (id);' in s for s in sessions) == (pre is partitioned)


def test_a_build_on_a_table_with_most_of_the_data_keeps_its_parallel_workers(tmp_path):
    big = [b'%d\tvalue %d\n' % (i, i) for i in range(500)]
    post = POST.replace(b'CREATE INDEX t_v_idx ON public.t USING btree (v);\n\n', b'')
    post = post.replace(b'ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n\n', b'')
    post = post.replace(b"SET default_tablespace = fast;\n\n", b'')
    post = post.replace(b'--\n-- Name: t_v_idx; Type: INDEX; Schema: public; Owner: q\n--\n\n', b'')
    post = post.replace(b'--\n-- Name: t t_pkey; Type: CONSTRAINT; Schema: public; Owner: q\n--\n\n', b'')
    post = post.replace(b'u_v_idx ON public.u', b'u_v_idx ON public.t') + (
        b'--\n-- Name: w_v_idx; Type: INDEX; Schema: public; Owner: q\n--\n\n'
        b'CREATE INDEX w_v_idx ON public.u USING btree (v);\n\n')
    load, sessions = _load(tmp_path, HEADER + PRE + _data(b't', big) + _data(b'u', [b'1\tone\n']) + post)
    builds = [s for s in sessions if b'CREATE INDEX' in s]
    assert len(builds) == 2 and load.index_builds == 2
    on_t = [s for s in builds if b'ON public.t ' in s][0]
    on_u = [s for s in builds if b'ON public.u ' in s][0]
    assert parallel_load._NO_WORKERS not in on_t and parallel_load._NO_WORKERS in on_u


def test_beside_runs_once_every_build_has_ended_and_gives_its_value(tmp_path):
    source = tmp_path / 'dump.sql'
    source.write_bytes(HEADER + PRE + _data(b't', [b'1\tone\n']) + _data(b'u', [b'1\tone\n']) + POST)
    outputs = []
    seen = []

    def beside():
        seen.append([open(p, 'rb').read() for p in outputs[3:8]])
        return 'counted'
    load = parallel_load.ParallelLoad(str(source), None, _recorders(tmp_path, outputs), 2, beside=beside).run()
    assert load.beside_result == 'counted' and len(seen) == 1
    # when it ran, the three builds and two VACUUMs had ended (their input whole) and the last session had started
    assert len(outputs) == 9 and all(text.rstrip().endswith((b'(v);', b'(id);', b'.t;', b'.u;')) for text in seen[0])


def test_beside_runs_after_a_dump_without_data_and_its_error_fails_the_load(tmp_path):
    source = tmp_path / 'dump.sql'
    source.write_bytes(HEADER + PRE + POST)
    load = parallel_load.ParallelLoad(str(source), None, _recorders(tmp_path, []), 2, beside=lambda: 42).run()
    assert load.beside_result == 42
    source.write_bytes(HEADER + PRE + _data(b't', [b'1\tone\n']) + POST)

    def broken():
        raise PipelineError('reading database x failed')
    with pytest.raises(PipelineError) as err:
        parallel_load.ParallelLoad(str(source), None, _recorders(tmp_path, []), 2, beside=broken).run()
    assert 'reading database x failed' in err.value.msg


def test_data_left_to_the_last_session_is_loaded_before_beside_runs(tmp_path):
    """pg_dump writes the COPY of a table whose quoted name holds a line break
    over two lines; the load leaves it to the last session, in its place, and
    the row counts (beside) run only once that session has ended."""
    odd = (b'--\n-- Data for Name: line break; Type: TABLE DATA; Schema: public; Owner: q\n--\n\n'
           b'COPY public."line\nbreak" (id, v) FROM stdin;\n1\tone\n2\ttwo\n\\.\n\n\n')
    source = tmp_path / 'dump.sql'
    source.write_bytes(HEADER + PRE + _data(b't', [b'1\tone\n']) + odd + _data(b'u', [b'1\tone\n']) + POST)
    outputs, ended = [], []
    load = parallel_load.ParallelLoad(str(source), None, _recorders(tmp_path, outputs), 2,
                                      beside=lambda: ended.append(load.sessions[-1].stage.returncode) or 'counted')
    load.run()
    post = open(outputs[-1], 'rb').read()
    assert load.beside_result == 'counted' and load.tables == 2
    assert b'COPY public."line\nbreak" (id, v) FROM stdin;\n1\tone\n2\ttwo\n\\.\n' in post
    assert ended == [0]  # the last session had ended when beside ran


def test_a_failed_build_stops_the_others_and_fails_the_load(tmp_path):
    """The first build fails while the build beside it runs (a stand-in that
    sleeps 30 s): the load fails at once with the first build's error, the
    other build is stopped, and no other build or session starts."""
    import time
    source = tmp_path / 'dump.sql'
    source.write_bytes(HEADER + PRE + _data(b't', [b'1\tone\n']) + POST)
    stages = []
    beside = str(tmp_path / 'beside-started')  # the build beside the failing one has started

    def psql():
        if len(stages) == 3:  # the first index build: fails once the one beside it runs
            code = ('import os, sys, time; sys.stdin.read()\nwhile not os.path.exists(%r): time.sleep(0.01)\n'
                    'sys.stderr.write("ERROR: dup\\n"); sys.exit(3)' % beside)
        elif len(stages) > 3:  # the other builds hang
            code = 'import sys, time; open(%r, "w").close(); sys.stdin.read(); time.sleep(30)' % beside
        else:  # the schema and the COPY sessions end at once
            code = 'import sys; sys.stdin.read()'
        stages.append(Stage([sys.executable, '-c', code], label='psql'))
        return stages[-1]
    started = time.time()
    with pytest.raises(PipelineError) as err:
        parallel_load.ParallelLoad(str(source), None, psql, 2).run()
    assert 'psql failed (exit 3)' in err.value.msg and 'dup' in err.value.msg
    assert time.time() - started < 10
    assert len(stages) == 5  # schema, two COPY sessions, the failed build and the one beside it
    assert stages[4].returncode == -9  # stopped, not waited for


def test_a_dump_without_copy_data_goes_through_one_session(tmp_path):
    load, sessions = _load(tmp_path, HEADER + PRE + POST)
    assert len(sessions) == 1 and sessions[0] == HEADER + parallel_load.SESSION_SETTINGS + PRE + POST


def test_a_dump_cut_inside_copy_data_fails(tmp_path):
    dump = HEADER + PRE + _data(b't', [b'1\tone\n'])[:-6]
    with pytest.raises(PipelineError) as err:
        _load(tmp_path, dump)
    assert 'cut short' in err.value.msg


def test_a_session_that_fails_is_named_with_its_message(tmp_path):
    source = tmp_path / 'dump.sql'
    source.write_bytes(HEADER + PRE + POST)

    def failing():
        return Stage([sys.executable, '-c', 'import sys; sys.stderr.write("ERROR: boom\\n"); sys.exit(3)'],
                     label='psql')
    with pytest.raises(PipelineError) as err:
        parallel_load.ParallelLoad(str(source), None, failing, 2).run()
    assert 'psql failed (exit 3)' in err.value.msg and 'boom' in err.value.msg


# -- the backup checked while it loads (integrity.StreamedCheck) -------------------------------------------
def _streamed(tmp_path, dump, compress=False, sidecar=True):
    """The load of ``dump`` with its checks made on the way: (load or the exception, sessions' inputs, check)."""
    source = tmp_path / ('dump.sql.zst' if compress else 'dump.sql')
    if compress:
        source.write_bytes(subprocess.run(['zstd', '-q', '-c'], input=dump, stdout=subprocess.PIPE, check=True).stdout)
    else:
        source.write_bytes(dump)
    if sidecar:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        (tmp_path / (source.name + '.sha256')).write_text('%s  %s\n' % (digest, source.name))
    outputs = []
    check = integrity.StreamedCheck(str(source), 'zstd' if compress else 'none')
    decompress = Stage(['zstd', '-q', '-d', '-c'], label='zstd') if compress else None
    try:
        outcome = parallel_load.ParallelLoad(str(source), decompress, _recorders(tmp_path, outputs), 2, check).run()
        lines = check.conclude()
    except Exception as exc:  # pylint: disable=broad-except
        outcome, lines = exc, None
    return outcome, lines, b''.join(open(p, 'rb').read() for p in outputs if os.path.exists(p))


@pytest.mark.parametrize('compress', [False, True])
def test_a_whole_backup_is_loaded_and_its_checks_pass_on_the_same_pass(tmp_path, compress):
    dump = HEADER + PRE + _data(b't', [b'1\tone\n', b'2\t\\\\! not a command\n']) + POST + b''
    dump = dump.replace(b'\\unrestrict abc\n\n', b'--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n')
    load, lines, sent = _streamed(tmp_path, dump, compress)
    assert not isinstance(load, Exception), load
    assert lines[0].startswith('sha256 of 1 file(s) matches') and 'closing line present' in lines[1]
    assert '1 COPY block(s)' in lines[2] and "\\restrict guard" in lines[2]
    assert b'2\t\\\\! not a command\n' in sent


@pytest.mark.parametrize('block', [5, 1 << 20])
def test_a_meta_command_stops_the_load_before_psql_sees_any_of_its_line(tmp_path, monkeypatch, block):
    """Cut into 5-byte blocks, the line arrives piece by piece: none of it is sent before the scan refuses it."""
    monkeypatch.setattr(parallel_load, 'BLOCK', block)
    dump = HEADER.replace(b'\\restrict abc\n\n', b'') + PRE + _data(b't', [b'1\tone\n']) + b'\\! id > /tmp/x\n' + POST
    load, lines, sent = _streamed(tmp_path, dump)
    assert isinstance(load, integrity.UnsafeBackup), load
    assert 'psql meta-command' in load.msg and 'found while loading it' in load.msg and 'nothing of it was run' in load.msg
    assert b'\\!' not in sent and b'id > /tmp/x' not in sent


@pytest.mark.parametrize('breakage, said', [
    ('cut', 'the dump was cut short'),
    ('sidecar', 'checksum mismatch'),
])
def test_a_backup_found_bad_at_its_end_fails_the_load_saying_so(tmp_path, breakage, said):
    dump = HEADER + PRE + POST.replace(b'\\unrestrict abc\n\n', b'--\n-- PostgreSQL database dump complete\n--\n\n')
    if breakage == 'cut':
        dump = dump[:dump.index(b'--\n-- PostgreSQL database dump complete')]
    load, lines, sent = _streamed(tmp_path, dump, compress=True)
    if breakage == 'sidecar':
        (tmp_path / 'dump.sql.zst.sha256').write_text('%s  dump.sql.zst\n' % ('0' * 64))
        load, lines, sent = _streamed(tmp_path, dump, compress=True, sidecar=False)
    assert isinstance(load, integrity.CorruptBackup), load
    assert said in load.msg and 'found while loading it: the load was stopped and is undone' in load.msg


def test_a_signal_during_the_index_builds_stops_every_session_at_once(tmp_path):
    """AWX cancels with SIGTERM, which the module turns into an exception in the
    main thread: here SIGALRM raises while two builds run (each a stand-in that
    sleeps 30 s). The load ends at once, every psql it started is gone, and the
    third build and the session after the builds never start."""
    import signal
    import time
    source = tmp_path / 'dump.sql'
    source.write_bytes(HEADER + PRE + _data(b't', [b'1\tone\n']) + POST)
    stages = []

    def psql():
        slow = len(stages) >= 3  # the schema and the two COPY sessions end at once; the builds hang
        stages.append(Stage([sys.executable, '-c', 'import sys, time; sys.stdin.read(); time.sleep(%d)'
                             % (30 if slow else 0)], label='psql'))
        return stages[-1]

    class Cancelled(Exception):
        pass

    def cancel(signum, frame):
        raise Cancelled()
    previous = signal.signal(signal.SIGALRM, cancel)
    started = time.time()
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        with pytest.raises(Cancelled):
            parallel_load.ParallelLoad(str(source), None, psql, 2).run()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.time() - started < 5
    assert len(stages) == 5  # schema, two COPY sessions, two builds: not the third build nor the last session
    for stage in stages:  # killed at once: none still runs (wait raises TimeoutExpired after 5 s)
        stage.proc.wait(timeout=5)


def test_every_copy_session_gets_its_commit_before_one_is_waited_for(tmp_path, monkeypatch):
    """None stays open, holding its transaction, while another's commit and psql end are waited for."""
    events = []
    end, wait = parallel_load._Session.end, parallel_load._Session.wait

    def recorded(name, method):
        def call(self):
            if self.transaction:
                events.append(name)
            return method(self)
        return call
    monkeypatch.setattr(parallel_load._Session, 'end', recorded('end', end))
    monkeypatch.setattr(parallel_load._Session, 'wait', recorded('wait', wait))
    _load(tmp_path, HEADER + PRE + _data(b't', [b'1\tone\n']) + _data(b'u', [b'1\tone\n']) + POST)
    assert events == ['end', 'end', 'wait', 'wait']
