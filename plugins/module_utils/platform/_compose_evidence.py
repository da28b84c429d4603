# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ComposeAdapter.incident_state: every container of the named services with
what the Engine keeps about its last end (State.OOMKilled, ExitCode,
RestartCount, StartedAt, FinishedAt), from one list and one inspect (the
CLI's state-only template: no Config.Env); for a container running again
after restarts, its last exit code from its ``die`` event."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.quickbite.ops.plugins.module_utils._time import epoch
from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import judge_service
from ansible_collections.quickbite.ops.plugins.module_utils.platform._compose_cli import parse_json_stream
from ansible_collections.quickbite.ops.plugins.module_utils.platform._compose_read import _by_prefix


def _moment(value):
    """Docker's zero time means never."""
    return None if not value or value.startswith('0001-') else value


def last_exit_code(cli, container_id, finished):
    """The exit code of a running container's last end: the Engine resets
    State.ExitCode to 0 when it starts the container again (a crash loop between
    two crashes), but its ``die`` event carries it. The Engine keeps only its
    last 256 events (health checks fill them in seconds), so an older end is
    gone: None then. ``--until`` in the past makes ``docker events`` return."""
    at = epoch(finished)
    if at is None:
        return None
    until = min(at + 2, time.time())
    rc, out, dummy = cli.docker_run(['events', '--since', '%.3f' % (at - 2), '--until', '%.3f' % until,
                                     '--filter', 'container=%s' % container_id, '--filter', 'event=die',
                                     '--format', '{{json .}}'], check=False)
    codes = [((e.get('Actor') or {}).get('Attributes') or {}).get('exitCode') for e in parse_json_stream(out or '')]
    codes = [c for c in codes if c is not None and str(c).lstrip('-').isdigit()]
    return int(codes[-1]) if rc == 0 and codes else None


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
            if state.get('Running') and rep['restart_count'] and _moment(state.get('FinishedAt')):
                # 0 here only means "running": the last end's code is in its die event, if still kept.
                rep['exit_code'] = last_exit_code(cli, info.get('Id') or container.id, state.get('FinishedAt'))
            replicas.append(rep)
        judged = judge_service(name, name, None, replicas)
        services.append(dict(name=name, ok=judged['ok'], problems=judged['problems'], replicas=[
            dict((k, r.get(k)) for k in ('name', 'state', 'restart_count', 'exit_code', 'oom_killed', 'last_reason',
                                         'started', 'finished', 'error', 'image')) for r in replicas]))
    return dict(services=services, events=[])
