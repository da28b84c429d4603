# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by every module: option specs and secret fingerprints."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib


def fingerprint(secret):
    """First 8 hex characters of the SHA-256: enough to tell secrets apart in
    an audit trail, useless for recovering them."""
    if secret is None:
        return None
    if not isinstance(secret, bytes):
        secret = secret.encode('utf-8')
    return hashlib.sha256(secret).hexdigest()[:8]


def platform_argument_spec():
    """Options that pick and reach the platform; documented in the
    quickbite.ops.platform doc fragment. Keep both in step."""
    return dict(
        platform=dict(type='str', required=True, choices=['compose', 'k8s']),
        project_dir=dict(type='path', default='/opt/quickbite'),
        compose_files=dict(type='list', elements='str', default=['docker-compose.prod.yml']),
        env_file=dict(type='str', default='.env.prod'),
        project_name=dict(type='str'),
        kubeconfig=dict(type='path'),
        context=dict(type='str'),
        namespace=dict(type='str', default='quickbite'),
        secret_name=dict(type='str', default='quickbite-secrets'),
        deployments=dict(type='dict', default={}),
    )


def register_secrets(module, *values):
    """Mask values read at run time (from an env file or a Secret) the same
    way no_log options are masked."""
    for value in values:
        if value:
            module.no_log_values.add(value)
