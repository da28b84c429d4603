# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a backup whole? Checked before anything is dropped: the sha256 sidecar
when there is one, then the archive read to its end (zstd's and gzip's own
checks, pg_restore's table of contents, and for plain SQL pg_dump's closing
line, which a dump cut short by a failed ``pg_dump | gzip`` lacks).

A plain SQL backup is read once: the sha256 of its bytes, its decompressed
text through the psql meta-command scan (_psql_scan) and pg_dump's closing
line, all from the same pass over the file. Before any of that, a backup
someone else could have written or changed (not owned by the running user,
writable by group or others, or without the manifest and sidecar pg_backup
writes) is refused unless the caller allows foreign backups."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import re
import stat
import subprocess
import threading

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils.db import _psql_scan, archive
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Pipeline, PipelineError, Stage, run_checked
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, VerificationError

PLAIN_TRAILER = b'-- PostgreSQL database dump complete'
PLAIN_HEADER = b'--\n-- PostgreSQL database dump'
DECOMPRESS = dict(zstd=['zstd', '-q', '-d', '-c'], gzip=['gzip', '-d', '-c'])


class CorruptBackup(VerificationError):
    """The backup fails a check: nothing was touched."""


class UnsafeBackup(CorruptBackup):
    """A plain backup holds something psql would run as a command."""


def _mode_problems(path, st, me, what):
    problems = []
    if st.st_uid != me:
        problems.append('%s %s is owned by %s (uid %d), not by %s who runs this'
                        % (what, path, _safefs.owner_name(st.st_uid), st.st_uid, _safefs.owner_name(me)))
    if st.st_mode & 0o022:
        problems.append('%s %s is writable by group or others (mode %04o)' % (what, path, stat.S_IMODE(st.st_mode)))
    return problems


def foreign_problems(path):
    """Why backup ``path`` may hold what someone else wrote ([] when it is
    this user's own pg_backup backup): its owner and mode (every file of a
    directory backup), a directory above it that others may write (they could
    swap the file after the checks), a manifest or sidecar missing, a
    symlink, or not this user's."""
    me = os.geteuid()
    real = os.path.realpath(path)
    st = os.stat(real)
    problems = _mode_problems(path, st, me, 'the backup')
    if stat.S_ISDIR(st.st_mode):
        for name in sorted(os.listdir(real)):
            problems.extend(_mode_problems(os.path.join(path, name), os.lstat(os.path.join(real, name)), me,
                                           'the file'))
    parent = os.path.dirname(real)
    pst = os.stat(parent)
    if pst.st_mode & 0o022 and not pst.st_mode & stat.S_ISVTX:
        problems.append('its directory %s is writable by group or others (mode %04o), so another user could swap '
                        'the file after these checks' % (parent, stat.S_IMODE(pst.st_mode)))
    missing = []
    for extra, what in ((archive.MANIFEST, 'manifest'), (archive.SIDECAR, 'sidecar')):
        try:
            est = os.lstat(path + extra)
        except OSError:
            missing.append(path + extra)
            continue
        if stat.S_ISLNK(est.st_mode):
            problems.append('its %s %s is a symlink' % (what, path + extra))
        else:
            problems.extend(_mode_problems(path + extra, est, me, 'its %s' % what))
    if missing:
        problems.append('it has no pg_backup manifest and sidecar (%s missing): it was not made by '
                        'quickbite.ops.pg_backup' % ', '.join(missing))
    return problems


def require_own(path, allow_foreign, option):
    """Refuse a foreign backup (see foreign_problems) unless ``allow_foreign``;
    returns the check line."""
    problems = foreign_problems(path)
    if not problems:
        return ('the backup, its manifest and sidecar are owned by %s and writable by nobody else'
                % _safefs.owner_name(os.geteuid()))
    if not allow_foreign:
        raise ConfigError(
            'refusing to load backup %s: %s. Its SQL would run in the database, and a plain backup is read by psql; '
            'a file someone else could have written or changed must not be loaded unawares; nothing was touched. '
            'Check where it came from, then set %s=true (module option allow_foreign_backup) to load it anyway, or '
            'make it your own: chown %s and chmod go-w the backup and its directory' % (
                path, '; '.join(problems), option, _safefs.owner_name(os.geteuid())), path=path, problems=problems)
    return 'foreign backup accepted (%s=true): %s' % (option, '; '.join(problems))


