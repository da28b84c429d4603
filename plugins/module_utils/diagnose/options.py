# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnose module's own options and the settings every check reads
(the health check's options, which say how to reach the backend, frontend,
database and Redis, come from health.options)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils import _mask, options
from ansible_collections.quickbite.ops.plugins.module_utils.common import register_secrets
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import catalog
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.health.options import health_argument_spec, health_settings

registry = catalog.registry


def diagnose_argument_spec():
    return options.argument_spec(
        options.platform_argument_spec(), health_argument_spec(),
        select=dict(type='list', elements='str', default=[]),
        thresholds=dict(type='dict', default={}),
        check_timeouts=dict(type='dict', default={}),
        backend_service=dict(type='str', default='backend'),
        frontend_service=dict(type='str', default='frontend'),
        webhook_path=dict(type='str', default='/api/payments/webhook'),
        webhook_dashboard_secret=dict(type='str', no_log=True),
        fail=dict(type='bool', default=True),
    )


class DiagnoseSettings(object):
    """What the checks read. ``health``: health.service.HealthSettings (URLs,
    database and Redis, timeouts); ``masker``: the configuration's secrets;
    ``threshold(name)``: a registered threshold, as given or its default."""

    def __init__(self, **kwargs):
        self.checks = kwargs.get('checks') or registry.names()
        self.limits = kwargs.get('limits') or {}
        self.thresholds = dict(registry.default_thresholds(), **(kwargs.get('thresholds') or {}))
        self.health = kwargs['health']
        self.masker = kwargs.get('masker') or _mask.Masker()
        self.backend_service = kwargs.get('backend_service', 'backend')
        self.frontend_service = kwargs.get('frontend_service', 'frontend')
        self.db_service = kwargs.get('db_service', 'postgres')
        self.webhook_path = kwargs.get('webhook_path', '/api/payments/webhook')
        self.webhook_dashboard_secret = kwargs.get('webhook_dashboard_secret')

    def threshold(self, name):
        return self.thresholds[name]


def _numbers(given, known, option, what):
    found = {}
    for name, value in (given or {}).items():
        if name not in known:
            raise ConfigError('%s names an unknown %s %s; known: %s' % (option, what, name, ', '.join(sorted(known))))
        try:
            found[name] = float(value)
        except (TypeError, ValueError):
            found[name] = -1
        if found[name] <= 0:
            raise ConfigError('%s.%s must be a number above 0, got %r' % (option, name, value))
        if found[name] == int(found[name]):
            found[name] = int(found[name])
    return found


def diagnose_settings(module, adapter):
    p = module.params
    known = registry.names()
    unknown = [name for name in p['select'] if name not in known]
    if unknown:
        raise ConfigError('select (diagnose_checks) names unknown checks %s; the checks are %s, or [] for all'
                          % (', '.join(unknown), ', '.join(known)))
    masker = _mask.from_adapter(adapter, p['mask_keys'], 'mask_keys (quickbite_secret_keys)')
    register_secrets(module, *masker.values)
    register_secrets(module, p['webhook_dashboard_secret'])
    return DiagnoseSettings(
        checks=p['select'] or known,
        limits=_numbers(p['check_timeouts'], known, 'check_timeouts (diagnose_check_timeouts)', 'check'),
        thresholds=_numbers(p['thresholds'], registry.default_thresholds(), 'thresholds (diagnose_thresholds)',
                            'threshold'),
        health=health_settings(module, adapter), masker=masker, backend_service=p['backend_service'],
        frontend_service=p['frontend_service'], db_service=p['db_service'], webhook_path=p['webhook_path'],
        webhook_dashboard_secret=p['webhook_dashboard_secret'])
