# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollback: Kubernetes rollout undo to the previous or a given revision;
Compose back to a recorded image. The result names both sides."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.quickbite.ops.plugins.module_utils.errors import Changes, ConfigError


def _describe(workload):
    if workload.get('revision'):
        return 'revision %s (%s)' % (workload['revision'], workload['image'])
    return '%s (%s)' % (workload['image'], (workload.get('image_id') or '')[:19])


def run(adapter, service, to, unpin, timeout, check_mode):
    known = adapter.service_names()
    if service not in known:
        raise ConfigError('unknown service %s for rollback_service; %s has %s'
                          % (service, adapter.describe(), ', '.join(known)))
    if unpin and not adapter.pins_images:
        raise ConfigError('rollback_unpin applies to Compose only; on Kubernetes roll back to a revision')
    before = adapter.workload(service)
    history = adapter.history(service)
    result = dict(service=service, before=before, history=history)
    if unpin:
        if not before.get('pinned'):
            return dict(result, changed=False, msg='%s is not pinned by a rollback' % service)
        if check_mode:
            return dict(result, changed=True, msg='would unpin %s from %s' % (service, before['pinned']))
        adapter.unpin(service)
        with Changes() as changes:
            changes.made = True
            result['state'] = adapter.wait(service, timeout)
        after = adapter.workload(service)
        return dict(result, after=after, changed=True,
                    msg='unpinned %s: %s -> %s' % (service, _describe(before), _describe(after)))
    target = adapter.rollback_target(service, to)
    if not target['changes']:
        return dict(result, changed=False, msg='%s already runs %s' % (service, target['label']))
    if check_mode:
        return dict(result, changed=True, msg='would roll back %s from %s to %s'
                    % (service, _describe(before), target['label']))
    started = time.time()
    adapter.rollback(service, target)
    with Changes() as changes:
        changes.made = True
        result['state'] = adapter.wait(service, timeout)
    after = adapter.workload(service)
    return dict(result, after=after, changed=True, elapsed=round(time.time() - started, 3),
                msg='rolled back %s: %s -> %s' % (service, _describe(before), _describe(after)))
