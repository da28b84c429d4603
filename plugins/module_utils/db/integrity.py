# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a backup whole? Checked before anything is dropped: the sha256 sidecar
when there is one, then the archive read to its end (zstd's and gzip's own
checks, pg_restore's table of contents, and for plain SQL pg_dump's closing
line, which a dump cut short by a failed ``pg_dump | gzip`` lacks)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.quickbite.ops.plugins.module_utils.db import archive
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Pipeline, PipelineError, Stage, run_checked
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, VerificationError

PLAIN_TRAILER = b'-- PostgreSQL database dump complete'
PLAIN_HEADER = b'--\n-- PostgreSQL database dump'
DECOMPRESS = dict(zstd=['zstd', '-q', '-d', '-c'], gzip=['gzip', '-d', '-c'])


class CorruptBackup(VerificationError):
    """The backup fails a check: nothing was touched."""


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


def check_sidecar(path):
    """None without a sidecar, else the check line; raises on a mismatch."""
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
        actual = archive.file_sha256(full)
        if actual != digest:
            raise CorruptBackup('checksum mismatch for %s: sidecar says %s, file has %s; the backup is corrupt or was '
                                'changed, nothing was touched' % (full, digest[:16], actual[:16]))
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
    pipe = Pipeline([Stage(DECOMPRESS[comp], label=comp)], source=path)
    out = pipe.start()
    tail = b''
    try:
        while True:
            block = out.read1(1 << 20)
            if not block:
                break
            tail = (tail + block)[-512:]
    finally:
        out.close()
    try:
        pipe.wait()
    except PipelineError as exc:
        raise CorruptBackup('%s does not decompress to its end (%s): refusing it, nothing was touched'
                            % (path, exc.msg))
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
    pipe = Pipeline([client.stage('pg_restore', ['--file=/dev/null'])], source=path)
    out = pipe.start()
    out.read()
    out.close()
    try:
        pipe.wait()
    except PipelineError as exc:
        raise CorruptBackup('pg_restore cannot read %s to its end (%s): refusing it, nothing was touched'
                            % (path, exc.msg))


def check(path, client):
    """Every check a backup must pass before a restore; returns
    (format, compression, manifest, [check lines]). Raises CorruptBackup."""
    fmt, comp, manifest = describe(path)
    lines = []
    sidecar = check_sidecar(path)
    lines.append(sidecar or 'no sha256 sidecar (a backup not made by pg_backup): checked by reading it instead')
    if sidecar and manifest is not None and fmt == 'plain':
        # pg_backup wrote these very bytes only after pg_dump and the compressor
        # exited 0: a matching checksum proves them whole without a second read.
        return fmt, comp, manifest, lines
    if fmt == 'plain':
        tail = _read_through(path, comp)
        if PLAIN_TRAILER not in tail:
            raise CorruptBackup('%s ends without "%s": the dump was cut short (pg_dump failed while it was written); '
                                'refusing it, nothing was touched' % (path, PLAIN_TRAILER.decode()))
        lines.append('plain SQL read to its end (%s), closing line present' % comp)
        return fmt, comp, manifest, lines
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
