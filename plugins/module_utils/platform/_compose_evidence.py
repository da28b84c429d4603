# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ComposeAdapter.incident_state: every container of the named services with
what the Engine keeps about its last end (State.OOMKilled, ExitCode,
RestartCount, StartedAt, FinishedAt), from one list and one inspect (the
CLI's state-only template: no Config.Env)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import judge_service
from ansible_collections.quickbite.ops.plugins.module_utils.platform._compose_read import _by_prefix


def _moment(value):
    """Docker's zero time means never."""
    return None if not value or value.startswith('0001-') else value


def incident_state(reader, cli, names=None):
    snapshot = reader.snapshot(names, detail=True, inspect=False)
    infos = dict((i['Id'], i) for i in cli.inspect([c.id for c in snapshot.containers]))
    services = []
    for name in snapshot.services:
        replicas = []
        for container in snapshot.of(name):
            info = infos.get(container.id) or _by_prefix(infos, container.id)
            if info is None:  # removed between the list and inspect (being replaced)
                continue
            state = info.get('State') or {}
            rep = container.with_inspect(info).replica()
            rep.update(oom_killed=bool(state.get('OOMKilled')), last_reason=rep['reason'],
                       exit_code=state.get('ExitCode'), started=_moment(state.get('StartedAt')),
                       finished=_moment(state.get('FinishedAt')), error=state.get('Error') or None)
            if state.get('OOMKilled'):
                rep['last_reason'] = 'OOMKilled'
            replicas.append(rep)
        judged = judge_service(name, name, None, replicas)
        services.append(dict(name=name, ok=judged['ok'], problems=judged['problems'], replicas=[
            dict((k, r.get(k)) for k in ('name', 'state', 'restart_count', 'exit_code', 'oom_killed', 'last_reason',
                                         'started', 'finished', 'error', 'image')) for r in replicas]))
    return dict(services=services, events=[])
