# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loading a plain SQL dump over several connections, the way pg_restore
--jobs loads an archive: the schema first (one session), then the table data
(``COPY ... FROM stdin`` blocks, large ones cut at row boundaries into chunks)
over ``jobs`` sessions at once, then everything after the data (sequence
values, indexes, constraints) in one session, once every COPY has ended.

Decompression, parsing here, the COPY sessions and the server's backends run
side by side, so a load uses more than one core. It is not one transaction:
the database is a fresh one whose result is checked before it is used, and a
failed load is rolled back by the procedure (db/procedure.py).

A dump is split only along what pg_dump itself writes: a COPY block is taken
out only when it follows pg_dump's ``-- Data for Name: ...; Type: TABLE
DATA`` comment; the header (pg_dump's ``SET`` lines and ``\\restrict``) opens
every session, so each one parses the data as the dump says. Each session
also gets settings for a bulk load: synchronous_commit off (a lost commit
only fails the check), a large maintenance_work_mem and parallel workers for
the index builds."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import subprocess
import tempfile
import time

from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import PipelineError, Stage

BLOCK = 1 << 20
CHUNK = 16 << 20  # rows of one table sent as one COPY, so a big table spreads over the sessions
SESSION_SETTINGS = (b"SET synchronous_commit = off;\n"
                    b"SET maintenance_work_mem = '512MB';\n"
                    b"SET max_parallel_maintenance_workers = 2;\n")
_DATA_COMMENT = b'-- Data for Name: '
_END = b'\\.\n'
_HEADER_LINES = (b'\n', b'--', b'SET ', b'SELECT pg_catalog.set_config(', b'\\restrict ')


class _Session(object):
    """One psql reading SQL from a pipe; its query output goes to /dev/null."""

    def __init__(self, stage, header):
        self.stage = stage
        self.header = header
        self.stdin = None
        self.out = None

    def start(self):
        self.out = self.stage.start(subprocess.PIPE)
        self.stdin = self.stage.proc.stdin
        self.write(self.header + SESSION_SETTINGS)
        return self

    def write(self, data):
        try:
            self.stdin.write(data)
        except (IOError, OSError):
            raise self.failed()

    def failed(self):
        self.kill()
        return PipelineError('%s failed (exit %s): %s' % (self.stage.label, self.stage.returncode,
                                                         self.stage.tail() or 'no message'))

    def finish(self):
        """Close its input and wait; raise if psql failed."""
        try:
            self.stdin.close()
        except (IOError, OSError):
            pass
        self.stage.reap()
        if self.out is not None:
            self.out.close()
        if self.stage.returncode != 0:
            raise self.failed()

    def kill(self):
        if self.stage.proc is not None and self.stage.returncode is None:
            try:
                self.stage.proc.kill()
            except OSError:
                pass
            self.stage.reap()


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
            end = self.buf.find(b'\n' + _END, self.pos)
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

    def __init__(self, source, decompress, psql, jobs):
        self.source = source
        self.decompress = decompress
        self.psql = psql
        self.jobs = max(2, jobs)
        self.sessions = []
        self.started = None
        self.duration = None
        self.tables = 0
        self.chunks = 0
        self.data_done = None

    def _session(self, header):
        session = _Session(self.psql(), header)
        self.sessions.append(session)
        return session.start()

    def run(self):
        self.started = time.time()
        handle = open(self.source, 'rb')
        try:
            if self.decompress is not None:
                stream = self.decompress.start(handle)
                handle.close()
            else:
                stream = handle
            self._load(_Reader(stream))
            if self.decompress is not None:
                stream.close()
                self.decompress.reap()
                if self.decompress.returncode != 0:
                    raise PipelineError('%s failed (exit %s): %s' % (self.decompress.label, self.decompress.returncode,
                                                                     self.decompress.tail() or 'no message'))
        except BaseException:
            self.kill()
            raise
        finally:
            handle.close()
        self.duration = time.time() - self.started
        return self

    def kill(self):
        for session in self.sessions:
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
                        workers = [self._session(header) for _ in range(self.jobs)]
                    self._copy(reader, copy, workers)
                else:
                    (schema if workers is None else after).write(b''.join(pending))
                pending = []
            else:
                (schema if workers is None else after).write(line)
            line = reader.line()
        (schema if workers is None else after).write(b''.join(pending))
        if workers is None:
            schema.finish()
            return
        for worker in workers:
            worker.finish()
        self.data_done = time.time()
        post = self._session(header)
        after.seek(0)
        while True:
            block = after.read(BLOCK)
            if not block:
                break
            post.write(block)
        post.finish()

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
        size = 0
        worker = None
        while True:
            rows = reader.copy_rows()
            if not rows:
                break
            while rows:
                if worker is None:
                    worker = workers[self.chunks % len(workers)]
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
                if rows or size >= CHUNK:
                    worker.write(_END)
                    worker, size = None, 0
        if worker is not None:
            worker.write(_END)

    def report(self):
        stages = ([self.decompress] if self.decompress is not None else []) + [s.stage for s in self.sessions]
        return [dict(program=s.label, exit=s.returncode, max_rss_mb=round(s.maxrss_kb / 1024.0, 1)) for s in stages]


def plain_load(path, comp, client, dbname, jobs, decompress_argv):
    """A ParallelLoad of plain dump ``path`` into ``dbname`` (as the admin role)."""
    def psql():
        return client.stage('psql', ['--no-password', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-o', '/dev/null'],
                            dbname=dbname, as_admin=True)
    decompress = Stage(decompress_argv, label=comp) if comp != 'none' else None
    return ParallelLoad(path, decompress, psql, jobs)
