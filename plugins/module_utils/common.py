# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by every module: secret fingerprints and masking, and the
end of main() (the target's adapter and lock, typed errors turned into
fail_json, warnings, exit_json). Option groups are in options.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.platform import factory
from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import target_lock


def fingerprint(secret):
    """First 8 hex characters of the SHA-256: enough to tell secrets apart in
    an audit trail, useless for recovering them."""
    if secret is None:
        return None
    if not isinstance(secret, bytes):
        secret = secret.encode('utf-8')
    return hashlib.sha256(secret).hexdigest()[:8]


def register_secrets(module, *values):
    """Mask values read at run time (from an env file or a Secret) the same
    way no_log options are masked."""
    for value in values:
        if value:
            module.no_log_values.add(value)


def run_module(module, work):
    """The end every module's main() shares. ``work(module)`` returns the
    result; a QuickbiteError it raises fails the task with its message and
    details (the evidence). The result's ``warnings`` are shown as Ansible
    warnings; a result with ``failed`` set fails the task with the rest of it."""
    try:
        result = work(module)
    except QuickbiteError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    for warning in result.pop('warnings', None) or []:
        module.warn(warning)
    if result.pop('failed', False):
        module.fail_json(**result)
    module.exit_json(**result)


def run_on_target(module, procedure, work):
    """run_module for a procedure that changes the target: ``work(module,
    adapter)`` gets the adapter of the module's platform options and runs
    holding the target's lock (none in check mode, which changes nothing);
    ``procedure`` names it for a run the lock refuses."""
    def locked(module):
        adapter = factory.get_adapter(module)
        with target_lock(adapter, procedure, module.check_mode):
            return work(module, adapter)
    run_module(module, locked)
