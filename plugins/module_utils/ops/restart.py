# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service Restart: one service, the whole stack, or one container/pod,
then wait until it is back. Check mode predicts with the same inputs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError


def _action(adapter, workload, mode):
    if adapter.platform == 'k8s':
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
    known = adapter.service_names()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError('unknown service(s) %s for restart_services; %s has %s'
                          % (', '.join(unknown), adapter.describe(), ', '.join(known)))
    steps = []
    for name in names:
        workload = adapter.workload(name)
        action = 'stack down/up' if whole_stack and adapter.platform == 'compose' else _action(adapter, workload, mode)
        steps.append(dict(target=name, action=action, before=workload))
    return steps


def run(adapter, steps, whole_stack, timeout, check_mode):
    started = time.time()
    if check_mode:
        return dict(changed=True, steps=steps, elapsed=0.0,
                    msg='would ' + '; '.join('%s %s' % (s['action'], s['target']) for s in steps))
    if steps[0]['action'] == 'delete and replace':
        service, gone = adapter.delete_replica(steps[0]['target'])
        steps[0]['service'] = service
        steps[0]['after'] = adapter.wait(service, timeout, gone=gone)
    elif whole_stack and adapter.platform == 'compose':
        adapter.restart_stack()
        for step in steps:
            step['after'] = adapter.wait(step['target'], timeout)
    else:
        for step in steps:
            adapter.restart(step['target'], recreate=step['action'] == 'recreate')
        for step in steps:
            step['after'] = adapter.wait(step['target'], timeout)
    for step in steps:
        if step.get('before') is not None and adapter.platform == 'k8s':
            step['revision'] = '%s -> %s' % (step['before']['revision'], adapter.workload(step['target'])['revision'])
    msg = '; '.join('%s %s' % (s['action'], s['target']) + (' (revision %s)' % s['revision'] if s.get('revision') else '')
                    for s in steps)
    return dict(changed=True, steps=steps, elapsed=round(time.time() - started, 3), msg='done: ' + msg)
