# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rotation engine for every secret, after AWS Secrets Manager's four
steps: create (a pending value, persisted before anything changes), set (the
configuration, then a restart), test (by the backend itself), finish. A failed
test puts the old value back, restarts and checks health. A run killed at any
point leaves the pending state behind; the next run resumes from it: it
finishes when the configuration already holds the new value and the test
passes, and rolls back otherwise. A lock keeps two rotations of one secret
apart, and every outcome is appended to an audit log, with fingerprints only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import time

from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint
from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, VerificationError


def _fp(value):
    """The fingerprint; an emptied key (a grace period ended) says so."""
    return 'empty' if value == '' else fingerprint(value)


def _now():
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())


def append_audit(path, entry):
    """One JSON line per rotation; never a secret value. Appended through
    _safefs: the directory's owner and mode checked, the file never a symlink
    nor someone else's. Called with ``entry=None`` before anything changes,
    so an unsafe log is refused while nothing has been done yet."""
    with _safefs.SafeDir(os.path.dirname(os.path.abspath(path)), 'the directory of rotate_*_audit_log', mode=0o750) as directory:
        fd = directory.append(os.path.basename(path), 0o640)
        with os.fdopen(fd, 'a') as handle:
            if entry is not None:
                handle.write(json.dumps(entry, sort_keys=True) + '\n')


