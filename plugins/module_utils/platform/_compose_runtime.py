# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ComposeAdapter.runtime_env and service_addresses: what a running
container was started with (the Engine's Config.Env, secrets included: the
caller masks them) and the names it is reached by (its network mode, the
aliases and names on its networks). One inspect of the service's containers,
through the local Engine socket when the CLI would ask the same daemon."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.platform._compose_cli import parse_json_stream
from ansible_collections.quickbite.ops.plugins.module_utils.platform._docker_api import EngineError

# Only what these two need (the state-only template of _compose_cli carries no Env).
RUNTIME_FORMAT = ('{"Id":{{json .Id}},"Name":{{json .Name}},"Created":{{json .Created}},'
                  '"State":{"Status":{{json .State.Status}},"Running":{{json .State.Running}}},'
                  '"Config":{"Env":{{json .Config.Env}}},"HostConfig":{"NetworkMode":{{json .HostConfig.NetworkMode}}},'
                  '"NetworkSettings":{"Networks":{{json .NetworkSettings.Networks}},'
                  '"Ports":{{json .NetworkSettings.Ports}}}}')
LOOPBACK = ('127.0.0.1', 'localhost', '::1')


def _inspect(reader, cli, ids):
    engine = reader.engine
    if engine is not None:
        try:
            return [engine.get('/containers/%s/json' % cid) for cid in ids]
        except EngineError:
            pass  # the CLI says what is wrong, if anything is
    rc, out, err = cli.docker_run(['inspect', '--format', RUNTIME_FORMAT] + list(ids), check=False)
    if rc != 0 and not out.strip():
        raise PlatformError('docker inspect failed (rc=%d): %s' % (rc, err.strip()))
    return parse_json_stream(out)


def _containers(reader, cli, service):
    """The service's containers inspected, running ones first, newest first."""
    snapshot = reader.snapshot([service], detail=False, inspect=False)
    infos = _inspect(reader, cli, [c.id for c in snapshot.of(service)])
    return sorted(infos, key=lambda i: (not (i.get('State') or {}).get('Running'), _negated(i.get('Created') or '')))


def _negated(text):
    return [-ord(ch) for ch in text]


def runtime_env(reader, cli, service):
    infos = _containers(reader, cli, service)
    if not infos:
        return dict(replica=None, env={}, origins={})
    info = infos[0]
    env, origins = {}, {}
    for item in (info.get('Config') or {}).get('Env') or []:
        name, sep, value = item.partition('=')
        if sep:
            env[name] = value
            origins[name] = 'container environment (Engine Config.Env)'
    return dict(replica=(info.get('Name') or '').lstrip('/'), env=env, origins=origins,
                state=(info.get('State') or {}).get('Status'))


def service_addresses(reader, cli, service, port):
    found = []
    for info in _containers(reader, cli, service):
        mode = (info.get('HostConfig') or {}).get('NetworkMode') or ''
        if mode == 'host':
            names = list(LOOPBACK)
        else:
            names = [(info.get('Name') or '').lstrip('/')]
            for network in ((info.get('NetworkSettings') or {}).get('Networks') or {}).values():
                names.extend((network or {}).get('Aliases') or [])
                names.extend((network or {}).get('DNSNames') or [])
                if (network or {}).get('IPAddress'):
                    names.append(network['IPAddress'])
        for name in names:
            if name and (name, int(port)) not in found:
                found.append((name, int(port)))
    return found
