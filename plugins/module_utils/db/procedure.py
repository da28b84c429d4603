# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_restore's procedure: refuse early, stop the writers, keep a way back,
restore, compare with the manifest, bring the writers back, check health.

``replace`` is the runbook's restore: drop the database, create it, load the
backup. A pre-restore backup is taken first, and a failed load or check puts
it back, so a failure never leaves an empty database behind.

``swap`` (safe mode) loads into ``<db>_restore_<ts>`` while the application
keeps running, checks it, and only then stops the writers for two renames;
the old database stays as ``<db>_pre_restore_<ts>``. It needs room for two
copies."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import time

from ansible_collections.quickbite.ops.plugins.module_utils.db import integrity, restore
from ansible_collections.quickbite.ops.plugins.module_utils.db.backup import BackupRun, backup_argument_spec
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Interrupted
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, QuickbiteError, VerificationError


def restore_argument_spec():
    return dict(
        path=dict(type='path', required=True),
        confirm=dict(type='str', default=''),
        mode=dict(type='str', default='replace', choices=['replace', 'swap']),
        stop_writers=dict(type='bool', default=True),
        writers=dict(type='list', elements='str', default=['backend']),
        pre_restore_backup=dict(type='bool', default=True),
        backup_dir=dict(type='path', default='/opt/quickbite/backups'),
        backend_url=dict(type='str', default='http://127.0.0.1:8080'),
        health_check=dict(type='bool', default=True),
        validate_certs=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=300),
    )