def describe(path):
    """(format, compression, manifest) of a backup file or directory."""
    if not os.path.exists(path):
        raise ConfigError('backup %s does not exist; pass restore_db_path (or verify_backup_path) as a path on the '
                          'managed host, such as /opt/quickbite/backups/quickbite_20250101_120000.sql.gz' % path)
    if not os.access(path, os.R_OK):
        raise ConfigError('backup %s is not readable by this user' % path)
    manifest = archive.read_manifest(path)
    if manifest and manifest.get('format') and manifest.get('compression'):
        return manifest['format'], manifest['compression'], manifest
    fmt, comp = archive.detect_format(path)
    return fmt, comp, manifest


UNTOUCHED = 'nothing was touched'
# A check made while loading (StreamedCheck) fails after the load began.
STOPPED = 'found while loading it: the load was stopped and is undone'


def check_sidecar(path, known=None, consequence=UNTOUCHED):
    """None without a sidecar, else the check line; raises on a mismatch.
    ``known``: {absolute path: sha256} already computed (not read again)."""
    sidecar = path + archive.SIDECAR
    if not os.path.exists(sidecar):
        return None
    with open(sidecar) as handle:
        entries = archive.parse_sidecar(handle.read())
    if not entries:
        raise CorruptBackup('the sidecar %s lists no checksum: refusing backup %s' % (sidecar, path))
    base = os.path.dirname(os.path.abspath(path))
    for digest, rel in entries:
        full = os.path.join(base, rel)
        if not os.path.exists(full):
            raise CorruptBackup('%s is missing (listed in %s): refusing backup %s' % (full, sidecar, path))
        actual = (known or {}).get(os.path.normpath(full)) or archive.file_sha256(full)
        if actual != digest:
            raise CorruptBackup('checksum mismatch for %s: sidecar says %s, file has %s; the backup is corrupt or was '
                                'changed, %s' % (full, digest[:16], actual[:16], consequence))
    return 'sha256 of %d file(s) matches %s' % (len(entries), os.path.basename(sidecar))


def read_head(path, comp, size=64):
    """The first bytes of the (decompressed) backup; the decompressor is
    stopped as soon as they are read."""
    if comp == 'none':
        with open(path, 'rb') as handle:
            return handle.read(size)
    pipe = Pipeline([Stage(DECOMPRESS[comp], label=comp)], source=path)
    out = pipe.start()
    head = out.read(size)
    out.close()
    pipe.kill()
    return head


def _read_through(path, comp):
    """Decompress to the end; returns the last bytes of the output."""
    if comp == 'none':
        with open(path, 'rb') as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 512))
            return handle.read()
    return _drain([Stage(DECOMPRESS[comp], label=comp)], path, '%s does not decompress to its end' % path)


def _drain(stages, path, failure):
    """Run ``stages`` over the file ``path`` to its end, the output dropped
    but its last 512 bytes; a failing stage refuses the backup (``failure``
    says what went wrong)."""
    pipe = Pipeline(stages, source=path)
    out = pipe.start()
    tail = b''
    try:
        for block in iter(lambda: out.read1(1 << 20), b''):
            tail = (tail + block)[-512:]
    finally:
        out.close()
    try:
        pipe.wait()
    except PipelineError as exc:
        raise CorruptBackup('%s (%s): refusing it, nothing was touched' % (failure, exc.msg))
    return tail


def toc_lines(path, fmt, comp, client):
    """The archive's table of contents (``pg_restore --list``, fed through
    stdin so it works on this host and in the container alike)."""
    if fmt == 'directory':
        client.require_files_here('reading a directory-format backup')
        stages, source = [client.stage('pg_restore', ['--list', path])], None
    elif comp == 'zstd':
        stages, source = [Stage(DECOMPRESS['zstd'], label='zstd'), client.stage('pg_restore', ['--list'])], path
    else:
        stages, source = [client.stage('pg_restore', ['--list'])], path
    pipe = Pipeline(stages, source=source)
    out = pipe.start()
    text = out.read().decode('utf-8', 'replace')
    out.close()
    for stage in pipe.stages:
        stage.reap()
    # zstd may die of SIGPIPE once pg_restore has read the TOC: only pg_restore's status counts.
    last = pipe.stages[-1]
    if last.returncode != 0:
        raise CorruptBackup('pg_restore cannot read the archive %s (%s): refusing it, nothing was touched'
                            % (path, last.tail() or 'exit %s' % last.returncode))
    return [line for line in text.splitlines() if line and not line.startswith(';')]


def _read_archive_through(path, client):
    """pg_restore parses a custom archive to its end, writing the script nowhere."""
    _drain([client.stage('pg_restore', ['--file=/dev/null'])], path, 'pg_restore cannot read %s to its end' % path)


