# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rotation engine for every secret (specs.SecretSpec), after AWS
Secrets Manager's four steps: create (a pending value, persisted before
anything changes), set (the configuration, then a restart), test (by the
backend itself), finish. A failed test puts the old value back, restarts and
checks health. A run killed at any point leaves the pending state behind; the
next run resumes from it: it finishes when the configuration already holds
the new value and the test passes, and rolls back otherwise. A lock keeps
two rotations of one target apart, and every outcome is appended to an audit
log, with fingerprints only. Check mode and a run take one decision
(Rotation.decide), so check mode names the very steps a run takes.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import hmac
import json
import os
import time

from ansible_collections.quickbite.ops.plugins.module_utils import _artefacts, _safefs, common
from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint, register_secrets
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, VerificationError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.factory import get_adapter


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


def run_module(module, build, new_value=None):
    """The whole of a rotation module after its options are parsed:
    ``build(module, adapter)`` declares the secret (a specs builder), then
    rotate(); common.run_module turns typed errors into fail_json."""
    def work(module):
        adapter = get_adapter(module)
        return rotate(module, adapter, build(module, adapter), new_value, module.params['abandon_pending'])
    common.run_module(module, work)


def rotate(module, adapter, spec, new_value=None, abandon=False):
    """Mask every value the rotation will see, then plan (check mode) or run
    it, or with ``abandon`` drop an interrupted one."""
    keys = [spec.key] + ([spec.previous_key] if spec.previous_key else [])
    register_secrets(module, new_value, *([adapter.get_config(key) for key in keys] + list(spec.masked)))
    pending = adapter.store().load(spec.key)
    if pending:
        register_secrets(module, pending.get('old'), pending.get('new'), *(pending.get('saved_extra') or {}).values())
    _artefacts.refuse_ephemeral(module.params['audit_log'], 'the rotation audit log', 'rotate_*_audit_log',
                                'rotate_*_audit_allow_ephemeral', module.params.get('allow_ephemeral'))
    rotation = Rotation(adapter, spec, module.params['audit_log'], module.params['operator'])
    result = (rotation.plan if module.check_mode else rotation.run)(new_value, abandon)
    if result['outcome'] == 'rotated' and spec.done:
        result['msg'] = result['report_lines'][0] = spec.done(result)
    return result


