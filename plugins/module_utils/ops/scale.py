# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Horizontal scaling: Compose ``--scale``, Kubernetes scale subresource;
waits until the wanted number of replicas is ready."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.quickbite.ops.plugins.module_utils import manifest, quantity
from ansible_collections.quickbite.ops.plugins.module_utils.errors import Changes, ConfigError

MAX_REPLICAS = 50


STATEFUL_SERVICES = ('postgres', 'redis')


class Guards(object):
    """What the inventory says about services that must not be scaled freely:
    ``stateful`` (with ``db_service``) keep their data in one volume, and
    only those in ``replicated`` run real replication; ``confirm`` is the
    service name that confirms scaling to 0."""

    def __init__(self, stateful=STATEFUL_SERVICES, db_service='postgres', replicated=(), confirm=''):
        self.stateful = set(stateful or ()) | set([db_service] if db_service else [])
        self.replicated = set(replicated or ())
        self.confirm = confirm

    def refusal(self, service, before, replicas):
        """(refusal, needs_confirmation) for scaling ``service`` from ``before``
        to ``replicas``; a refusal that no confirmation lifts comes first."""
        if replicas > 1 and service in self.stateful and service not in self.replicated:
            return ('refusing to scale %s to %d replicas: %s is a stateful service (quickbite_stateful_services, '
                    'quickbite_db_service) and quickbite_replicated_services does not list it, so every replica '
                    'would use the same data volume (two PostgreSQL or Redis servers on one data directory corrupt '
                    'it); scale it to 1, or list it in quickbite_replicated_services only when it runs real '
                    'replication. Nothing was changed.' % (service, replicas, service)), False
        if replicas == 0 and self.confirm != service:
            return ('refusing to scale %s from %s to 0 replicas: that stops every %s replica and what depends on '
                    'it; set scale_confirm (module option confirm) to %s, the service\'s name, to confirm (it is '
                    'now %s). Nothing was changed.' % (service, before, service, service,
                                                       repr(self.confirm) if self.confirm else 'empty')), True
        return None, False


def run(adapter, service, replicas, timeout, check_mode, guards=None):
    if replicas < 0 or replicas > MAX_REPLICAS:
        raise ConfigError('scale_replicas must be between 0 and %d, got %d' % (MAX_REPLICAS, replicas))
    known = adapter.service_names()
    if service not in known:
        raise ConfigError('unknown service %s for scale_service; %s has %s'
                          % (service, adapter.describe(), ', '.join(known)))
    before = adapter.workload(service)
    result = dict(service=service, before=before['replicas'], replicas=replicas,
                  revision=before.get('revision'))
    if before['replicas'] == replicas and before['ready'] == replicas:
        return dict(result, changed=False, msg='%s already runs %d ready replica(s)' % (service, replicas))
    refusal, confirmable = (guards or Guards()).refusal(service, before['replicas'], replicas)
    if refusal and not (check_mode and confirmable):
        raise ConfigError(refusal)
    if check_mode:
        result = dict(result, changed=True, msg='would scale %s from %s to %d' % (service, before['replicas'], replicas))
        if refusal:
            result.update(msg=result['msg'] + '; a real run is refused without the confirmation', warnings=[refusal])
        return result
    started = time.time()
    adapter.scale(service, replicas)
    with Changes() as changes:
        changes.made = True
        result['state'] = adapter.wait(service, timeout, replicas=replicas)
    result['elapsed'] = round(time.time() - started, 3)
    return dict(result, changed=True, msg='scaled %s from %s to %d replica(s), all ready in %.1f s'
                % (service, before['replicas'], replicas, result['elapsed']))


def run_vertical(adapter, service, container, resources, manifest_path, timeout, check_mode):
    """Requests/limits of one container on the Deployment, and the same values
    in the repository manifest when a path is given. Validated first."""
    quantity.validate_resources(resources, 'scale_resources')
    known = adapter.service_names()
    if service not in known:
        raise ConfigError('unknown service %s for scale_service; %s has %s'
                          % (service, adapter.describe(), ', '.join(known)))
    name, current = adapter.container_resources(service, container)
    cluster_changes = not quantity.same(current, resources)
    result = dict(service=service, container=name, before=current, resources=resources,
                  diff=dict(before=dict(resources=current), after=dict(resources=resources)))
    manifest_changes = False
    if manifest_path:
        manifest_changes = manifest.set_container_resources(
            manifest_path, adapter.deployment_name(service), name, resources, check_mode=True)[0]
    if not cluster_changes and not manifest_changes:
        return dict(result, changed=False, msg='%s/%s already has these resources' % (service, name))
    verb = 'would set' if check_mode else 'set'
    parts = []
    if cluster_changes:
        parts.append('on the deployment')
    if manifest_changes:
        parts.append('in %s' % manifest_path)
    if check_mode:
        return dict(result, changed=True, msg='%s resources of %s/%s %s' % (verb, service, name, ' and '.join(parts)))
    started = time.time()
    with Changes() as changes:
        if cluster_changes:
            adapter.set_resources(service, name, resources)
            changes.made = True
            result['state'] = adapter.wait(service, timeout)
        if manifest_changes:
            manifest.set_container_resources(manifest_path, adapter.deployment_name(service), name, resources)
    result['elapsed'] = round(time.time() - started, 3)
    return dict(result, changed=True, msg='%s resources of %s/%s %s' % (verb, service, name, ' and '.join(parts)))
