# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker Compose adapter: the runbook's ``docker compose`` commands behind
the platform interface."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.quickbite.ops.plugins.module_utils import envfile
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, NotFoundError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import (
    Adapter, judge_service, replica)
from ansible_collections.quickbite.ops.plugins.module_utils.platform._compose_cli import ComposeCLI

_LOG_PREFIX = re.compile(r'^(\S+)\s+\| ?(.*)$')


def replica_from_inspect(info):
    state = info.get('State', {})
    health = (state.get('Health') or {}).get('Status')
    status = 'restarting' if state.get('Restarting') else state.get('Status', 'unknown')
    ready = status == 'running' and health in (None, 'healthy')
    # A stopped container keeps its last health status: state comes first.
    reason = None
    if status != 'running':
        reason = status
    elif health == 'unhealthy':
        reason = 'unhealthy'
    elif health == 'starting':
        reason = 'health starting'
    return replica(
        name=info.get('Name', '').lstrip('/'), state=status, ready=ready, health=health,
        restart_count=info.get('RestartCount', 0), image=info.get('Config', {}).get('Image'),
        exit_code=state.get('ExitCode') if status != 'running' else None, reason=reason)


def group_log_lines(text):
    """Split ``compose logs`` output into one entry per container prefix."""
    groups = {}
    order = []
    for line in text.splitlines():
        match = _LOG_PREFIX.match(line)
        source, body = (match.group(1), match.group(2)) if match else ('', line)
        if source not in groups:
            groups[source] = []
            order.append(source)
        groups[source].append(body)
    return [dict(source=source, lines=groups[source]) for source in order]


class ComposeAdapter(Adapter):

    platform = 'compose'

    def __init__(self, module, params):
        self.module = module
        self.cli = ComposeCLI(module, params['project_dir'], params['compose_files'],
                              params['env_file'], params.get('project_name'))

    def describe(self):
        return 'compose project in %s' % self.cli.project_dir

    def services(self, names=None):
        self.cli.check_local()
        # Independent CLI calls side by side: each docker compose start costs ~0.1 s.
        with ThreadPoolExecutor(max_workers=3) as pool:
            checked = pool.submit(self.cli.preflight)
            known_future = pool.submit(self.cli.services, False)
            containers = self.cli.ps(False)
            checked.result()
            known = known_future.result()
        if names:
            unknown = [n for n in names if n not in known]
            if unknown:
                raise NotFoundError('unknown service(s) %s; the compose file defines %s'
                                    % (', '.join(unknown), ', '.join(known)))
        wanted = names or known
        infos = {i['Id']: i for i in self.cli.inspect([c['ID'] for c in containers])}
        result = []
        for name in wanted:
            reps = []
            for container in containers:
                if container.get('Service') != name:
                    continue
                info = infos.get(container['ID']) or _match_prefix(infos, container['ID'])
                if info:
                    reps.append(replica_from_inspect(info))
            result.append(judge_service(name, name, None, sorted(reps, key=lambda r: r['name'])))
        return result

    def logs(self, service, tail=100, since=None, previous=False, selector=None):
        args = ['logs', '--no-color']
        if tail is not None:
            args += ['--tail', str(tail)]
        if since:
            args += ['--since', since]
        if service:
            args.append(service)
        return group_log_lines(self.cli.run(args)[1])

    def get_config(self, key):
        path = self.cli.env_file
        if not os.path.exists(path):
            raise ConfigError('env file %s not found; set quickbite_compose_env_file' % path)
        return envfile.read(path).get(key)


def _match_prefix(infos, short_id):
    for full, info in infos.items():
        if full.startswith(short_id):
            return info
    return None
