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
copies. Derived names are shortened to PostgreSQL's 63 bytes and checked
(db/names.py); one that exists already is refused, never dropped.

Every step is recorded first (db/restore_state.py). Any exception, SIGTERM
included, puts things back before it is re-raised; a run killed outright
leaves the record, and the next run settles it: it finishes when the
restored database is in place, and otherwise puts the original back (the
pre-restore backup, or the swap renamed back), starts the writers with the
replica counts recorded before they were stopped, and says what it found
and did."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import time

from ansible_collections.quickbite.ops.plugins.module_utils.db import integrity, loading
from ansible_collections.quickbite.ops.plugins.module_utils.db.backup import BackupRun, backup_argument_spec
from ansible_collections.quickbite.ops.plugins.module_utils.db.names import swap_names
from ansible_collections.quickbite.ops.plugins.module_utils.db.restore_state import DONE, RestoreState
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, QuickbiteError, VerificationError
from ansible_collections.quickbite.ops.plugins.module_utils.health.backend import health_checks

NEW, OLD = 'restored database', 'kept pre-restore database'


def restore_argument_spec():
    """pg_restore's own options; it merges the option groups of options.py too."""
    return dict(
        path=dict(type='path', required=True),
        confirm=dict(type='str', default=''),
        mode=dict(type='str', default='replace', choices=['replace', 'swap']),
        stop_writers=dict(type='bool', default=True),
        writers=dict(type='list', elements='str', default=['backend']),
        pre_restore_backup=dict(type='bool', default=True),
        backup_dir=dict(type='path', default='/opt/quickbite/backups'),
        allow_ephemeral=dict(type='bool', default=False),
        health_check=dict(type='bool', default=True),
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
        self.state = RestoreState(adapter.store(), self.target.dbname)
        self.names = {}
        self.writers = []
        self.streamed = None  # integrity.StreamedCheck when the backup is checked while it loads
        self.result = dict(changed=False, database=self.target.dbname, path=self.p['path'], restore_mode=self.p['mode'],
                           steps=[], checks=[])

    def step(self, text):
        self.result['steps'].append(text)

    # -- before anything changes ----------------------------------------------
    def preflight(self, streaming=False):
        """The refusals, and the backup's checks: all of them before anything
        changes, unless ``streaming`` and the load's target holds nothing to
        lose (swap mode's new database, a database that does not exist or is
        empty): then a plain backup's reading checks run during the parallel
        load, on the bytes it loads (integrity.StreamedCheck), and a failed
        check undoes the load like any failure. Returns (target existed,
        format, compression, manifest)."""
        name = self.target.dbname
        loading.require_jobs(self.p.get('jobs'), 'restore_db_jobs')
        exists = self.db.exists(name)
        if exists and self.p['confirm'] != name:
            raise ConfigError('restoring over database %s destroys its current data: set restore_db_confirm to %s '
                              'to confirm (it is now %s); nothing was touched'
                              % (name, name, repr(self.p['confirm']) if self.p['confirm'] else 'empty'))
        if self.p['mode'] == 'swap':
            self.names = swap_names(name, self.stamp)
            for role, derived in sorted(self.names.items()):
                if self.db.exists(derived):
                    raise ConfigError('refusing to restore in swap mode: database %s (the %s this restore would '
                                      'create) exists already, and this run did not create it; nothing was touched. '
                                      'Look at what it holds, then drop or rename it yourself, or use '
                                      'restore_db_mode=replace' % (derived, role))
        allow = self.p.get('allow_foreign_backup', False)
        if streaming and (self.p.get('jobs') or 1) > 1 and self._nothing_to_lose(exists):
            fmt, comp, manifest, lines, self.streamed = integrity.check_streamed(self.p['path'], self.client, allow)
        else:
            fmt, comp, manifest, lines = integrity.check(self.p['path'], self.client, allow_foreign=allow)
        self._backup_checks(lines)
        return exists, fmt, comp, manifest

    def _nothing_to_lose(self, exists):
        if self.p['mode'] == 'swap' or not exists:
            return True
        return self.db.holds_nothing(self.target.dbname)

    def _backup_checks(self, lines):
        self.result['checks'].extend(dict(check='backup reads back whole', ok=True, evidence=line) for line in lines)

    def plan(self):
        if self.state.load():
            data = self.state.data
            self.result['changed'] = True
            self.step('would settle the interrupted restore of %s into %s (%s mode, phase "%s", started %s): %s'
                      % (data['path'], data['database'], data['mode'], data['phase'], data['since'],
                         self._settle_plan(data)))
            return self.result
        exists, fmt, comp, manifest = self.preflight()
        name = self.target.dbname
        if self.p['mode'] == 'swap':
            self.step('would load %s into %s, check it, stop %s, rename %s to %s and the new one to %s'
                      % (self.p['path'], self.names[NEW], self._writers_text(), name, self.names[OLD], name))
        else:
            self.step('would stop %s' % self._writers_text())
            if exists and self.p['pre_restore_backup']:
                self.step('would back up %s into %s first' % (name, self.p['backup_dir']))
            self.step('would drop and recreate %s and load %s (%s, %s)' % (name, self.p['path'], fmt, comp))
        return self.result

    def _writers_text(self):
        return ', '.join(self.p['writers']) if self.p['stop_writers'] and self.p['writers'] else 'no writers'

    @staticmethod
    def _settle_plan(data):
        phase = data['phase']
        if phase in DONE:
            return 'the restored database is in place; would start the writers again'
        if phase in ('started', 'writers stopped'):
            return 'the database was not touched; would start the writers again'
        if phase == 'loading':
            if data.get('pre_restore_backup'):
                return 'would put %s back from the pre-restore backup %s' % (data['database'],
                                                                             data['pre_restore_backup'])
            return 'there is no pre-restore backup: %s stays empty or partial' % data['database']
        return 'would put the original %s back and drop %s' % (data['database'], data['names'][NEW])

    # -- the run ------------------------------------------------------------------
    def run(self):
        started = time.time()
        with self.adapter.lock('restore database %s' % self.target.dbname):  # re-entrant: the module holds it too
            if self.state.load():
                return self._resume()
            exists, fmt, comp, manifest = self.preflight(streaming=True)
            self.state.begin(mode=self.p['mode'], database=self.target.dbname, path=self.p['path'],
                             stamp=self.stamp, existed=exists, names=self.names)
            try:
                if self.p['mode'] == 'swap':
                    self._swap(fmt, comp, manifest, exists)
                else:
                    self._stop_writers()
                    self._replace(fmt, comp, manifest, exists)
            except BaseException as exc:  # KeyboardInterrupt, SystemExit and Interrupted (SIGTERM) too
                replacement = self._put_back(exc)
                if replacement is not None:
                    raise replacement
                raise
            self._start_writers(self.writers)
            self.state.clear()
        if self.p['health_check'] and self.writers:
            self._health()
        self.result['duration'] = round(time.time() - started, 1)
        return self.result

    def _put_back(self, exc):
        """Settle a failed run; the error to raise instead of ``exc`` (None: re-raise it)."""
        msg = getattr(exc, 'msg', None) or str(exc) or exc.__class__.__name__
        try:
            outcome, text = self._settle()
        except BaseException as second:  # the record stays for the next run
            return VerificationError('restore of %s failed (%s) and so did putting things back (%s); what was done '
                                     'is recorded (%s): run the restore again to finish putting it back'
                                     % (self.p['path'], msg, getattr(second, 'msg', None) or second, self.state.key),
                                     **self.result)
        self.result['outcome'] = outcome
        self.step(text)
        if isinstance(exc, QuickbiteError):
            return VerificationError('restore of %s failed: %s. %s' % (self.p['path'], msg, text[0].upper() + text[1:]),
                                     **self.result)
        return None

    def _resume(self):
        data = self.state.data
        self.result.update(changed=True, resumed=dict((k, data.get(k)) for k in ('phase', 'mode', 'path', 'since')))
        self.writers = data['writers']
        self.step('found an interrupted restore of %s into %s (%s mode, phase "%s", started %s)'
                  % (data['path'], data['database'], data['mode'], data['phase'], data['since']))
        outcome, text = self._settle()
        self.result['outcome'] = outcome
        self.step(text)
        if self.p['health_check'] and self.writers:
            self._health()
        if outcome == 'restored':
            return self.result
        raise VerificationError('found an interrupted restore of %s and settled it: %s; nothing else was done. Run '
                                'the restore again to restore %s' % (data['path'], text, self.p['path']),
                                **self.result)

    def _settle(self):
        """Finish or put back what the record says was under way, start the
        writers it stopped, forget the record: (outcome, what was done)."""
        data = self.state.data
        if data['mode'] == 'swap':
            outcome = self._settle_swap(data)
        else:
            outcome = self._settle_replace(data)
        self._start_writers(data['writers'])
        self.state.clear()
        return outcome

    def _settle_replace(self, data):
        name, phase = data['database'], data['phase']
        if phase in DONE:
            return 'restored', 'database %s holds the restored backup %s (checked)' % (name, data['path'])
        if phase in ('started', 'writers stopped'):
            return 'original', 'database %s was not touched' % name
        pre = data.get('pre_restore_backup')
        if not pre and data.get('held_nothing'):
            self.db.drop(name)
            if data['existed']:
                self.db.create(name)
                return 'original', 'database %s is empty again, as it was before the restore' % name
            return 'original', 'database %s was dropped: it did not exist before the restore' % name
        if not pre:
            return 'empty', ('there was no pre-restore backup: database %s is empty or partial; restore a good '
                             'backup now' % name)
        self.db.drop(name)
        self.db.create(name)
        pre_fmt, pre_comp, pre_manifest = integrity.describe(pre)
        self._load_and_check(name, pre_fmt, pre_comp, pre_manifest, path=pre)
        return 'original', 'database %s was put back from the pre-restore backup %s' % (name, pre)

    def _settle_swap(self, data):
        name, phase = data['database'], data['phase']
        new, old = data['names'][NEW], data['names'][OLD]
        live, has_new = self.db.exists(name), self.db.exists(new)
        if phase in DONE or (phase == 'swapping' and live and not has_new):
            kept = ', the old one is kept as %s' % old if data['existed'] else ''
            return 'restored', 'database %s holds the restored backup %s%s' % (name, data['path'], kept)
        done = []
        if phase == 'swapping' and not live and data['existed'] and self.db.exists(old):
            self.db.rename(old, name)
            done.append('renamed %s back to %s' % (old, name))
        if has_new and new in data['created']:
            self.db.drop(new)  # created by this restore (recorded before CREATE DATABASE)
            done.append('dropped %s, which this restore had created' % new)
        return 'original', 'database %s is the original one%s' % (name, ' (%s)' % '; '.join(done) if done else '')

    def _stop_writers(self):
        if not self.p['stop_writers']:
            return
        for service in self.p['writers']:
            seen = self.adapter.services([service], detail=False)[0]
            running = len([r for r in seen['replicas'] if r['state'] in ('running', 'restarting')])
            entry = dict(service=service, replicas=seen['desired'] if seen['desired'] is not None else running)
            self.writers.append(entry)
            self.state.save(writers=self.writers)  # the count is known before the stop
            entry.update(self.adapter.stop(service))
            self.state.save(writers=self.writers)
            self.step('stopped %s (%d replica(s))' % (service, entry['replicas']))
        self.state.save('writers stopped')

    def _start_writers(self, entries):
        for entry in entries:
            if entry['replicas']:
                self.adapter.start(entry['service'], entry)
                self.adapter.wait(entry['service'], self.p['wait_timeout'], replicas=entry['replicas'])
                self.step('started %s again (%d replica(s) ready)' % (entry['service'], entry['replicas']))

    def _health(self):
        checks = health_checks(self.adapter, self.p['backend_url'], self.p['wait_timeout'], self.p['validate_certs'])
        self.result['checks'].extend(dict(check=c[0], ok=c[1], evidence=c[2]) for c in checks)
        failed = [c for c in checks if not c[1]]
        if failed:
            raise VerificationError('the database was restored but the backend is not healthy: %s' % '; '.join(
                '%s (%s)' % (c[0], c[2]) for c in failed), **self.result)
        self.step('health check passed')

    def _load_and_check(self, dbname, fmt, comp, manifest, path=None):
        check = self.streamed if path is None else None
        pipe = loading.load(path or self.p['path'], fmt, comp, self.client, dbname, self.p.get('jobs') or 1, check,
                            inspect=lambda: self.db.inspect(dbname))
        if check is not None:
            self._backup_checks(pipe.check_lines)
        counts, version, failed = pipe.inspected
        checks = loading.compare(manifest, counts, version, failed)
        self.result['checks'].extend(dict(check=c[0], ok=c[1], evidence=c[2]) for c in checks)
        bad = [c for c in checks if not c[1]]
        if bad:
            raise VerificationError('the %s database does not match its backup: %s' % (
                'restored' if path is None else 'put back', '; '.join('%s (%s)' % (c[0], c[2]) for c in bad)))
        self.result.update(tables=counts, flyway_version=version, rows=sum(counts.values()))

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
        # Before the drop: a rerun puts it back (or, when it held nothing, empties it again).
        self.state.save('loading', pre_restore_backup=pre, held_nothing=self.streamed is not None)
        self.result['changed'] = True
        self.db.drop(name)
        self.db.create(name)
        self.step('dropped and recreated %s' % name)
        started = time.time()
        self._load_and_check(name, fmt, comp, manifest)
        self.state.save('loaded')
        self.step('loaded %s into %s in %.1f s' % (self.p['path'], name, time.time() - started))

    def _swap(self, fmt, comp, manifest, exists):
        name = self.target.dbname
        new, old = self.names[NEW], self.names[OLD]
        self.state.save('loading new', created=[new])  # recorded before it exists: only this run drops it
        self.db.create(new)
        self.result['changed'] = True
        started = time.time()
        self._load_and_check(new, fmt, comp, manifest)
        self.state.save('loaded new')
        self.step('loaded %s into %s in %.1f s and checked it' % (self.p['path'], new, time.time() - started))
        self._stop_writers()
        self.state.save('swapping')
        if exists:
            self.db.rename(name, old)
            self.result['kept_as'] = old
        self.db.rename(new, name)
        self.state.save('swapped')
        self.step('swapped: %s is the restored database%s' % (
            name, ', the old one is kept as %s (drop it once you are satisfied)' % old if exists else ''))
