# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_backup: one consistent, atomic, checksummed backup with its manifest,
then retention.

Order of a run, every step under the backup directory's lock:
1. remove what runs that died left behind (``*.partial``, files with no manifest);
2. open a snapshot, record what the database holds in it;
3. stream ``pg_dump --snapshot`` (through the compressor) into ``<name>.partial``;
   every stage's exit status checked, the output hashed on the way;
4. check the archive's table of contents lists every table counted;
5. fsync, rename, write the sidecar, and last the manifest, the commit mark;
6. retention, only after all of that succeeded."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import hashlib
import os
import threading
import time

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils.db import archive, integrity
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Pipeline, PipelineError, Stage, own_peak_rss_mb
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import FileLock

LOCK_NAME = '.quickbite-backup'
FORMATS = ('custom', 'directory', 'plain')
COMPRESSIONS = ('zstd', 'gzip', 'none')
DEFAULT_LEVEL = dict(zstd=1, gzip=6, none=0)


def backup_argument_spec():
    return dict(
        dest_dir=dict(type='path', default='/opt/quickbite/backups'),
        prefix=dict(type='str', default='quickbite'),
        format=dict(type='str', default='plain', choices=list(FORMATS)),
        compression=dict(type='str', default='zstd', choices=list(COMPRESSIONS)),
        compression_level=dict(type='int'),
        compression_threads=dict(type='int', default=2),
        jobs=dict(type='int', default=2),
        count_rows=dict(type='bool', default=True),
        lock_wait_timeout=dict(type='int', default=120),
        lock_timeout=dict(type='int', default=10),
        keep_last=dict(type='int', default=0),
        keep_days=dict(type='int', default=0),
        allow_ephemeral=dict(type='bool', default=False),
    )


def validate(p):
    archive.check_prefix(p['prefix'], 'backup_db_prefix')
    fmt, comp = p['format'], p['compression']
    if fmt == 'directory' and comp == 'zstd':
        raise ConfigError('format directory with compression zstd: pg_dump 15 compresses directory archives with '
                          'gzip only; set backup_db_compression to gzip or none, or backup_db_format to custom')
    level = p['compression_level']
    if level is not None:
        limit = {'zstd': (1, 19), 'gzip': (1, 9), 'none': (0, 0)}[comp]
        if not limit[0] <= level <= limit[1]:
            raise ConfigError('backup_db_compression_level %s is out of range for %s (%d to %d)'
                              % (level, comp, limit[0], limit[1]))
    for key in ('keep_last', 'keep_days', 'jobs', 'compression_threads'):
        if p[key] is not None and p[key] < 0:
            raise ConfigError('backup_db_%s must be 0 or more, not %s' % (key, p[key]))
    if fmt == 'directory' and p['jobs'] < 1:
        raise ConfigError('backup_db_jobs must be at least 1 for the directory format')


def dump_stages(p, client, snapshot_id, out_dir=None):
    """The pipeline's stages for the chosen format and compression."""
    fmt, comp = p['format'], p['compression']
    level = p['compression_level'] if p['compression_level'] is not None else DEFAULT_LEVEL[comp]
    args = ['--no-password', '--lock-wait-timeout=%ds' % p['lock_wait_timeout']]
    if snapshot_id:
        args.append('--snapshot=%s' % snapshot_id)
    if fmt == 'custom':
        args += ['--format=custom', '--compress=%d' % (level if comp == 'gzip' else 0)]
    elif fmt == 'directory':
        client.require_files_here('the directory format')
        args += ['--format=directory', '--compress=%d' % (level if comp == 'gzip' else 0),
                 '--jobs=%d' % p['jobs'], '--file=%s' % out_dir]
    else:
        args += ['--format=plain']
    stages = [client.stage('pg_dump', args, dbname=client.target.dbname)]
    external = fmt == 'plain' or (fmt == 'custom' and comp == 'zstd')
    if external and comp == 'zstd':
        stages.append(Stage(['zstd', '-q', '-c', '-%d' % level, '-T%d' % p['compression_threads']], label='zstd'))
    elif external and comp == 'gzip':
        stages.append(Stage(['gzip', '-c', '-%d' % level], label='gzip'))
    return stages


