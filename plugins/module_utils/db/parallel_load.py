# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loading a plain SQL dump over several connections, the way pg_restore
--jobs loads an archive: the schema first (one session), then the table data
(``COPY ... FROM stdin`` blocks, large ones cut at row boundaries into chunks)
over ``jobs`` sessions at once, then, once every COPY has ended, the index
builds (each in a session of its own, ``jobs`` at a time, the largest
tables' first, as pg_restore --jobs does; a VACUUM of each table a foreign
key reads before that table's builds), then the rest of what follows the
data (sequence values, foreign keys) in one session.

Decompression, parsing here, the COPY sessions and the server's backends run
side by side, so a load uses more than one core. It is not one transaction:
the database is a fresh one whose result is checked before it is used, and a
failed load is rolled back by the procedure (db/restore.py).

A dump is split only along what pg_dump itself writes: a COPY block is taken
out only when it follows pg_dump's ``-- Data for Name: ...; Type: TABLE
DATA`` comment; the header (pg_dump's ``SET`` lines and ``\\restrict``) opens
every session, so each one parses the data as the dump says. Each session
also gets settings for a bulk load: synchronous_commit off (a lost commit
only fails the check), a large maintenance_work_mem and parallel workers for
the index builds (none when the builds are enough to fill the sessions: two
builds on two cores with two workers each only wait on each other)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import re
import subprocess
import tempfile
import threading
import time

try:
    import queue
except ImportError:  # Python 2
    import Queue as queue

from ansible_collections.quickbite.ops.plugins.module_utils.db._psql_scan import find_line_start
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import PipelineError, Stage

BLOCK = 1 << 20
CHUNK = 4 << 20  # rows of one table sent as one COPY, so a big table spreads over the sessions
QUEUE = 8  # blocks (up to BLOCK each) waiting for one session
POST_IN_MEMORY = 32 << 20  # what follows the data, split into entries when no larger
SESSION_SETTINGS = (b"SET synchronous_commit = off;\n"
                    b"SET maintenance_work_mem = '512MB';\n"
                    b"SET max_parallel_maintenance_workers = 2;\n")
_DATA_COMMENT = b'-- Data for Name: '
_TABLESPACE = b'SET default_tablespace = '
_SESSION_SETS = (_TABLESPACE, b'SET default_table_access_method = ')
_END = b'\\.\n'
_NO_WORKERS = b'SET max_parallel_maintenance_workers = 0;\n'
_HEADER_LINES = (b'\n', b'--', b'SET ', b'SELECT pg_catalog.set_config(', b'\\restrict ')


class _Session(object):
    """One psql reading SQL from a pipe; its query output goes to /dev/null.
    A thread of its own writes its input from a bounded queue, so while one
    session's server backend is busy the others are fed: writing to one pipe
    at a time would leave the other sessions waiting for input."""

    def __init__(self, stage, header, transaction=False):
        self.stage = stage
        self.header = header
        # The COPY sessions load in one transaction each: autovacuum sees no
        # rows before they commit, instead of vacuuming a table still loading.
        self.transaction = transaction
        self.stdin = None
        self.out = None
        self.queue = queue.Queue(maxsize=QUEUE)
        self.thread = None
        self.error = None

    def start(self):
        self.out = self.stage.start(subprocess.PIPE)
        self.stdin = self.stage.proc.stdin
        self.thread = threading.Thread(target=self._pump)
        self.thread.daemon = True
        self.thread.start()
        self.write(self.header + SESSION_SETTINGS + (b'BEGIN;\n' if self.transaction else b''))
        return self

    def _pump(self):
        while True:
            data = self.queue.get()
            if data is None:
                return
            if self.error is None:
                try:
                    self.stdin.write(data)
                except (IOError, OSError, ValueError) as exc:
                    self.error = exc  # psql ended; what is still queued is dropped

    @property
    def backlog(self):
        return self.queue.qsize()

    def write(self, data):
        if self.error is not None:
            raise self.failed()
        self.queue.put(data)

    def failed(self):
        self.kill()
        return PipelineError('%s failed (exit %s): %s'
                             % (self.stage.label, self.stage.returncode, self.stage.tail() or 'no message'))

    def finish(self):
        """Let it read everything, close its input and wait; raise if psql failed."""
        self.end()
        self.wait()

    def end(self):
        """Its last input (a COPY session's COMMIT) written and its input closed."""
        if self.transaction:
            # This one commit waits for its WAL: PostgreSQL sets neither hint bits nor
            # the visibility map (_vacuums) for rows whose commit is not yet on disk.
            self.write(b'SET LOCAL synchronous_commit = on;\nCOMMIT;\n')
        self._stop_pump()
        try:
            self.stdin.close()
        except (IOError, OSError):
            pass

    def wait(self):
        """Wait for psql to end; raise if it failed."""
        self.stage.reap()
        if self.out is not None:
            self.out.close()
        if self.stage.returncode != 0 or self.error is not None:
            raise self.failed()

    def _stop_pump(self):
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None

    def kill(self):
        if self.stage.proc is not None and self.stage.returncode is None:
            try:
                self.stage.proc.kill()
            except OSError:
                pass
            self.stage.reap()
        if self.thread is not None:  # its pipe is closed now: the pump ends
            self.error = self.error or OSError('killed')
            self._stop_pump()


class _Reader(object):
    """The decompressed dump: lines outside COPY data, bulk runs inside it."""

    def __init__(self, stream):
        self.stream = stream
        self.buf = b''
        self.pos = 0
        self.eof = False

    def _fill(self):
        block = self.stream.read1(BLOCK) if hasattr(self.stream, 'read1') else self.stream.read(BLOCK)
        if not block:
            self.eof = True
            return False
        self.buf = self.buf[self.pos:] + block
        self.pos = 0
        return True

    def line(self):
        """The next line (with its newline; the last may lack one), b'' at the end."""
        while True:
            end = self.buf.find(b'\n', self.pos)
            if end >= 0:
                text = self.buf[self.pos:end + 1]
                self.pos = end + 1
                return text
            if not self._fill():
                text = self.buf[self.pos:]
                self.pos = len(self.buf)
                return text

    def copy_rows(self):
        """Whole rows of the COPY data at hand, b'' once its ``\\.`` line is
        consumed; raises at the end of the stream before it."""
        while True:
            if self.buf.startswith(_END, self.pos):
                self.pos += len(_END)
                return b''
            end = find_line_start(self.buf, _END, self.pos)
            if end >= 0:
                rows = self.buf[self.pos:end + 1]
                self.pos = end + 1
                return rows
            last = self.buf.rfind(b'\n', self.pos)
            if last >= 0:  # whole lines, none of them "\." (the find above would have seen it)
                rows = self.buf[self.pos:last + 1]
                self.pos = last + 1
                return rows
            if not self._fill():
                raise PipelineError('the dump ends inside the data of a COPY (no "\\." line): it is cut short')


class ParallelLoad(object):
    """``stages``: how to start the decompression (or None) and a psql
    session (``psql()`` returns a new Stage connected to the database)."""

    def __init__(self, source, decompress, psql, jobs, check=None, beside=None):
        self.source = source
        # A callable run in a thread of its own while the statements after the index
        # builds run (foreign keys: one core each): the caller's row counts, which read
        # only the loaded rows, then cost no time of their own. Its return value is
        # ``beside_result``; it is not called when the load fails before that point.
        self.beside = beside
        self.beside_result = None
        self.beside_called = False
        self.check = check  # integrity.StreamedCheck: the backup's checks on the bytes this load reads
        self.decompress = decompress
        self.psql = psql
        self.jobs = max(2, jobs)
        self.sessions = []
        self.started = None
        self.duration = None
        self.tables = 0
        self.chunks = 0
        self.data_done = None
        self.index_builds = 0
        self.vacuums = 0
        self.table_bytes = collections.Counter()  # COPY data per table, as pg_dump names it
        self._lock = threading.Lock()
        self._stopping = False
        self.tablespace = None  # pg_dump's last "SET default_tablespace" before the data
        self.partitions = False  # the schema has partitioned tables or partitions (see _keys_as_indexes)

    def _session(self, header, transaction=False):
        with self._lock:  # the index builds start sessions from their threads
            if self._stopping:
                raise PipelineError('the load was stopped')
            session = _Session(self.psql(), header, transaction)
            self.sessions.append(session)
            return session.start()

    def run(self):
        self.started = time.time()
        # The check reads the file itself (hashing what it feeds the decompressor).
        handle = open(self.source, 'rb') if self.check is None else None
        try:
            if self.check is not None:
                stream = self.check.open(self.decompress)
            elif self.decompress is not None:
                stream = self.decompress.start(handle)
                handle.close()
            else:
                stream = handle
            self._load(_Reader(stream))
            if self.beside is not None and not self.beside_called:  # a dump without data: nothing to run beside
                self.beside_called = True
                self.beside_result = self.beside()
            if self.check is not None or self.decompress is not None:
                stream.close()
            if self.decompress is not None:
                self.decompress.reap()
                if self.decompress.returncode != 0:
                    raise PipelineError('%s failed (exit %s): %s' % (self.decompress.label, self.decompress.returncode,
                                                                     self.decompress.tail() or 'no message'))
        except BaseException:
            self.kill()
            if self.check is not None:
                self.check.close()
            raise
        finally:
            if handle is not None:
                handle.close()
        self.duration = time.time() - self.started
        return self

    def kill(self):
        with self._lock:
            self._stopping = True
        for session in list(self.sessions):
            session.kill()
        if self.decompress is not None and self.decompress.proc is not None and self.decompress.returncode is None:
            try:
                self.decompress.proc.kill()
            except OSError:
                pass
            self.decompress.reap()

    def _load(self, reader):
        header, line = self._header(reader)
        schema = self._session(header)
        after = tempfile.SpooledTemporaryFile(max_size=32 << 20)  # statements between and after the COPY blocks
        workers = None
        pending = []  # a TOC comment block, held until we know what follows it

        def out(text):
            if workers is None:
                self.partitions = self.partitions or b'PARTITION' in text
                schema.write(text)
            else:
                after.write(text)
        while line:
            if line == b'--\n' and not pending:
                pending.append(line)
            elif pending:
                pending.append(line)
                copy = self._copy_statement(pending)
                if copy is None and len(pending) < 5 and self._could_be_data(pending):
                    line = reader.line()
                    continue
                if copy is not None:
                    if workers is None:
                        schema.finish()  # tables exist before any data goes in
                        workers = [self._session(header, transaction=True) for dummy in range(self.jobs)]
                    self._copy(reader, copy, workers)
                else:
                    out(b''.join(pending))
                pending = []
            else:
                if workers is None and line.startswith(_TABLESPACE):
                    self.tablespace = line
                out(line)
            line = reader.line()
        out(b''.join(pending))
        if workers is None:
            schema.finish()
            return
        # Every session gets its COMMIT before one is waited for: none stays open, holding
        # its transaction id, while another commits and its psql ends (an older
        # snapshot taken meanwhile would keep VACUUM from setting the visibility map).
        for worker in workers:
            worker.end()
        for worker in workers:
            worker.wait()
        self.data_done = time.time()
        size = after.tell()
        after.seek(0)
        if size <= POST_IN_MEMORY:
            self._after_data(header, after.read())
            return
        post = self._session(header)
        while True:
            block = after.read(BLOCK)
            if not block:
                break
            post.write(block)
        post.finish()

    def _after_data(self, header, text):
        """The index builds (pg_dump's INDEX, PRIMARY KEY and UNIQUE entries,
        the keys of a table with other builds as unique indexes: _keys_as_indexes)
        and the VACUUMs that speed up the foreign keys' checks (_vacuums), then
        everything else in its order in one session (foreign keys need the
        unique indexes first, and cannot run beside a build on their tables),
        with ``beside`` in a thread next to it."""
        entries = _entries(text)
        builds, rest = _split_after_data(entries, self.tablespace)
        if not self.partitions and b'PARTITION' not in text:
            builds, attach = _keys_as_indexes(builds, self.table_bytes)
            rest = attach + rest
        vacuums = _vacuums(entries, self.table_bytes)
        self.index_builds, self.vacuums = len(builds), len(vacuums)
        if builds or vacuums:
            self._build_indexes(header, vacuums + builds)
        post = self._session(header)
        post.write(b''.join(rest))
        # Data this load did not take apart (a COPY statement over two lines: a quoted table name
        # holding a line break) is loaded here, in its place: the row counts wait for it.
        if self.beside is None or any(line.startswith(b'COPY ') for line in rest):
            post.finish()
            return
        self.beside_called = True
        beside = _Thread(self.beside)
        try:
            post.finish()
        finally:
            beside.join()
        self.beside_result = beside.result()

    def _build_indexes(self, header, builds):
        """Each build in a session of its own, ``jobs`` at once, the next one
        started when one ends (the time of a build is not known before:
        ``status`` text sorts slower than an integer key of the same table),
        the largest tables' first so that the small ones fill the gaps, and
        never one that would only wait for a lock another build holds
        (_BuildQueue). A build is not given parallel workers when its table
        holds no more than a session's share of the data: the other
        sessions' builds use those cores. Each statement takes one table's
        lock at a time, so two sessions never wait on each other in a cycle."""
        builds = _BuildQueue(_schedule(builds, self.table_bytes, self.jobs))

        failures = []  # the first is the load's error; the builds it stopped fail after it

        def slot():
            while True:
                build = builds.take()
                if build is None:
                    return
                ended = False
                try:
                    session = self._session(header)
                    session.write(build.text)
                    session.finish()
                    ended = True
                except BaseException as exc:
                    failures.append(exc)
                    raise
                finally:
                    # A failed build fails the load: the other slots take nothing more, and
                    # the builds still running are stopped now rather than waited for.
                    builds.done(build, failed=not ended)
                    if not ended:
                        self.kill()
        slots = [_Thread(slot) for dummy in range(min(self.jobs, len(builds.pending)))]
        for thread in slots:
            thread.join()
        if failures:
            raise failures[0]
        for thread in slots:
            thread.result()

    @staticmethod
    def _header(reader):
        """pg_dump's opening lines: comments, its SET lines and \\restrict,
        which every session replays; (header, the first line after it)."""
        lines, settings = [], False
        while True:
            line = reader.line()
            if not line or not line.startswith(_HEADER_LINES) or (settings and line == b'--\n'):
                return b''.join(lines), line
            settings = settings or line.startswith(_HEADER_LINES[2:4])
            lines.append(line)

    @staticmethod
    def _could_be_data(pending):
        expected = [lambda text: text == b'--\n', lambda text: text.startswith(_DATA_COMMENT),
                    lambda text: text == b'--\n', lambda text: text == b'\n']
        return all(check(text) for check, text in zip(expected, pending))

    @staticmethod
    def _copy_statement(pending):
        """The COPY line when ``pending`` is pg_dump's TABLE DATA entry of it."""
        if len(pending) != 5 or not ParallelLoad._could_be_data(pending[:4]):
            return None
        if b'; Type: TABLE DATA;' not in pending[1]:
            return None
        statement = pending[4]
        if statement.startswith(b'COPY ') and statement.endswith(b' FROM stdin;\n'):
            return statement
        return None

    def _copy(self, reader, statement, workers):
        """One table's rows, in chunks of whole rows, each chunk its own COPY
        on the next session in turn."""
        self.tables += 1
        table = _qualified_name(statement, len(b'COPY '))[0]
        size = 0
        worker = None
        while True:
            rows = reader.copy_rows()
            if not rows:
                break
            while rows:
                if worker is None:  # the session with the least input waiting
                    worker = min(workers, key=lambda w: w.backlog)
                    self.chunks += 1
                    worker.write(statement)
                part = rows
                if size + len(rows) > CHUNK:  # cut after the last whole row that fits (or the first one)
                    cut = rows.rfind(b'\n', 0, CHUNK - size) + 1 or rows.find(b'\n') + 1
                    part, rows = rows[:cut], rows[cut:]
                else:
                    rows = b''
                worker.write(part)
                size += len(part)
                self.table_bytes[table] += len(part)
                if rows or size >= CHUNK:
                    worker.write(_END)
                    worker, size = None, 0
        if worker is not None:
            worker.write(_END)

    def report(self):
        stages = ([self.decompress] if self.decompress is not None else []) + [s.stage for s in self.sessions]
        return [dict(program=s.label, exit=s.returncode, max_rss_mb=round(s.maxrss_kb / 1024.0, 1)) for s in stages]


class _Thread(object):
    """``target`` in a daemon thread; ``join()`` waits in short steps (so a
    signal reaches the main thread), ``result()`` returns its value or raises
    its exception."""

    def __init__(self, target):
        self.value = self.error = None
        self.thread = threading.Thread(target=self._run, args=(target,))
        self.thread.daemon = True
        self.thread.start()

    def _run(self, target):
        try:
            self.value = target()
        except BaseException as exc:  # pylint: disable=broad-except
            self.error = exc

    def join(self):
        while self.thread.is_alive():
            self.thread.join(0.05)

    def result(self):
        if self.error is not None:
            raise self.error
        return self.value


_NAME = re.compile(br'"(?:[^"]|"")*"|[A-Za-z_\x80-\xff][A-Za-z0-9_$\x80-\xff]*')


def _qualified_name(text, start):
    """(the schema-qualified name that begins at ``start`` of ``text`` as pg_dump
    writes it, quotes kept; the offset after it); (None, start) when none does."""
    end, parts = start, 0
    while True:
        match = _NAME.match(text, end)
        if match is None:
            return (text[start:end] if parts else None), end
        end, parts = match.end(), parts + 1
        if text[end:end + 1] != b'.':
            return text[start:end], end
        end += 1


_Build = collections.namedtuple('_Build', 'text table exclusive')


def _schedule(builds, table_bytes, jobs):
    """The index builds as _Build tuples in the order they should start: the
    largest tables' first, within a table its VACUUM, then the constraints
    (both hold the table alone), then the indexes, else in pg_dump's order.
    A build gets no parallel workers when its table holds no more than
    ``1/jobs`` of the data the builds read (tables of unknown size count as
    empty)."""
    tables = [_build_table(entry) for entry in builds]
    sizes = [table_bytes.get(table, 0) for table in tables]
    statements = [_statement(entry) for entry in builds]
    rank = [0 if text.startswith(b'VACUUM ') else 1 if text.startswith(b'ALTER TABLE ') else 2 for text in statements]
    total = sum(size for size, kind in zip(sizes, rank) if kind)
    order = sorted(range(len(builds)), key=lambda number: (-sizes[number], rank[number]))
    return [_Build((_NO_WORKERS if total and sizes[number] * jobs <= total else b'') + builds[number], tables[number],
                   rank[number] < 2) for number in order]


class _BuildQueue(object):
    """The index builds still to start, and those running. ALTER TABLE ...
    ADD PRIMARY KEY or UNIQUE holds its table alone (ACCESS EXCLUSIVE), so
    does VACUUM for builds (SHARE UPDATE EXCLUSIVE);
    CREATE INDEX runs beside another CREATE INDEX of its table (SHARE).
    ``take()`` gives the first build that can start now without waiting for
    a lock a running build holds, and waits while none can; None once every
    build has started or one failed."""

    def __init__(self, builds):
        self.pending = list(builds)
        self.running = []
        self.failed = False
        self.changed = threading.Condition()

    def _free(self, build):
        return build.table is None or all(
            other.table != build.table or not (other.exclusive or build.exclusive) for other in self.running)

    def take(self):
        with self.changed:
            while self.pending and not self.failed:
                for build in self.pending:
                    if self._free(build):
                        self.pending.remove(build)
                        self.running.append(build)
                        return build
                self.changed.wait(0.05)
            return None

    def done(self, build, failed=False):
        with self.changed:
            self.running.remove(build)
            self.failed = self.failed or failed
            self.changed.notify_all()


def _statement(entry):
    """The SQL of a TOC entry on one line: its comments and SET lines left out."""
    return b' '.join(line.strip() for line in entry.splitlines()
                     if line.strip() and not line.startswith(b'--') and not line.startswith(_SESSION_SETS))


def _build_table(entry):
    """The table an index build (an _is_index_build entry) or a VACUUM reads, or None."""
    statement = _statement(entry)
    if statement.startswith(b'VACUUM '):
        return _qualified_name(statement, len(b'VACUUM '))[0]
    if statement.startswith(b'ALTER TABLE ONLY '):
        return _qualified_name(statement, len(b'ALTER TABLE ONLY '))[0]
    head = b'CREATE UNIQUE INDEX ' if statement.startswith(b'CREATE UNIQUE INDEX ') else b'CREATE INDEX '
    name, end = _qualified_name(statement, len(head))
    if name is None or not statement.startswith(b' ON ', end):
        return None
    end += len(b' ON ')
    if statement.startswith(b'ONLY ', end):
        end += len(b'ONLY ')
    return _qualified_name(statement, end)[0]


_QUALIFIED = br'(?:%s)(?:\.(?:%s))*' % ((_NAME.pattern,) * 2)  # a name as _qualified_name reads it
_KEY = re.compile(br'ALTER TABLE ONLY (?P<table>%s) ADD CONSTRAINT (?P<name>%s) '
                  br'(?P<kind>PRIMARY KEY|UNIQUE) \((?P<columns>[^()]+)\);\Z' % (_QUALIFIED, _NAME.pattern))


def _keys_as_indexes(builds, table_bytes):
    """pg_dump writes a primary key or unique constraint as ALTER TABLE ...
    ADD CONSTRAINT, which holds its table alone (ACCESS EXCLUSIVE) for the
    whole build, so no other index of the table builds beside it. On a table
    loaded here with more than one build, a key in pg_dump's plain form (no
    INCLUDE, WITH, DEFERRABLE, NULLS NOT DISTINCT...) is built instead as the
    same CREATE UNIQUE INDEX (SHARE: beside the others), then made the
    constraint with ADD CONSTRAINT ... USING INDEX, which takes no time; the
    catalog ends the same. The caller leaves partitioned schemas alone (USING
    INDEX is refused on a partitioned table). (builds, the ADD CONSTRAINT
    statements to run once every build has ended.)"""
    tables = collections.Counter(_build_table(entry) for entry in builds)
    rewritten, attach = [], []
    for entry in builds:
        match = _KEY.match(_statement(entry))
        if (match is None or tables[match.group('table')] < 2 or not table_bytes.get(match.group('table'))
                or not _verbatim(match, entry, 'table', 'name', 'columns')):
            rewritten.append(entry)
            continue
        table, name, kind = match.group('table', 'name', 'kind')
        lines = entry.splitlines(True)
        first = next(number for number, line in enumerate(lines)  # pg_dump's comments and SET lines before it
                     if line.strip() and not line.startswith(b'--') and not line.startswith(_SESSION_SETS))
        rewritten.append(b''.join(lines[:first]) + b'CREATE UNIQUE INDEX %s ON %s USING btree (%s);\n'
                         % (name, table, match.group('columns')))
        attach.append(b'ALTER TABLE ONLY %s ADD CONSTRAINT %s %s USING INDEX %s;\n' % (table, name, kind, name))
    return rewritten, attach


_FK = re.compile(br'ALTER TABLE ONLY (?P<table>%s) ADD CONSTRAINT (?:%s) FOREIGN KEY \([^()]+\) '
                 br'REFERENCES (?P<ref>%s)\(' % (_QUALIFIED, _NAME.pattern, _QUALIFIED))


def _verbatim(match, entry, *groups):
    """Whether each group of ``match`` (on _statement(entry), which joins
    lines) is in ``entry``'s SQL as written: a quoted name with a line break
    in it is not, and is left to the statement pg_dump wrote."""
    sql = b''.join(line for line in entry.splitlines(True) if not line.startswith(b'--'))
    return all(match.group(group) in sql for group in groups)


def _vacuums(entries, table_bytes):
    """A VACUUM of each table loaded here that a foreign key of ``entries``
    (_entries) reads, on either side. After a load PostgreSQL knows no page of a table
    to be all-visible, so a foreign key's check reads the whole table
    (orders: 0.93 s); once VACUUM has set the visibility map it reads the
    indexes instead (index-only scans: 0.28 s), and the reads of the restored
    database that follow find the hint bits set. VACUUM holds the table
    against index builds (SHARE UPDATE EXCLUSIVE), so the caller runs it
    before them: on a table without indexes it only reads the heap."""
    tables = []
    for kind, lines in entries:
        entry = b''.join(lines)
        match = _FK.match(_statement(entry)) if kind == b'FK CONSTRAINT' else None
        for table in match.group('table', 'ref') if match and _verbatim(match, entry, 'table', 'ref') else ():
            if table_bytes.get(table) and table not in tables:
                tables.append(table)
    return [b'VACUUM %s;\n' % table for table in tables]


def _entries(text):
    """``text`` cut into pg_dump's TOC entries: [(type, lines)]. An entry
    begins at its comment block (--, -- Name: ...; Type: X; ..., --); the SET
    lines pg_dump writes before that block belong to the entry after them."""
    lines = text.splitlines(True)
    entries = [(None, [])]
    for number, line in enumerate(lines):
        following = lines[number + 1:number + 3]
        if (line == b'--\n' and len(following) == 2 and following[1] == b'--\n'
                and following[0].startswith((b'-- Name: ', _DATA_COMMENT)) and b'; Type: ' in following[0]):
            moved = []
            previous = entries[-1][1]
            while previous and (previous[-1] == b'\n' or previous[-1].startswith(_SESSION_SETS)):
                moved.insert(0, previous.pop())
            kind = following[0].split(b'; Type: ', 1)[1].split(b';', 1)[0]
            entries.append((kind, moved + [line]))
        else:
            entries[-1][1].append(line)
    return entries


def _is_index_build(kind, lines):
    statement = _statement(b''.join(lines))
    if kind == b'INDEX':
        return statement.startswith((b'CREATE INDEX ', b'CREATE UNIQUE INDEX ')) and b' ON ONLY ' not in statement
    if kind == b'CONSTRAINT':
        return (statement.startswith(b'ALTER TABLE ONLY ') and b' EXCLUDE ' not in statement
                and (b' PRIMARY KEY (' in statement or b' UNIQUE (' in statement))
    return False


def _split_after_data(entries, tablespace):
    """(index builds, each with the default_tablespace it was written under;
    every other line in its order) of ``entries`` (_entries)."""
    builds, rest = [], []
    for kind, lines in entries:
        for line in lines:
            if line.startswith(_TABLESPACE):
                tablespace = line
        if kind is not None and _is_index_build(kind, lines):
            builds.append((tablespace or b'') + b''.join(lines))
        elif kind in (b'INDEX', b'CONSTRAINT', b'INDEX ATTACH') and tablespace:
            rest.extend([tablespace] + lines)  # a session of its own: tell it the tablespace
        else:
            rest.extend(lines)
    return builds, rest


def plain_load(path, comp, client, dbname, jobs, decompress_argv, check=None, beside=None):
    """A ParallelLoad of plain dump ``path`` into ``dbname`` (as its owner, restore.owner_stage)."""
    from ansible_collections.quickbite.ops.plugins.module_utils.db.loading import owner_stage, psql_guard
    guard = psql_guard(path, comp, client)

    def psql():
        return owner_stage(client, 'psql', ['--no-password', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-o', '/dev/null'],
                           dbname, guard)
    decompress = Stage(decompress_argv, label=comp) if comp != 'none' else None
    return ParallelLoad(path, decompress, psql, jobs, check, beside)
