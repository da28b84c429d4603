# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the rotation modules share besides the engine: their options, the
restart that makes the backend read its new environment, and its health
check afterwards."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils import options
from ansible_collections.quickbite.ops.plugins.module_utils.health import backend

# The backend's health after a rotation: health.backend, shared with db/.
health_checks = backend.health_checks


def recreate(services, timeout, backend_url=None, validate_certs=True):
    """apply(adapter) for a secret's spec: Compose recreates each service
    (``up -d --no-deps``: a restart would keep the old environment);
    Kubernetes rolls its Deployment. With ``backend_url`` the wait takes the
    actuator's UP as the backend's readiness (Adapter.wait)."""
    endpoints = backend.endpoint_probes(backend_url, validate_certs)

    def apply(adapter):
        for name in services:
            adapter.restart(name, recreate=True)
            adapter.wait(name, timeout, endpoint=endpoints.get(name))
    return apply


def rotation_argument_spec():
    """The rotation options; doc fragment quickbite.ops.rotation."""
    return dict(
        audit_log=dict(type='path', default='/var/log/quickbite-ops/rotation.log'),
        operator=dict(type='str', default='unknown'),
        abandon_pending=dict(type='bool', default=False),
        allow_ephemeral=dict(type='bool', default=False),
    )


def module_argument_spec(*groups, **own):
    """A rotation module's argument_spec: the platform, backend, wait and
    rotation option groups, the module's other ``groups`` and its ``own``
    options (the fragments its DOCUMENTATION extends, in the same order)."""
    return options.argument_spec(options.platform_argument_spec(), options.backend_argument_spec(),
                                 options.wait_argument_spec(), rotation_argument_spec(), *groups, **own)


def refuse_together(module, option, does, variables):
    """fail_json when ``option`` is set with another option of ``variables``
    ({option: the role variable that sets it}, the first set one is named).
    Not mutually_exclusive: the role passes every option, false and empty
    included."""
    p = module.params
    others = [other for other in variables if other != option and p[other]]
    if p[option] and others:
        module.fail_json(msg='%s %s: it cannot be combined with %s (%s with %s)' % (
            option, does, others[0], variables[option], variables[others[0]]))