def toc_table_data(path, fmt, comp, client):
    """Names of the TABLE DATA entries in the new archive's table of contents
    (read from its head; cheap even for a large backup)."""
    if fmt == 'plain':
        return None
    try:
        lines = integrity.toc_lines(path, fmt, comp, client)
    except integrity.CorruptBackup as exc:
        raise PipelineError('the new archive does not read back: %s' % exc.msg)
    names = set()
    for line in lines:
        if ' TABLE DATA ' not in line:
            continue
        parts = line.split(' TABLE DATA ', 1)[1].split()
        if len(parts) >= 2:
            names.add(parts[1] if parts[0] == 'public' else '%s.%s' % (parts[0], parts[1]))
    return names


class BackupRun(object):
    def __init__(self, client, params, now=None):
        self.client = client
        self.target = client.target
        self.p = params
        self.now = now or datetime.datetime.now().astimezone()
        self.result = dict(changed=False, removed_leftovers=[], deleted=[])

    # -- helpers --------------------------------------------------------------
    def _cleanup_leftovers(self, leftovers):
        for path in leftovers:
            archive.remove_path(path)
            for extra in (archive.SIDECAR, archive.SIDECAR + archive.PARTIAL, archive.MANIFEST + archive.PARTIAL):
                if os.path.lexists(path + extra):
                    os.unlink(path + extra)
            self.result['removed_leftovers'].append(path)

    # -- the run ----------------------------------------------------------------
    def plan(self):
        """What a run would do (check mode), without taking the lock's side effects."""
        p = self.p
        validate(p)
        if os.path.lexists(p['dest_dir']):  # the refusal a real run would meet
            _safefs.check_dir(p['dest_dir'], archive.DIR_VAR)
        name = archive.backup_name(p['prefix'], p['format'], p['compression'], self.now)
        backups, leftovers = archive.list_backups(p['dest_dir'], p['prefix'])
        expired = archive.select_expired(backups + [dict(path='(new)', manifest=dict(started=self.now.isoformat()))],
                                         p['keep_last'], p['keep_days'], self.now)
        self.result.update(path=os.path.join(p['dest_dir'], name), would_delete=[b['path'] for b in expired],
                           would_remove_leftovers=leftovers, format=p['format'], compression=p['compression'],
                           retention_skipped=archive.undated(backups))
        return self.result

    def run(self):
        p = self.p
        validate(p)
        # Owner and mode checked (created 0700 when absent); every file below is
        # created relative to this descriptor with O_EXCL|O_NOFOLLOW.
        self.dir = _safefs.SafeDir(p['dest_dir'], archive.DIR_VAR)
        with self.dir, FileLock(p['dest_dir'], LOCK_NAME, procedure='back up the database', wait=p['lock_timeout'],
                                what='the lock of backup directory %s' % p['dest_dir'], var=archive.DIR_VAR):
            backups, leftovers = archive.list_backups(p['dest_dir'], p['prefix'])
            self._cleanup_leftovers(leftovers)
            name = archive.backup_name(p['prefix'], p['format'], p['compression'], self.now)
            path = archive.unique_path(p['dest_dir'], name)
            manifest = self._dump(path)
            self.result.update(changed=True, path=path, manifest=manifest)
            backups.append(dict(path=path, name=os.path.basename(path), manifest=manifest))
            for expired in archive.select_expired(backups, p['keep_last'], p['keep_days'], self.now):
                archive.remove_backup(expired['path'])
                self.result['deleted'].append(expired['path'])
            self.result['retention_skipped'] = archive.undated(backups)
        self.result['peak_memory'] = dict(module_mb=own_peak_rss_mb(), stages=manifest['stages'])
        return self.result

    def _dump(self, path):
        p = self.p
        partial = path + archive.PARTIAL
        started = time.time()
        counts, count_error = {}, []
        try:
            with self.client.snapshot() as snap:
                counter = None
                if p['count_rows']:
                    def count():
                        try:
                            counts.update(snap.count_rows())
                        except PlatformError as exc:
                            count_error.append(exc)
                    counter = threading.Thread(target=count, name='row-counts')
                    counter.daemon = True
                    counter.start()
                try:
                    if p['format'] == 'directory':
                        size, digest, pipe, entries = self._dump_directory(partial, snap.id)
                    else:
                        size, digest, pipe = self._dump_stream(partial, snap.id)
                        entries = [(digest, os.path.basename(path))]
                except PipelineError as exc:
                    # A failed count aborts the snapshot's transaction, and pg_dump then
                    # reports only that the snapshot is gone: the count's error is the cause.
                    if counter is not None:
                        counter.join()
                    if count_error:
                        raise PipelineError('%s; pg_dump then failed: %s' % (count_error[0].msg, exc.msg),
                                            **exc.details)
                    raise
                if counter is not None:
                    counter.join()
                facts = dict(snap.facts)
            if count_error:
                raise count_error[0]
            if size == 0:
                raise PipelineError('pg_dump produced no output: nothing was backed up')
            if p['format'] == 'plain' and not integrity.read_head(partial, p['compression']).startswith(
                    integrity.PLAIN_HEADER):
                raise PipelineError('the new backup does not begin like a pg_dump script: nothing was backed up')
            listed = toc_table_data(partial, p['format'], p['compression'], self.client)
            missing = sorted(set(counts) - listed) if listed is not None else []
            if missing:
                raise PipelineError('the archive lacks the data of %d table(s): %s'
                                    % (len(missing), ', '.join(missing[:10])))
            self._commit(partial, path, entries)
        except BaseException:
            archive.remove_path(partial)
            raise
        ended = time.time()
        if p['format'] == 'directory':
            digest = archive.sha256_text(archive.sidecar_text(entries))
        manifest = dict(
            tool='quickbite.ops.pg_backup', database=self.target.dbname, host=self.target.host,
            port=self.target.port, server_version=facts['server_version'], database_size=facts['database_size'],
            format=p['format'], compression=p['compression'],
            compression_level=p['compression_level'] if p['compression_level'] is not None
            else DEFAULT_LEVEL[p['compression']],
            file=os.path.basename(path), size=size, sha256=digest,
            flyway_version=facts['flyway_version'], flyway_failed_rows=facts['flyway_failed_rows'],
            tables=counts if p['count_rows'] else None,
            started=self.now.isoformat(timespec='seconds'),
            ended=datetime.datetime.fromtimestamp(ended).astimezone().isoformat(timespec='seconds'),
            duration=round(ended - started, 3), pipeline_duration=round(pipe.duration, 3),
            stages=pipe.report(), verification=None)
        try:
            archive.write_manifest(path, manifest)
        except BaseException:
            archive.remove_backup(path)
            raise
        return manifest

    def _dump_stream(self, partial, snapshot_id):
        pipe = Pipeline(dump_stages(self.p, self.client, snapshot_id))
        fd = self.dir.create(os.path.basename(partial), 0o600)
        try:
            try:
                size, digest = pipe.relay_to(fd)
            except OSError as exc:
                pipe.kill()
                raise PipelineError('writing %s failed: %s; the partial file was removed and older backups are '
                                    'untouched' % (partial, exc.strerror))
            except BaseException:
                pipe.kill()
                raise
            pipe.wait()
            try:
                os.fsync(fd)
            except OSError as exc:
                raise PipelineError('fsync of %s failed: %s' % (partial, exc.strerror))
        finally:
            os.close(fd)
        return size, digest, pipe

    def _dump_directory(self, partial, snapshot_id):
        pipe = Pipeline(dump_stages(self.p, self.client, snapshot_id, out_dir=partial))
        try:
            out = pipe.start()
            out.read()
            out.close()
        except BaseException:
            pipe.kill()
            raise
        pipe.wait()
        entries, size = [], 0
        base = os.path.basename(partial)[:-len(archive.PARTIAL)]
        with _safefs.SafeDir(partial, archive.DIR_VAR, create=False) as out:
            for name in sorted(os.listdir(out.fd)):
                size_, digest = _seal(out, name)
                size += size_
                entries.append((digest, '%s/%s' % (base, name)))
        return size, None, pipe, entries

    def _commit(self, partial, path, entries):
        fd = os.open(os.path.basename(partial), os.O_RDONLY | os.O_NOFOLLOW, dir_fd=self.dir.fd)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self.dir.rename(os.path.basename(partial), os.path.basename(path))
        self.dir.fsync()
        self.dir.write_atomic(os.path.basename(path) + archive.SIDECAR, archive.sidecar_text(entries))


def _seal(directory, name):
    """(size, sha256) of a file pg_dump wrote into ``directory``, made 0600
    and fsynced through one O_NOFOLLOW descriptor."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=directory.fd)
    try:
        os.fchmod(fd, 0o600)
        digest, size = hashlib.sha256(), 0
        while True:
            block = os.read(fd, 1 << 20)
            if not block:
                break
            size += len(block)
            digest.update(block)
        os.fsync(fd)
        return size, digest.hexdigest()
    finally:
        os.close(fd)