class Rotation(object):
    """One rotation of ``spec`` (specs.SecretSpec) on ``adapter``. ``steps``:
    what was done, with times; ``actions``: the names of those steps, which
    check mode predicts (decide)."""

    def __init__(self, adapter, spec, audit_log, operator):
        self.adapter, self.spec, self.audit_log, self.operator = adapter, spec, audit_log, operator
        self.secret, self.hints = spec.key, spec.hints
        self.store = adapter.store()
        self.steps, self.actions = [], []
        self._touched = False
        self._after = []  # the tests after a put-back
        self._previous = None  # what spec.previous_key held before this run
        self._saved_extra = {}

    def extra(self, old, new):
        """The grace period: {previous_key: value} to set with the secret. Only
        the keys that must change: a configuration without the previous key
        keeps not having it."""
        if not self.spec.previous_key:
            return {}
        if self.spec.keep_previous:
            return {self.spec.previous_key: old}
        return {self.spec.previous_key: ''} if self._previous else {}

    def _step(self, action, text):
        self.actions.append(action)
        self.steps.append('%s %s' % (_now(), text))

    def _audit(self, pending, outcome, detail=''):
        append_audit(self.audit_log, dict(
            time=_now(), operator=self.operator, secret=self.secret, platform=self.adapter.platform,
            target=self.adapter.describe(), old=_fp(pending['old']), new=_fp(pending['new']),
            outcome=outcome, detail=detail))

    def _result(self, pending, changed, outcome, msg, checks=None, actions=None):
        checks = checks or []
        return dict(changed=changed, outcome=outcome, msg=msg, secret=self.secret,
                    old_fingerprint=_fp(pending['old']) if pending else None,
                    new_fingerprint=_fp(pending['new']) if pending else None,
                    steps=self.steps, actions=self.actions if actions is None else actions, checks=checks,
                    report_lines=[msg] + ['%s %s: %s' % ('ok  ' if c['ok'] else 'FAIL', c['check'], c['evidence'])
                                          for c in checks])

    # ------------------------------------------------------------ the decision

    def decide(self, new_value, abandon=False):
        """The one decision a run and check mode share: {action, pending, old,
        new, actions}; ``action`` is rotate, resume, abandon, unchanged,
        idle (the spec says there is nothing to do) or nothing (no pending
        rotation to abandon); ``actions`` are the steps a run takes when the
        tests pass. Everything a run would refuse is refused here, before
        anything changes. A run takes it in the same two parts: _gate before
        the lock, _decide under it."""
        return self._gate(abandon) or self._decide(new_value, abandon)

    def _gate(self, abandon):
        """What needs no lock: nothing to do (spec.idle), or a pending rotation
        of a key this one must wait for (spec.blocked_by)."""
        spec = self.spec
        if not abandon and spec.idle and not self.store.load(self.secret):
            msg = spec.idle(self.adapter.get_config(self.secret))
            if msg:
                return dict(action='idle', pending=None, msg=msg, actions=[])
        for key, refusal in sorted(spec.blocked_by.items()):
            if self.store.load(key):
                raise ConfigError(refusal.format(target=self.adapter.describe()))
        return None

    def _decide(self, new_value, abandon):
        """The rest, under the lock in a run: an interrupted rotation resumed
        (refused with another value) or abandoned, the same value unchanged,
        a missing key, a value or a line the configuration cannot hold."""
        spec = self.spec
        pending = self.store.load(self.secret)
        if spec.previous_key:
            self._previous = self.adapter.get_config(spec.previous_key)
        if abandon:
            if not pending:
                return dict(action='nothing', pending=None, actions=[])
            return dict(action='abandon', pending=pending, old=pending['old'], new=pending['new'],
                        actions=['abandon'] + self._put_back_actions(pending))
        if spec.value is not None:
            new_value = spec.value
        if pending:
            if new_value is not None and not _same(new_value, pending['new']):
                raise ConfigError(
                    'refusing to resume the interrupted rotation of %s in %s with another value: it was started with '
                    'a new value of fingerprint %s, the value supplied now has fingerprint %s. To finish it, %s; to '
                    'drop it (the old value %s is put back and the backend restarted, as after a failed test), run '
                    'with %s=true, then rotate again; nothing was changed'
                    % (self.secret, self.adapter.describe(), _fp(pending['new']), _fp(new_value),
                       self.hints['finish'], _fp(pending['old']), self.hints['abandon']))
            return dict(action='resume', pending=pending, old=pending['old'], new=pending['new'],
                        actions=['resume'] + self._apply_actions())
        old = self.adapter.get_config(self.secret)
        if old is None:
            raise ConfigError('%s is not set in %s; nothing to rotate' % (self.secret, self.adapter.describe()))
        if new_value is not None and _same(new_value, old):
            return dict(action='unchanged', pending=None, old=old, new=new_value, actions=[])
        candidate = new_value if new_value is not None else spec.generate() if spec.generate else None
        if candidate is None:
            raise ConfigError('no new value for %s was supplied and none can be generated here; supply %s'
                              % (self.secret, self.hints['value']))
        try:
            self.adapter.check_config(self.secret, candidate)
            if spec.validate:
                spec.validate(candidate)
        except ConfigError as exc:
            raise ConfigError('%s (the new value: %s)' % (exc.msg, self.hints['value']))
        for key, value in sorted(self.extra(old, candidate).items()):
            self.adapter.check_config(key, value)
        return dict(action='rotate', pending=None, old=old, new=candidate, supplied=new_value is not None,
                    actions=['create'] + self._apply_actions())

    def _apply_actions(self):
        return (['set external'] if self.spec.set_external else []) + ['set', 'restart', 'test', 'finish']

    def _put_back_actions(self, pending):
        if not self._changed(pending):
            return ['drop']
        external = self.spec.restore_external and pending.get('external_set')
        return ['put back'] + (['restore external'] if external else []) + ['restart', 'test']

    def _quiet(self, decision):
        """The result of a decision that changes nothing, the same in check mode and in a run."""
        if decision['action'] == 'idle':
            return self._result(None, False, 'unchanged', decision['msg'])
        if decision['action'] == 'nothing':
            return self._result(None, False, 'unchanged', 'no interrupted rotation of %s in %s: nothing to abandon'
                                % (self.secret, self.adapter.describe()))
        if decision['action'] == 'unchanged':
            return self._result(decision, False, 'unchanged', '%s already has that value' % self.secret)
        return None

    def plan(self, new_value, abandon=False):
        """Check mode: the run's decision from the same state, nothing changed."""
        decision = self.decide(new_value, abandon)
        action, old, new = decision['action'], decision.get('old'), decision.get('new')
        quiet = self._quiet(decision)
        if quiet:
            return quiet
        if action == 'abandon':
            return self._result(decision, True, 'would abandon', 'would abandon the interrupted rotation of %s (new %s) '
                                'and put the old value (%s) back' % (self.secret, _fp(new), _fp(old)),
                                actions=decision['actions'])
        if action == 'resume':
            return self._result(decision, True, 'would resume', 'would resume the interrupted rotation of %s (old %s, '
                                'new %s)' % (self.secret, _fp(old), _fp(new)), actions=decision['actions'])
        shown = _fp(new) if decision['supplied'] else 'a new random value'
        msg = 'would rotate %s (now %s) to %s, then restart and test' % (self.secret, _fp(old), shown)
        result = self._result(dict(old=old, new=new), True, 'would rotate', msg, actions=decision['actions'])
        result['new_fingerprint'] = _fp(new) if decision['supplied'] else None  # a generated value is not kept
        return result

    # ------------------------------------------------------------ the run

    def run(self, new_value, abandon=False):
        gate = self._gate(abandon)
        if gate:
            return self._quiet(gate)
        with self.adapter.lock(self.spec.lock) if self.spec.lock else contextlib.nullcontext():
            append_audit(self.audit_log, None)  # an unsafe audit log is refused before anything changes
            with self.adapter.lock('rotate %s' % self.secret):
                return self._run(self._decide(new_value, abandon))

    def _run(self, decision):
        quiet = self._quiet(decision)
        if quiet:
            return quiet
        pending = decision['pending']
        if decision['action'] == 'abandon':
            return self._abandon(pending)
        if decision['action'] == 'resume':
            self._step('resume', 'found an interrupted rotation (phase %s); resuming' % pending['phase'])
        else:
            old, new = decision['old'], decision['new']
            pending = dict(secret=self.secret, old=old, new=new, phase='created', started=_now(),
                           operator=self.operator,
                           saved=self.adapter.config_snapshot([self.secret] + sorted(self.extra(old, new))))
            # Persisted before anything changes: a kill from here on is resumable.
            self.store.save(self.secret, pending)
            self._step('create', 'created pending value %s' % _fp(new))
        return self._set_test_finish(pending)

    def _abandon(self, pending):
        """Drop an interrupted rotation: put the old value back (bytes as they
        were), restart and test, as after a failed test."""
        self._saved_extra = pending.get('saved_extra') or {}
        self._step('abandon', 'abandoning the interrupted rotation (phase %s) on request' % pending['phase'])
        healthy = self._put_back(pending, 'abandoned on request', 'abandoned')
        old = _fp(pending['old'])
        msg = ('abandoned the interrupted rotation of %s (new %s): nothing had changed yet' % (
            self.secret, _fp(pending['new'])) if healthy is None else
            'abandoned the interrupted rotation of %s (new %s): the old value (%s) is in place again and the '
            'service is %s' % (self.secret, _fp(pending['new']), old, 'healthy' if healthy else 'NOT healthy'))
        return self._result(pending, True, 'abandoned', msg, self._after)

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
            if self.spec.set_external:
                self.spec.set_external(old, new)
                self._touched = True
                # Recorded, so a rollback (now or after a kill) knows to undo it.
                pending['external_set'] = True
                self.store.save(self.secret, pending)
                self.actions.append('set external')
            self._configure(new, old, new)
            pending['phase'] = 'set'
            self.store.save(self.secret, pending)
            self._step('set', 'set %s to %s in %s' % (self.secret, _fp(new), self.adapter.describe()))
            self.spec.apply(self.adapter)
            self._step('restart', 'restarted what reads %s' % self.secret)
            checks = self.spec.test(old, new)
            self.actions.append('test')
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
            self._step('finish', 'finished')
            return self._result(pending, True, 'rotated', 'rotated %s: %s -> %s, verified by the backend'
                                % (self.secret, _fp(old), _fp(new)), report)
        return self._rollback(pending, report, failed)

    def _changed(self, pending):
        """Whether this run (or the interrupted one it resumes) changed the target."""
        return bool(self._touched or pending.get('external_set') or pending['phase'] != 'created')

    def _rollback(self, pending, report, failed):
        old, new = pending['old'], pending['new']
        reason = '; '.join('%s: %s' % (c[0], c[2]) for c in failed)
        self._step('rollback', 'test failed (%s)' % reason)
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
            self.actions.append('drop')
            return None
        self._step('put back', 'putting %s back' % _fp(old))
        try:
            if self.spec.restore_external and pending.get('external_set'):
                self.spec.restore_external(old, new)
                self.actions.append('restore external')
            if pending.get('saved') is not None:
                self.adapter.restore_config(pending['saved'])  # the bytes as they were
            else:  # a pending state written before snapshots were kept
                self._configure(old, old, new)
            now = self.adapter.get_config(self.secret)
            if not _same(now, old):
                raise ConfigError('%s reads %s after being put back, not the old value %s (was it edited meanwhile?); '
                                  'check %s by hand' % (self.secret, _fp(now), _fp(old), self.adapter.describe()))
            self.spec.apply(self.adapter)
            self.actions.append('restart')
            after = self.spec.test(old, None)
            self.actions.append('test')
            self._after = [dict(check=c[0], ok=c[1], evidence=c[2]) for c in after]
        except Exception as exc:  # report both failures; the state stays for a rerun
            self._audit(pending, 'rollback failed', '%s; then %s' % (reason, getattr(exc, 'msg', exc)))
            raise VerificationError('rotation of %s failed (%s) and so did the rollback: %s; the pending state is kept, '
                                    'run again to retry' % (self.secret, reason, getattr(exc, 'msg', exc)),
                                    steps=self.steps, changed=True)
        self.store.delete(self.secret)
        self._audit(pending, outcome, reason)
        return all(c[1] for c in after)