class RestoreRun(object):
    def __init__(self, module, adapter, client):
        self.module = module
        self.adapter = adapter
        self.client = client
        self.target = client.target
        self.p = module.params
        self.db = client.admin()
        self.stamp = datetime.datetime.now().strftime('%Y%m%d_%H%M%S')
        self.result = dict(changed=False, database=self.target.dbname, path=self.p['path'], mode=self.p['mode'],
                           steps=[], checks=[])

    def step(self, text):
        self.result['steps'].append(text)

    # -- before anything changes ----------------------------------------------
    def preflight(self):
        name = self.target.dbname
        exists = self.db.exists(name)
        if exists and self.p['confirm'] != name:
            raise ConfigError('restoring over database %s destroys its current data: set restore_db_confirm to %s '
                              'to confirm (it is now %s); nothing was touched'
                              % (name, name, repr(self.p['confirm']) if self.p['confirm'] else 'empty'))
        fmt, comp, manifest, lines = integrity.check(self.p['path'], self.client)
        self.result['checks'].extend(dict(check='backup reads back whole', ok=True, evidence=line) for line in lines)
        return exists, fmt, comp, manifest

    def plan(self):
        exists, fmt, comp, manifest = self.preflight()
        name = self.target.dbname
        if self.p['mode'] == 'swap':
            self.step('would load %s into %s_restore_%s, check it, stop %s, rename %s to %s_pre_restore_%s and the '
                      'new one to %s' % (self.p['path'], name, self.stamp, self._writers_text(), name, name,
                                         self.stamp, name))
        else:
            self.step('would stop %s' % self._writers_text())
            if exists and self.p['pre_restore_backup']:
                self.step('would back up %s into %s first' % (name, self.p['backup_dir']))
            self.step('would drop and recreate %s and load %s (%s, %s)' % (name, self.p['path'], fmt, comp))
        return self.result

    def _writers_text(self):
        return ', '.join(self.p['writers']) if self.p['stop_writers'] and self.p['writers'] else 'no writers'

    # -- the run ------------------------------------------------------------------
    def run(self):
        exists, fmt, comp, manifest = self.preflight()
        tokens = []
        try:
            if self.p['mode'] == 'swap':
                self._swap(fmt, comp, manifest, tokens, exists)
            else:
                tokens.extend(self._stop_writers())
                self._replace(fmt, comp, manifest, exists)
        finally:
            self._start_writers(tokens)
        if self.p['health_check'] and tokens:
            self._health()
        return self.result

    def _stop_writers(self):
        if not self.p['stop_writers']:
            return []
        tokens = []
        for service in self.p['writers']:
            token = self.adapter.stop(service)
            tokens.append(token)
            self.step('stopped %s (%d replica(s))' % (service, token['replicas']))
        return tokens

    def _start_writers(self, tokens):
        for token in tokens:
            if token['replicas']:
                self.adapter.start(token['service'], token)
                self.adapter.wait(token['service'], self.p['wait_timeout'], replicas=token['replicas'])
                self.step('started %s again (%d replica(s) ready)' % (token['service'], token['replicas']))

    def _health(self):
        from ansible_collections.quickbite.ops.plugins.module_utils.rotation.procedures import health_checks
        checks = health_checks(self.adapter, self.p['backend_url'], self.p['wait_timeout'], self.p['validate_certs'])
        self.result['checks'].extend(dict(check=c[0], ok=c[1], evidence=c[2]) for c in checks)
        failed = [c for c in checks if not c[1]]
        if failed:
            raise VerificationError('the database was restored but the backend is not healthy: %s' % '; '.join(
                '%s (%s)' % (c[0], c[2]) for c in failed), **self.result)
        self.step('health check passed')

    def _load_and_check(self, dbname, fmt, comp, manifest, path=None):
        pipe = restore.load(path or self.p['path'], fmt, comp, self.client, dbname)
        counts, version, failed = self.db.inspect(dbname)
        checks = restore.compare(manifest, counts, version, failed) if path is None else []
        self.result['checks'].extend(dict(check=c[0], ok=c[1], evidence=c[2]) for c in checks)
        bad = [c for c in checks if not c[1]]
        if bad:
            raise VerificationError('the restored database does not match the backup: %s' % '; '.join(
                '%s (%s)' % (c[0], c[2]) for c in bad))
        self.result.update(tables=counts, flyway_version=version, rows=sum(counts.values()))
        return pipe

    def _pre_backup(self):
        params = dict((key, spec.get('default')) for key, spec in backup_argument_spec().items())
        params.update(dest_dir=self.p['backup_dir'], prefix='%s-pre-restore' % self.target.dbname)
        run = BackupRun(self.client, params).run()
        self.result['pre_restore_backup'] = run['path']
        self.step('backed up %s to %s first' % (self.target.dbname, run['path']))
        return run['path']

    def _replace(self, fmt, comp, manifest, exists):
        name = self.target.dbname
        pre = self._pre_backup() if exists and self.p['pre_restore_backup'] else None
        self.result['changed'] = True
        self.db.drop(name)
        self.db.create(name)
        self.step('dropped and recreated %s' % name)
        started = time.time()
        try:
            self._load_and_check(name, fmt, comp, manifest)
        except (QuickbiteError, Interrupted) as exc:
            msg = getattr(exc, 'msg', str(exc))
            if pre is None:
                raise VerificationError('restore of %s failed: %s. There was no pre-restore backup: database %s is '
                                        'empty or partial; restore a good backup now' % (self.p['path'], msg, name))
            self.db.drop(name)
            self.db.create(name)
            pre_fmt, pre_comp, pre_manifest = integrity.describe(pre)
            self._load_and_check(name, pre_fmt, pre_comp, pre_manifest, path=pre)
            self.step('put %s back from the pre-restore backup %s' % (name, pre))
            raise VerificationError('restore of %s failed: %s. Database %s was put back from the pre-restore backup '
                                    '%s' % (self.p['path'], msg, name, pre), **self.result)
        self.step('loaded %s into %s in %.1f s' % (self.p['path'], name, time.time() - started))

    def _swap(self, fmt, comp, manifest, tokens, exists):
        name = self.target.dbname
        new, old = '%s_restore_%s' % (name, self.stamp), '%s_pre_restore_%s' % (name, self.stamp)
        self.db.drop(new)
        self.db.create(new)
        self.result['changed'] = True
        started = time.time()
        try:
            self._load_and_check(new, fmt, comp, manifest)
        except BaseException:
            self.db.drop(new)
            raise
        self.step('loaded %s into %s in %.1f s and checked it' % (self.p['path'], new, time.time() - started))
        tokens.extend(self._stop_writers())
        if exists:
            self.db.rename(name, old)
            self.result['kept_as'] = old
        try:
            self.db.rename(new, name)
        except QuickbiteError:
            if exists:
                self.db.rename(old, name)
            raise
        self.step('swapped: %s is the restored database%s' % (
            name, ', the old one is kept as %s (drop it once you are satisfied)' % old if exists else ''))
