# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident_evidence module's own options and the settings built from
them (the health check's options come from health.options)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils import _mask, options
from ansible_collections.quickbite.ops.plugins.module_utils.common import register_secrets
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.health.options import health_argument_spec, health_settings
from ansible_collections.quickbite.ops.plugins.module_utils.incident.probes import DEFAULT_LIMITS, PROBES, \
    IncidentSettings

INTEGERS = ('log_minutes', 'log_tail', 'log_keep', 'long_query_seconds', 'latency_requests', 'latency_p99_ms',
            'deploy_window_minutes')


def incident_argument_spec():
    return options.argument_spec(
        options.platform_argument_spec(), health_argument_spec(),
        services=dict(type='list', elements='str', default=[]),
        probes=dict(type='list', elements='str', choices=list(PROBES), default=list(PROBES)),
        probe_timeouts=dict(type='dict', default={}),
        log_minutes=dict(type='int', default=15),
        log_tail=dict(type='int', default=2000),
        log_keep=dict(type='int', default=200),
        long_query_seconds=dict(type='int', default=30),
        latency_path=dict(type='str', default='/actuator/health'),
        latency_requests=dict(type='int', default=20),
        latency_p99_ms=dict(type='int', default=2000),
        deploy_services=dict(type='list', elements='str', default=['backend', 'frontend']),
        deploy_window_minutes=dict(type='int', default=120),
        db_data_dir=dict(type='str', default=''),
    )


def _limits(given):
    limits = {}
    for name, value in (given or {}).items():
        if name not in DEFAULT_LIMITS:
            raise ConfigError('probe_timeouts names an unknown probe %s; the probes are %s'
                              % (name, ', '.join(PROBES)))
        try:
            limits[name] = float(value)
        except (TypeError, ValueError):
            limits[name] = -1
        if limits[name] <= 0:
            raise ConfigError('probe_timeouts.%s must be a number of seconds above 0, got %r' % (name, value))
    return limits


def incident_settings(module, adapter):
    p = module.params
    options.require_at_least(p, 1, 'log_minutes', 'latency_requests', 'latency_p99_ms', 'deploy_window_minutes')
    options.require_at_least(p, 0, 'log_tail', 'log_keep', 'long_query_seconds')
    for needed in ('db', 'redis'):
        if needed in p['probes'] and needed not in p['checks']:
            raise ConfigError('the %s probe needs %s in checks (its connection settings come from there); add it, '
                              'or leave %s out of probes' % (needed, needed, needed))
    limits = _limits(p['probe_timeouts'])
    masker = _mask.from_adapter(adapter, p['mask_keys'], 'mask_keys (quickbite_secret_keys)')
    register_secrets(module, *masker.values)
    health = health_settings(module, adapter, services=p['services'])
    return IncidentSettings(
        health=health, probes=p['probes'], limits=limits, services=p['services'], log_minutes=p['log_minutes'],
        log_tail=p['log_tail'], log_keep=p['log_keep'], long_query_seconds=p['long_query_seconds'],
        latency_path=p['latency_path'], latency_requests=p['latency_requests'],
        deploy_services=p['deploy_services'], masker=masker, db_service=p['db_service'],
        db_data_dir=p['db_data_dir'])
