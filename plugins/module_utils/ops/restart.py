# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service Restart: one service, the whole stack, or one container/pod,
then wait until it is back. Check mode predicts with the same inputs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.quickbite.ops.plugins.module_utils.errors import Changes, ConfigError, NotFoundError, VerificationError


def _action(adapter, workload, mode):
    if adapter.rolling_restart:
        return 'rolling restart'
    if mode == 'recreate' or (mode == 'auto' and workload['config_changed']):
        return 'recreate'
    return 'restart'


def plan(adapter, services, whole_stack, pod, mode):
    """What a run would do, with the state it would start from."""
    if pod:
        if whole_stack:
            raise ConfigError('restart_pod and restart_all cannot be combined; choose one')
        return [dict(target=pod, action='delete and replace', before=None)]
    names = adapter.service_names() if whole_stack else services
    steps = []
    for name in names:
        try:
            # The adapter knows its services (listing them all costs Compose a CLI call).
            workload = adapter.workload(name)
        except NotFoundError:
            known = adapter.service_names()
            unknown = [n for n in names if n not in known]
            if not unknown:
                raise
            raise ConfigError('unknown service(s) %s for restart_services; %s has %s'
                              % (', '.join(unknown), adapter.describe(), ', '.join(known)))
        adapter.check_restart(name)  # the refusal a run would meet, in check mode too
        action = 'stack down/up' if whole_stack and adapter.restarts_whole_stack else _action(adapter, workload, mode)
        steps.append(dict(target=name, action=action, before=workload))
    return steps


def unconfirmed(adapter, confirm):
    """The refusal of a whole-stack restart whose ``confirm`` is not the
    target's name (as pg_restore's names the database); None when confirmed."""
    name = adapter.target_name()
    if confirm == name:
        return None
    return ('refusing to restart the whole stack (restart_all): it %s; set restart_confirm (module option confirm) '
            'to %s, the %s, to confirm (it is now %s), or restart single services with restart_services. '
            'Nothing was changed.' % (adapter.stack_restart_effect(), name, adapter.target_kind,
                                      repr(confirm) if confirm else 'empty'))


def run(adapter, steps, whole_stack, timeout, check_mode, verify=None, endpoints=None, confirm=None):
    """``verify()``: the health check that ends a restart (a report; DOWN fails
    the run with its evidence); ``endpoints``: {service: probe} for the waits
    (see Adapter.wait); ``confirm``: the target's name, needed by a
    whole-stack restart (check mode only warns when it is missing)."""
    started = time.time()
    refusal = unconfirmed(adapter, confirm) if whole_stack else None
    if refusal and not check_mode:
        raise ConfigError(refusal)
    if check_mode:
        result = dict(changed=True, steps=steps, elapsed=0.0,
                      msg='would ' + '; '.join('%s %s' % (s['action'], s['target']) for s in steps))
        if refusal:
            result.update(msg=result['msg'] + '; a real run is refused without the confirmation', warnings=[refusal])
        return result
    endpoints = endpoints or {}

    def wait(service, **kwargs):
        return adapter.wait(service, timeout, endpoint=endpoints.get(service), **kwargs)
    with Changes() as changes:
        if steps[0]['action'] == 'delete and replace':
            service, gone = adapter.delete_replica(steps[0]['target'])
            changes.made = True
            steps[0]['service'] = service
            steps[0]['after'] = wait(service, gone=gone)
        elif whole_stack and adapter.restarts_whole_stack:
            changes.made = True  # whatever part of it ran
            adapter.restart_stack()
            for step in steps:
                step['after'] = wait(step['target'])
        else:
            for step in steps:
                adapter.restart(step['target'], recreate=step['action'] == 'recreate')
                changes.made = True
            for step in steps:
                step['after'] = wait(step['target'])
    for step in steps:
        if step.get('before') is not None and adapter.has_rollout_history:
            step['revision'] = '%s -> %s' % (step['before']['revision'], adapter.workload(step['target'])['revision'])
    msg = 'done: ' + '; '.join('%s %s' % (s['action'], s['target'])
                               + (' (revision %s)' % s['revision'] if s.get('revision') else '') for s in steps)
    result = dict(changed=True, steps=steps, msg=msg)
    if verify is not None:
        result['health'] = report = verify()
        if report['status'] != 'UP':
            raise VerificationError('%s, but %s' % (msg, report['summary']), changed=True, steps=steps, health=report)
    result['elapsed'] = round(time.time() - started, 3)
    return result
