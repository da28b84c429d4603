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

import hmac
import json
import os
import time

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, VerificationError


def _fp(value):
    """The fingerprint; an emptied key (a grace period ended) says so."""
    return 'empty' if value == '' else fingerprint(value)


def _same(one, other):
    """Equal secrets, compared in constant time (nothing printed, only fingerprints)."""
    if one is None or other is None:
        return one is other
    return hmac.compare_digest(one.encode('utf-8'), other.encode('utf-8'))


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
                 set_external=None, restore_external=None, generate=None, validate=None, hints=None):
        self.adapter, self.secret, self.audit_log, self.operator = adapter, secret, audit_log, operator
        self.apply, self.test, self.extra = apply, test, extra or (lambda old, new: {})
        # For secrets that also live outside the configuration (a database role's password).
        self.set_external, self.restore_external = set_external, restore_external
        # generate(): a new value when none is supplied; validate(value) raises ConfigError
        # for a value the secret's consumer cannot take; hints: 'finish' and 'abandon' texts.
        self.generate, self.validate = generate, validate
        self.hints = dict(dict(finish='run again without a new value or with the same one',
                               abandon='abandon_pending', value='new_value'), **(hints or {}))
        self.store = adapter.store()
        self.steps = []
        self._touched = False
        self._after = []  # the tests after a put-back

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

    def _decide(self, new_value, pending):
        """The one decision a run and check mode share: (action, old, new) with
        action 'resume', 'unchanged' or 'rotate'. Everything a run would refuse
        is refused here, before anything changes: a supplied value that differs
        from an interrupted rotation's, a missing key, a value or a line the
        configuration cannot hold."""
        if pending:
            if new_value is not None and not _same(new_value, pending['new']):
                raise ConfigError(
                    'refusing to resume the interrupted rotation of %s in %s with another value: it was started with '
                    'a new value of fingerprint %s, the value supplied now has fingerprint %s. To finish it, %s; to '
                    'drop it (the old value %s is put back and the backend restarted, as after a failed test), run '
                    'with %s=true, then rotate again; nothing was changed'
                    % (self.secret, self.adapter.describe(), _fp(pending['new']), _fp(new_value),
                       self.hints['finish'], _fp(pending['old']), self.hints['abandon']))
            return 'resume', pending['old'], pending['new']
        old = self.adapter.get_config(self.secret)
        if old is None:
            raise ConfigError('%s is not set in %s; nothing to rotate' % (self.secret, self.adapter.describe()))
        if new_value is not None and _same(new_value, old):
            return 'unchanged', old, new_value
        candidate = new_value if new_value is not None else self.generate() if self.generate else None
        if candidate is None:
            raise ConfigError('no new value for %s was supplied and none can be generated here; supply %s'
                              % (self.secret, self.hints['value']))
        try:
            self.adapter.check_config(self.secret, candidate)
            if self.validate:
                self.validate(candidate)
        except ConfigError as exc:
            raise ConfigError('%s (the new value: %s)' % (exc.msg, self.hints['value']))
        for key, value in sorted(self.extra(old, candidate).items()):
            self.adapter.check_config(key, value)
        return 'rotate', old, candidate

    def plan(self, new_value):
        """Check mode: the run's decision (_decide) from the same state, nothing changed."""
        pending = self.store.load(self.secret)
        action, old, new = self._decide(new_value, pending)
        if action == 'resume':
            return self._result(pending, True, 'would resume',
                                'would resume the interrupted rotation of %s (old %s, new %s)'
                                % (self.secret, _fp(old), _fp(new)))
        if action == 'unchanged':
            return self._result(dict(old=old, new=new), False, 'unchanged', '%s already has that value' % self.secret)
        shown = _fp(new) if new_value is not None else 'a new random value'
        msg = 'would rotate %s (now %s) to %s, then restart and test' % (self.secret, _fp(old), shown)
        return dict(changed=True, outcome='would rotate', secret=self.secret, old_fingerprint=_fp(old),
                    new_fingerprint=_fp(new_value) if new_value is not None else None, steps=[], checks=[],
                    msg=msg, report_lines=[msg])

    def plan_abandon(self):
        pending = self.store.load(self.secret)
        if not pending:
            return self._nothing_to_abandon()
        return self._result(pending, True, 'would abandon', 'would abandon the interrupted rotation of %s (new %s) '
                            'and put the old value (%s) back' % (self.secret, _fp(pending['new']), _fp(pending['old'])))

    def run(self, new_value):
        append_audit(self.audit_log, None)  # an unsafe audit log is refused before anything changes
        with self.adapter.lock('rotate %s' % self.secret):
            pending = self.store.load(self.secret)
            action, old, new = self._decide(new_value, pending)
            if action == 'unchanged':
                return self._result(dict(old=old, new=new), False, 'unchanged', '%s already has that value' % self.secret)
            if action == 'resume':
                self._step('found an interrupted rotation (phase %s); resuming' % pending['phase'])
            else:
                pending = dict(secret=self.secret, old=old, new=new, phase='created', started=_now(),
                               operator=self.operator,
                               saved=self.adapter.config_snapshot([self.secret] + sorted(self.extra(old, new))))
                # Persisted before anything changes: a kill from here on is resumable.
                self.store.save(self.secret, pending)
                self._step('created pending value %s' % _fp(new))
            return self._set_test_finish(pending)

    def abandon(self):
        """Drop an interrupted rotation: put the old value back (bytes as they
        were), restart and test, as after a failed test."""
        append_audit(self.audit_log, None)
        with self.adapter.lock('rotate %s' % self.secret):
            pending = self.store.load(self.secret)
            if not pending:
                return self._nothing_to_abandon()
            self._saved_extra = pending.get('saved_extra') or {}
            self._step('abandoning the interrupted rotation (phase %s) on request' % pending['phase'])
            healthy = self._put_back(pending, 'abandoned on request', 'abandoned')
            old = _fp(pending['old'])
            msg = ('abandoned the interrupted rotation of %s (new %s): nothing had changed yet' % (
                self.secret, _fp(pending['new'])) if healthy is None else
                'abandoned the interrupted rotation of %s (new %s): the old value (%s) is in place again and the '
                'service is %s' % (self.secret, _fp(pending['new']), old, 'healthy' if healthy else 'NOT healthy'))
            return self._result(pending, True, 'abandoned', msg, self._after)

    def _nothing_to_abandon(self):
        return self._result(None, False, 'unchanged', 'no interrupted rotation of %s in %s: nothing to abandon'
                            % (self.secret, self.adapter.describe()))

    def _configure(self, value, old, new):
        self._touched = True
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
                self._touched = True
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
        except VerificationError as exc:
            exc.details['changed'] = self._changed(pending)
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

    def _changed(self, pending):
        """Whether this run (or the interrupted one it resumes) changed the target."""
        return bool(self._touched or pending.get('external_set') or pending['phase'] != 'created')

    def _rollback(self, pending, report, failed):
        old, new = pending['old'], pending['new']
        reason = '; '.join('%s: %s' % (c[0], c[2]) for c in failed)
        self._step('test failed (%s)' % reason)
        try:
            healthy = self._put_back(pending, reason, 'rolled back')
        except VerificationError as exc:
            exc.details.update(checks=report)
            raise
        if healthy is None:
            raise VerificationError('rotation of %s stopped before changing anything: %s' % (self.secret, reason),
                                    checks=report, steps=self.steps, changed=False)
        raise VerificationError('rotation of %s rolled back: %s. The old value (%s) is in place again and the service '
                                'is %s' % (self.secret, reason, _fp(old), 'healthy' if healthy else 'NOT healthy'),
                                checks=report, steps=self.steps, old_fingerprint=_fp(old),
                                new_fingerprint=_fp(new), changed=True)

    def _put_back(self, pending, reason, outcome):
        """Undo ``pending``: None when nothing had changed, else whether the
        service is healthy with the old value, read back to be sure it is the
        one in force. Raises VerificationError (changed) when that fails; the
        pending state is then kept for a rerun."""
        old, new = pending['old'], pending['new']
        if not self._changed(pending):
            # Failed before anything changed: nothing to put back, nothing to restart.
            self.store.delete(self.secret)
            self._audit(pending, 'aborted', reason)
            return None
        self._step('putting %s back' % _fp(old))
        try:
            if self.restore_external and pending.get('external_set'):
                self.restore_external(old, new)
            if pending.get('saved') is not None:
                self.adapter.restore_config(pending['saved'])  # the bytes as they were
            else:  # a pending state written before snapshots were kept
                self._configure(old, old, new)
            now = self.adapter.get_config(self.secret)
            if not _same(now, old):
                raise ConfigError('%s reads %s after being put back, not the old value %s (was it edited meanwhile?); '
                                  'check %s by hand' % (self.secret, _fp(now), _fp(old), self.adapter.describe()))
            self.apply(self.adapter)
            after = self.test(old, None)
            self._after = [dict(check=c[0], ok=c[1], evidence=c[2]) for c in after]
        except Exception as exc:  # report both failures; the state stays for a rerun
            self._audit(pending, 'rollback failed', '%s; then %s' % (reason, getattr(exc, 'msg', exc)))
            raise VerificationError('rotation of %s failed (%s) and so did the rollback: %s; the pending state is kept, '
                                    'run again to retry' % (self.secret, reason, getattr(exc, 'msg', exc)),
                                    steps=self.steps, changed=True)
        self.store.delete(self.secret)
        self._audit(pending, outcome, reason)
        return all(c[1] for c in after)
