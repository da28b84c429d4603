# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Steps the three rotations share: restart the backend so it reads its new
environment, and check its health afterwards."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.health import backend

# The backend's health after a rotation: health.backend, shared with db/.
health_checks = backend.health_checks


def restart_backend(timeout, backend_url=None, validate_certs=True):
    """Compose recreates (``up -d --no-deps``: a restart would keep the old
    environment); Kubernetes rolls the Deployment. With ``backend_url`` the
    wait takes the actuator's UP as the backend's readiness (Adapter.wait)."""
    endpoint = backend.endpoint_probes(backend_url, validate_certs).get('backend')

    def apply(adapter):
        adapter.restart('backend', recreate=True)
        adapter.wait('backend', timeout, endpoint=endpoint)
    return apply


def execute(module, adapter, key, new_value, test, extra=None, apply=None, abandon=False, **hooks):
    """The part every rotation module shares: mask every value it will see,
    then plan (check mode) or run the rotation, or with ``abandon`` drop an
    interrupted one. ``new_value`` None: hooks['generate']() makes one."""
    from ansible_collections.quickbite.ops.plugins.module_utils.common import register_secrets
    from ansible_collections.quickbite.ops.plugins.module_utils.rotation.engine import Rotation
    p = module.params
    register_secrets(module, adapter.get_config(key), new_value)
    pending = adapter.store().load(key)
    if pending:
        register_secrets(module, pending.get('old'), pending.get('new'), *(pending.get('saved_extra') or {}).values())
    rotation = Rotation(adapter, key, p['audit_log'], p['operator'],
                        apply=apply or restart_backend(p['wait_timeout'], p['backend_url'], p['validate_certs']),
                        test=test, extra=extra, **hooks)
    if abandon:
        return rotation.plan_abandon() if module.check_mode else rotation.abandon()
    if module.check_mode:
        return rotation.plan(new_value)
    return rotation.run(new_value)


def abandon_hints(role, value_var, value_required=False):
    """The 'finish' and 'abandon' texts of a refused resume, in the role's variables."""
    finish = ('run again with that same value (%s)' % value_var if value_required else
              'run again without %s, or with the same value' % value_var)
    return dict(finish=finish, abandon='%s_abandon_pending' % role, value=value_var)


def rotation_argument_spec():
    """Options every rotation module has (documented in each module)."""
    return dict(
        backend_url=dict(type='str', default='http://127.0.0.1:8080'),
        audit_log=dict(type='path', default='/var/log/quickbite-ops/rotation.log'),
        operator=dict(type='str', default='unknown'),
        wait_timeout=dict(type='int', default=300),
        validate_certs=dict(type='bool', default=True),
        abandon_pending=dict(type='bool', default=False),
    )