class Rotation(object):
    """``secret``: the configuration key; ``extra(old, new)``: other keys to set
    with it ({key: value}), e.g. JWT_SECRET_PREVIOUS; ``apply(adapter)``:
    restart what reads it; ``test(old, new)``: [(check, ok, evidence)]."""

    def __init__(self, adapter, secret, audit_log, operator, apply, test, extra=None,
                 set_external=None, restore_external=None):
        self.adapter, self.secret, self.audit_log, self.operator = adapter, secret, audit_log, operator
        self.apply, self.test, self.extra = apply, test, extra or (lambda old, new: {})
        # For secrets that also live outside the configuration (a database role's password).
        self.set_external, self.restore_external = set_external, restore_external
        self.store = adapter.store()
        self.steps = []

    def _step(self, text):
        self.steps.append('%s %s' % (_now(), text))

    def _audit(self, pending, outcome, detail=''):
        append_audit(self.audit_log, dict(
            time=_now(), operator=self.operator, secret=self.secret, platform=self.adapter.platform,
            target=self.adapter.describe(), old=_fp(pending['old']), new=_fp(pending['new']),
            outcome=outcome, detail=detail))

    def _result(self, pending, changed, outcome, msg, checks=None):
        checks = checks or []
        return dict(changed=changed, outcome=outcome, msg=msg, secret=self.secret,
                    old_fingerprint=_fp(pending['old']) if pending else None,
                    new_fingerprint=_fp(pending['new']) if pending else None,
                    steps=self.steps, checks=checks,
                    report_lines=[msg] + ['%s %s: %s' % ('ok  ' if c['ok'] else 'FAIL', c['check'], c['evidence'])
                                          for c in checks])

    def plan(self, new_value):
        """Check mode: what a run would do, from the same state it would read."""
        old = self.adapter.get_config(self.secret)
        pending = self.store.load(self.secret)
        if pending:
            return self._result(pending, True, 'would resume',
                                'would resume the interrupted rotation of %s (old %s, new %s)'
                                % (self.secret, _fp(pending['old']), _fp(pending['new'])))
        if old is None:
            raise ConfigError('%s is not set in %s; nothing to rotate' % (self.secret, self.adapter.describe()))
        msg = 'would rotate %s (now %s) to %s, then restart and test' % (
            self.secret, _fp(old), _fp(new_value) if new_value is not None else 'a new random value')
        return dict(changed=True, outcome='would rotate', secret=self.secret, old_fingerprint=_fp(old),
                    new_fingerprint=_fp(new_value) if new_value is not None else None, steps=[], checks=[],
                    msg=msg, report_lines=[msg])

    def run(self, new_value):
        append_audit(self.audit_log, None)  # an unsafe audit log is refused before anything changes
        with self.adapter.lock('rotate %s' % self.secret):
            pending = self.store.load(self.secret)
            if pending:
                self._step('found an interrupted rotation (phase %s); resuming' % pending['phase'])
            else:
                old = self.adapter.get_config(self.secret)
                if old is None:
                    raise ConfigError('%s is not set in %s; nothing to rotate' % (self.secret, self.adapter.describe()))
                if new_value == old:
                    return self._result(dict(old=old, new=new_value), False, 'unchanged',
                                        '%s already has that value' % self.secret)
                pending = dict(secret=self.secret, old=old, new=new_value, phase='created', started=_now(),
                               operator=self.operator)
                # Persisted before anything changes: a kill from here on is resumable.
                self.store.save(self.secret, pending)
                self._step('created pending value %s' % _fp(new_value))
            return self._set_test_finish(pending)

    def _configure(self, value, old, new):
        self.adapter.set_config(self.secret, value)
        if value == new:
            extras = self.extra(old, new)
        else:  # back to what the other keys held before the rotation
            extras = dict((key, self._saved_extra.get(key, '')) for key in self.extra(old, new))
        for key, extra_value in extras.items():
            self.adapter.set_config(key, extra_value)

    def _set_test_finish(self, pending):
        old, new = pending['old'], pending['new']
        self._saved_extra = pending.get('saved_extra')
        if self._saved_extra is None:
            self._saved_extra = dict((key, self.adapter.get_config(key) or '') for key in self.extra(old, new))
            pending['saved_extra'] = self._saved_extra
            self.store.save(self.secret, pending)
        try:
            if self.set_external:
                self.set_external(old, new)
                # Recorded, so a rollback (now or after a kill) knows to undo it.
                pending['external_set'] = True
                self.store.save(self.secret, pending)
            self._configure(new, old, new)
            pending['phase'] = 'set'
            self.store.save(self.secret, pending)
            self._step('set %s to %s in %s' % (self.secret, _fp(new), self.adapter.describe()))
            self.apply(self.adapter)
            self._step('restarted what reads %s' % self.secret)
            checks = self.test(old, new)
        except VerificationError:
            raise
        except Exception as exc:  # any failure after "set" must end in a rollback
            checks = [('apply', False, '%s' % getattr(exc, 'msg', exc))]
        failed = [c for c in checks if not c[1]]
        report = [dict(check=c[0], ok=c[1], evidence=c[2]) for c in checks]
        if not failed:
            self.store.delete(self.secret)
            self._audit(pending, 'rotated')
            self._step('finished')
            return self._result(pending, True, 'rotated', 'rotated %s: %s -> %s, verified by the backend'
                                % (self.secret, _fp(old), _fp(new)), report)
        return self._rollback(pending, report, failed)

    def _rollback(self, pending, report, failed):
        old, new = pending['old'], pending['new']
        reason = '; '.join('%s: %s' % (c[0], c[2]) for c in failed)
        if pending['phase'] == 'created' and not pending.get('external_set'):
            # Failed before anything changed: nothing to put back, nothing to restart.
            self.store.delete(self.secret)
            self._audit(pending, 'aborted', reason)
            raise VerificationError('rotation of %s stopped before changing anything: %s' % (self.secret, reason),
                                    checks=report, steps=self.steps)
        self._step('test failed (%s); putting %s back' % (reason, _fp(old)))
        try:
            if self.restore_external and pending.get('external_set'):
                self.restore_external(old, new)
            self._configure(old, old, new)
            self.apply(self.adapter)
            after = self.test(old, None)
            healthy = all(c[1] for c in after)
        except Exception as exc:  # report both failures; the state stays for a rerun
            self._audit(pending, 'rollback failed', '%s; then %s' % (reason, getattr(exc, 'msg', exc)))
            raise VerificationError('rotation of %s failed (%s) and so did the rollback: %s; the pending state is kept, '
                                    'run again to retry' % (self.secret, reason, getattr(exc, 'msg', exc)),
                                    checks=report, steps=self.steps)
        self.store.delete(self.secret)
        self._audit(pending, 'rolled back', reason)
        raise VerificationError('rotation of %s rolled back: %s. The old value (%s) is in place again and the service '
                                'is %s' % (self.secret, reason, _fp(old), 'healthy' if healthy else 'NOT healthy'),
                                checks=report, steps=self.steps, old_fingerprint=_fp(old),
                                new_fingerprint=_fp(new))
