# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's "WebSocket connections timing out": every location of the
nginx configuration the frontend runs (``nginx -T``, parsed) that passes
WebSocket upgrades on must keep an idle socket open at least
``websocket_timeout_s`` seconds (proxy_read_timeout and proxy_send_timeout,
as nginx inherits them); where requests come through Ingress objects
(adapter.has_ingress), their ingress-nginx annotations proxy-read-timeout and
proxy-send-timeout must be at least ``ingress_timeout_s``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import registry
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.finding import (
    WEBSOCKET_TIMEOUTS, ok, problem, skipped)
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.frontend import Frontend, safe_config
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.nginx_config import (
    location_name, parse_time, upgrades_websockets)

FIX = 'fix_websocket_timeouts'
TIMEOUTS = ('proxy_read_timeout', 'proxy_send_timeout')
ANNOTATIONS = ('nginx.ingress.kubernetes.io/proxy-read-timeout', 'nginx.ingress.kubernetes.io/proxy-send-timeout')
# What ingress-nginx uses when an Ingress sets no annotation (its ConfigMap's default).
INGRESS_DEFAULT = '60'


def websocket_locations(config, threshold):
    """[{location, server, timeouts: {directive: {value, seconds, where}}, low: [directive]}]
    of every location that passes WebSocket upgrades on."""
    found = []
    for server, chain in config.locations():
        if not upgrades_websockets(config, server, chain):
            continue
        timeouts, low = {}, []
        for name in TIMEOUTS:
            args, where = config.effective(server, chain, name)
            value = args[0] if args else None
            seconds = parse_time(value)
            timeouts[name] = dict(value=value, seconds=seconds, where=_where(where))
            if seconds is None or seconds < threshold:
                low.append(name)
        listen = [' '.join(d['args']) for d in server.get('block') or [] if d['directive'] == 'listen']
        found.append(dict(location=location_name(chain[-1]), server=', '.join(listen) or 'default',
                          file=chain[-1]['file'], line=chain[-1]['line'], timeouts=timeouts, low=low))
    return found


def _where(where):
    if where['level'] == 'default':
        return "nginx's default"
    return '%s, %s line %s' % (where['level'], where['file'], where['line'])


def nginx_findings(frontend, threshold):
    config, why = safe_config(frontend)
    if config is None:
        return [skipped(WEBSOCKET_TIMEOUTS, 'cannot read the nginx configuration of %s: %s' % (frontend.where, why))]
    locations = websocket_locations(config, threshold)
    if not locations:
        return [skipped(WEBSOCKET_TIMEOUTS, 'no location of the nginx configuration in %s passes WebSocket upgrades '
                                            'on (proxy_set_header Upgrade / Connection upgrade)' % frontend.where)]
    findings = []
    for loc in locations:
        said = ', '.join('%s %s (%s)' % (name, loc['timeouts'][name]['value'], loc['timeouts'][name]['where'])
                         for name in TIMEOUTS)
        evidence = dict(loc, threshold_s=threshold)
        if loc['low']:
            findings.append(problem(
                WEBSOCKET_TIMEOUTS, 'nginx location %s (server %s) closes idle WebSockets before %d s: %s'
                % (loc['location'], loc['server'], threshold, said), evidence, fix=FIX,
                fix_note='raises %s in the deployment\'s nginx.conf (to fix_websocket_timeouts_seconds, 3600 by '
                         'default), tests and reloads it' % ' and '.join(loc['low'])))
        else:
            findings.append(ok(WEBSOCKET_TIMEOUTS, 'nginx location %s (server %s): %s, at least %d s'
                               % (loc['location'], loc['server'], said, threshold), evidence))
    return findings


def ingress_findings(adapter, threshold):
    findings = []
    for ingress in adapter.ingresses():
        values, low = {}, []
        for key in ANNOTATIONS:
            value = ingress['annotations'].get(key)
            seconds = parse_time(value if value is not None else INGRESS_DEFAULT)
            values[key] = value
            if seconds is None or seconds < threshold:
                low.append(key)
        said = ', '.join('%s=%s' % (key.rsplit('/', 1)[-1], values[key] if values[key] is not None else
                                    'unset (ingress-nginx default %s)' % INGRESS_DEFAULT) for key in ANNOTATIONS)
        evidence = dict(ingress=ingress['name'], annotations=values, paths=ingress['paths'], threshold_s=threshold,
                        low=low)
        if low:
            findings.append(problem(WEBSOCKET_TIMEOUTS, 'Ingress %s closes idle WebSockets before %d s: %s'
                                    % (ingress['name'], threshold, said), evidence, fix=FIX,
                                    fix_note='patches the annotations of Ingress %s to %d' % (ingress['name'], threshold)))
        else:
            findings.append(ok(WEBSOCKET_TIMEOUTS, 'Ingress %s: %s, at least %d s' % (ingress['name'], said, threshold),
                               evidence))
    return findings


@registry.check('websocket_timeouts', WEBSOCKET_TIMEOUTS, limit=15, order=20,
                thresholds={'websocket_timeout_s': 60, 'ingress_timeout_s': 3600})
def websocket_timeouts(adapter, settings):
    frontend = Frontend(adapter, settings.frontend_service, settings.health.request_timeout)
    findings = nginx_findings(frontend, settings.threshold('websocket_timeout_s'))
    if adapter.has_ingress:
        findings.extend(ingress_findings(adapter, settings.threshold('ingress_timeout_s')))
    return findings