class _PlainRead(object):
    """One pass over a plain backup: sha256 of the file's bytes (fed to the
    decompressor by a thread), the decompressed text through the psql scan,
    the last bytes kept for pg_dump's closing line. run() reads it all;
    a loader reads it through open(), read1() and close() (StreamedCheck)."""

    def __init__(self, path, comp):
        self.path, self.comp = path, comp
        self.digest = hashlib.sha256()
        self.whole = True
        self.scanner = _psql_scan.Scanner()
        self.unsafe = None
        self.summary = None
        self.tail = b''
        self.read_error = None
        self.stage = None
        self.out = None
        self.feeder = None
        self.ended = False

    def _feed(self, sink):
        """The file's bytes into ``sink`` (the decompressor), each block added to the sha256 on the way."""
        try:
            with open(self.path, 'rb') as handle:
                for block in iter(lambda: handle.read(1 << 20), b''):
                    self.digest.update(block)
                    sink.write(block)
        except (IOError, OSError) as exc:  # a broken pipe: the decompressor stopped
            self.whole = False
            self.read_error = exc
        finally:
            try:
                sink.close()
            except (IOError, OSError):
                pass

    def open(self, decompress):
        """Start reading: ``decompress`` is the decompressor's Stage (None for
        an uncompressed backup). Returns self, a stream with read1() and close()."""
        if decompress is None:
            self.out = open(self.path, 'rb')
            return self
        self.stage = decompress
        self.out = decompress.start(subprocess.PIPE)
        self.feeder = threading.Thread(target=self._feed, args=(decompress.proc.stdin,), name='backup-reader')
        self.feeder.daemon = True
        self.feeder.start()
        return self

    def read1(self, size=1 << 20):
        """The next decompressed block (b'' at the end), scanned and hashed."""
        block = self.out.read1(size)
        if self.stage is None:
            self.digest.update(block)
        if block:
            self.tail = (self.tail + block[-512:])[-512:]
            if self.unsafe is None:
                try:
                    self.scanner.feed(block)
                except _psql_scan.UnsafeDump as exc:
                    self.unsafe = exc
        elif not self.ended:
            self.ended = True
            if self.unsafe is None:
                try:
                    self.summary = self.scanner.finish()
                except _psql_scan.UnsafeDump as exc:
                    self.unsafe = exc
        return block

    def close(self):
        if self.out is not None:
            self.out.close()  # a decompressor still writing ends on SIGPIPE, and the feeder with it
        if self.feeder is not None:
            self.feeder.join()
            self.feeder = None

    def run(self):
        self.open(Stage(DECOMPRESS[self.comp], label=self.comp) if self.comp != 'none' else None)
        try:
            while self.read1(1 << 20):
                pass
        finally:
            self.close()
            if self.stage is not None:
                self.stage.reap()
        if self.stage is not None and self.stage.returncode != 0:
            raise CorruptBackup('%s does not decompress to its end (%s failed, exit %s: %s): refusing it, nothing '
                                'was touched' % (self.path, self.comp, self.stage.returncode,
                                                 self.stage.tail() or 'no message'))
        if self.read_error is not None:
            raise CorruptBackup('reading %s failed: %s; refusing it, nothing was touched'
                                % (self.path, self.read_error))
        return self


def _refuse_unsafe(path, exc, consequence=UNTOUCHED):
    raise UnsafeBackup(
        'refusing backup %s: it holds %s. psql runs meta-commands as the OS user running it (\\! runs a shell '
        'command), and a dump written by pg_dump holds none; %s, and nothing of it was run. Find out '
        'who wrote this file; restore another backup, or remove that line by hand from a copy you have read'
        % (path, exc, consequence), path=path, line=exc.line)


def _conclude_plain(read, lines, consequence=UNTOUCHED):
    """The verdict on a plain backup read to its end (_PlainRead): sidecar,
    meta-commands, pg_dump's closing line; appends the check lines."""
    path = read.path
    known = {os.path.normpath(os.path.abspath(path)): read.digest.hexdigest()} if read.whole else None
    sidecar = check_sidecar(path, known, consequence)
    lines.append(sidecar or 'no sha256 sidecar (a backup not made by pg_backup): checked by reading it instead')
    if read.unsafe is not None:
        _refuse_unsafe(path, read.unsafe, consequence)
    if PLAIN_TRAILER not in read.tail:
        raise CorruptBackup('%s ends without "%s": the dump was cut short (pg_dump failed while it was written); '
                            'refusing it, %s' % (path, PLAIN_TRAILER.decode(), consequence))
    lines.append('plain SQL read to its end (%s), closing line present' % read.comp)
    summary = read.summary
    lines.append('no psql meta-command outside COPY data (%d COPY block(s), %d lines%s)' % (
        summary['copy_blocks'], summary['lines'],
        ", pg_dump's own \\restrict guard" if summary['restrict_key'] else ''))
    return lines


def _check_plain(path, comp, lines):
    return _conclude_plain(_PlainRead(path, comp).run(), lines)


class StreamedCheck(_PlainRead):
    """_check_plain's checks made on the very bytes a load reads, in the same
    pass, for a load whose target holds nothing to lose (db/restore.py says
    when): it saves reading the whole backup once before the load.

    The loader reads the decompressed text through read1(): every block goes
    through the meta-command scan before the loader sees it, and the loader
    sends psql whole lines only (parallel_load._Reader), so no line of a
    refused dump reaches psql. The file's bytes are hashed as they are fed to
    the decompressor, so the sha256 is that of what was loaded; it, the end
    of the stream and pg_dump's closing line are judged by conclude(), once
    the load has read everything. A failure raises: the caller undoes the load."""

    def read1(self, size=1 << 20):
        block = super(StreamedCheck, self).read1(size)
        if self.unsafe is not None:
            _refuse_unsafe(self.path, self.unsafe, STOPPED)
        return block

    def conclude(self):
        """The check lines once the load has read the whole stream; raises
        CorruptBackup (UnsafeBackup) as _check_plain would."""
        self.close()
        if self.read_error is not None:
            raise CorruptBackup('reading %s failed: %s; %s' % (self.path, self.read_error, STOPPED))
        if not self.ended:
            raise CorruptBackup('%s was not read to its end; %s' % (self.path, STOPPED))
        return _conclude_plain(self, [], STOPPED)


_RESTRICT_LINE = re.compile(br'^\\restrict[ \t]+([A-Za-z0-9]+)[ \t\r]*$')


def own_restrict_key(path, comp):
    """The key of pg_dump's own ``\\restrict`` line when it is the first line
    after the header comments (pg_dump 15.14 and later write it), else None.
    Then psql itself refuses every other meta-command until ``\\unrestrict``."""
    for line in read_head(path, comp, 8192).split(b'\n'):
        line = line.strip()
        if not line or line.startswith(b'--'):
            continue
        match = _RESTRICT_LINE.match(line)
        return match.group(1).decode('ascii') if match else None
    return None


def check_streamed(path, client, allow_foreign=False, option='restore_db_allow_foreign_backup'):
    """check() for a load whose target holds nothing to lose: a plain backup's
    reading checks are left to the load (StreamedCheck, the fifth value);
    every other backup is checked in full first (and the fifth value is None)."""
    fmt, comp, manifest = describe(path)
    if fmt != 'plain':
        return check(path, client, allow_foreign, option) + (None,)
    lines = [require_own(path, allow_foreign, option),
             'sha256, meta-command scan and closing line checked while loading: the target holds nothing to lose']
    return fmt, comp, manifest, lines, StreamedCheck(path, comp)


def check(path, client, allow_foreign=False, option='restore_db_allow_foreign_backup'):
    """Every check a backup must pass before a restore; returns
    (format, compression, manifest, [check lines]). Raises ConfigError for a
    foreign backup (unless ``allow_foreign``; ``option`` names the variable),
    CorruptBackup (UnsafeBackup for a psql meta-command)."""
    fmt, comp, manifest = describe(path)
    lines = [require_own(path, allow_foreign, option)]
    if fmt == 'plain':
        return fmt, comp, manifest, _check_plain(path, comp, lines)
    sidecar = check_sidecar(path)
    lines.append(sidecar or 'no sha256 sidecar (a backup not made by pg_backup): checked by reading it instead')
    if comp == 'zstd':
        _read_through(path, comp)
        lines.append('zstd stream read to its end, frame checksums good')
    entries = toc_lines(path, fmt, comp, client)
    if fmt == 'directory' and comp == 'gzip':
        for name in sorted(os.listdir(path)):
            if name.endswith('.gz'):
                rc, out, err = run_checked(['gzip', '-t', os.path.join(path, name)], timeout=3600)
                if rc != 0:
                    raise CorruptBackup('%s/%s fails gzip -t (%s): refusing the backup, nothing was touched'
                                        % (path, name, err.strip()))
    elif fmt == 'custom' and comp != 'zstd':
        _read_archive_through(path, client)
    lines.append('%s archive: table of contents lists %d entries' % (fmt, len(entries)))
    return fmt, comp, manifest, lines
