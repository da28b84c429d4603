# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Compose adapter's one read path: what a project runs, as an immutable
Snapshot.

Two sources list the project's containers behind one small interface
(``rows()``: ``compose ps --all --format json`` rows): the Engine API on the
local socket (EngineSource: no compose CLI start, ~0.2 s less a read), and the
compose CLI (CliSource: any daemon, context or DOCKER_HOST). The reader uses
the Engine when the CLI would talk to the same daemon and falls back to the CLI
for the rest of the run when the Engine does not answer. Inspect (restart
counts, the image a moved tag pointed to) always goes through the CLI with a
state-only template: the Engine's inspect would carry Config.Env, secrets
included.

What the reader remembers within a run is in one place, ReadCache; what the
CLI remembers across runs (the version check, the service list) is kept on
disk by ComposeCLI under keys of the binaries and the compose files' bytes.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.quickbite.ops.plugins.module_utils.errors import NotFoundError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import replica
from ansible_collections.quickbite.ops.plugins.module_utils.platform._docker_api import (
    CONFIG_HASH_LABEL, EngineError, ps_row)

# compose ps prints labels as one "k=v,k=v" string (values may hold commas).
_CLI_CONFIG_HASH = re.compile(r'(?:^|,)%s=([0-9a-f]+)' % re.escape(CONFIG_HASH_LABEL))


def readiness(state, health):
    """(ready, reason) of a container in ``state`` with Docker health ``health``
    (None: no healthcheck). A stopped container keeps its last health status:
    state comes first."""
    if state != 'running':
        return False, state
    if health in (None, 'healthy'):
        return True, None
    return False, 'health starting' if health == 'starting' else health


def _config_hash(labels):
    if isinstance(labels, dict):
        return labels.get(CONFIG_HASH_LABEL)
    match = _CLI_CONFIG_HASH.search(labels or '')
    return match.group(1) if match else None


class Container(namedtuple('Container', 'service name id state health exit_code restart_count '
                                        'image image_id config_hash inspected')):
    """One container as the list shows it or, when ``inspected``, as inspect
    does (the list has no restart count, and the CLI's no image ID)."""
    __slots__ = ()

    @classmethod
    def from_row(cls, row):
        """From a ``compose ps --format json`` row (or the Engine's, ps_row)."""
        state = row.get('State') or 'unknown'
        return cls(service=row.get('Service'), name=row.get('Name'), id=row.get('ID'), state=state,
                   health=row.get('Health') or None, exit_code=row.get('ExitCode') if state != 'running' else None,
                   restart_count=0, image=row.get('Image'), image_id=row.get('ImageID'),
                   config_hash=_config_hash(row.get('Labels')), inspected=False)

    def with_inspect(self, info):
        """This container with what ``docker inspect`` (ComposeCLI.INSPECT_FORMAT) says."""
        state = info.get('State', {})
        status = 'restarting' if state.get('Restarting') else state.get('Status', 'unknown')
        return self._replace(name=info.get('Name', '').lstrip('/'), state=status,
                             health=(state.get('Health') or {}).get('Status'),
                             exit_code=state.get('ExitCode') if status != 'running' else None,
                             restart_count=info.get('RestartCount', 0), image=info.get('Config', {}).get('Image'),
                             image_id=info.get('Image'), inspected=True)

    def listed_healthy(self):
        """Running and healthy (or without a healthcheck) by the list alone."""
        return self.state == 'running' and self.health in (None, 'healthy')

    def replica(self):
        """The platform interface's replica dict (base.replica)."""
        ready, reason = readiness(self.state, self.health)
        return replica(name=self.name, state=self.state, ready=ready, health=self.health,
                       restart_count=self.restart_count, image=self.image, exit_code=self.exit_code,
                       reason=reason, image_id=self.image_id)


class Snapshot(namedtuple('Snapshot', 'services containers')):
    """``services``: the services read, in order (the names asked for, else
    every service the compose files define); ``containers``: theirs, a tuple
    of Container."""
    __slots__ = ()

    def of(self, service):
        """The containers of ``service``, by name."""
        return tuple(sorted((c for c in self.containers if c.service == service), key=lambda c: c.name))


class CliSource(object):
    """``docker compose ps --all --format json``: whatever daemon the CLI
    talks to; ~0.2 s a call."""

    engine = None

    def __init__(self, cli):
        self.cli = cli

    def rows(self):
        # The reader runs the version check beside it when the CLI's formats matter.
        return self.cli.ps(preflight=False)


class EngineSource(object):
    """The Engine API's container list, filtered as ``compose ps --all``
    filters it (_docker_api); EngineError when the daemon does not answer."""

    def __init__(self, engine, project):
        self.engine = engine
        self.project = project

    def rows(self):
        return [ps_row(c) for c in self.engine.project_containers(self.project)]


class ReadCache(object):
    """Everything the read path keeps within one run.

    Key: (what, service); service is None for what concerns the project.
    Entries: ('services', None), the service list (``config --services``);
    ('workload', <service>), what a plan read about a service (image, replicas,
    Compose's recreate verdict), which the change right after it starts from.
    Invalidated by every write the adapter makes: a change to one service
    (restart, recreate, scale, stop, start, replica delete, rollback, unpin)
    drops what was read about that service; a change to the whole project
    (stack down and up, an env file write) drops everything.
    Container lists are never kept: every snapshot lists them anew, as a wait
    must see changes made by others too."""

    def __init__(self):
        self._entries = {}

    def get(self, what, service=None):
        return self._entries.get((what, service))

    def put(self, what, service, value):
        self._entries[(what, service)] = value
        return value

    def written(self, service=None):
        """After a write to ``service`` (None: the whole project)."""
        for key in [k for k in self._entries if service is None or k[1] == service]:
            del self._entries[key]


def gather(*calls):
    """The results of independent reads (None for a call that is None), run
    side by side when there are several: each compose CLI start costs ~0.2 s.
    The first failure in argument order is raised once all have ended."""
    todo = [c for c in calls if c is not None]
    if len(todo) < 2:
        return [c() if c is not None else None for c in calls]
    with ThreadPoolExecutor(max_workers=len(todo)) as pool:
        futures = [pool.submit(c) if c is not None else None for c in calls]
    return [f.result() if f is not None else None for f in futures]


class ComposeReader(object):
    """Snapshots of a project through ``cli`` (ComposeCLI) and, when given,
    the local ``engine`` (_docker_api.EngineAPI)."""

    def __init__(self, cli, engine=None):
        self.cli = cli
        self.source = EngineSource(engine, cli.project_name) if engine is not None else CliSource(cli)
        self.cache = ReadCache()

    @property
    def engine(self):
        """The Engine client while the list comes from it, else None."""
        return self.source.engine

    def service_names(self, checked=False):
        """The services the compose files define (ReadCache); ``checked``:
        with the compose version check beside it, as a change follows."""
        known = self.cache.get('services')
        version = self.cli.preflight if checked and not self.cli.checked else None
        listed = gather(self._read_service_names if known is None else None, version)[0]
        return known if listed is None else self.cache.put('services', None, listed)

    def _read_service_names(self):
        return list(self.cli.services(preflight=False))

    def _rows(self):
        try:
            return self.source.rows()
        except EngineError:
            self.source = CliSource(self.cli)  # the CLI reports what is wrong, if anything is
            return self.source.rows()

    def snapshot(self, names=None, detail=True, inspect=True):
        """The named services (all when None) and their containers.

        ``detail=False`` (the health view): containers the list shows running
        and healthy are not inspected; restart counts and image IDs matter
        only for the others, and inspect is one more CLI start.
        ``inspect=False`` (polls while waiting): none is inspected.
        The version check guards the CLI's output formats and every change: it
        runs when the list comes from the CLI, or with ``detail`` (a change
        usually follows). Names given and the Engine answering: its list shows
        which of them exist; the service list (a compose call when not
        remembered) is read only for a name without containers."""
        self.cli.check_local()
        known = self.cache.get('services')
        from_engine = self.engine is not None
        version = self.cli.preflight if (detail or not from_engine) and not self.cli.checked else None
        ask = known is None and not (names and from_engine)
        rows, dummy, listed = gather(self._rows, version, self._read_service_names if ask else None)
        containers = [Container.from_row(row) for row in rows]
        if listed is not None:
            known = self.cache.put('services', None, listed)
        elif names and known is None and not set(names) <= set(c.service for c in containers):
            known = self.service_names()
        if names and known is not None:
            unknown = [n for n in names if n not in known]
            if unknown:
                raise NotFoundError('unknown service(s) %s; the compose file defines %s'
                                    % (', '.join(unknown), ', '.join(known)))
        wanted = tuple(names or known)
        mine = [c for c in containers if c.service in wanted]
        look = [c.id for c in mine if inspect and (detail or not c.listed_healthy())]
        infos = dict((i['Id'], i) for i in self.cli.inspect(look))
        read = []
        for container in mine:
            info = infos.get(container.id) or _by_prefix(infos, container.id)
            if info:
                read.append(container.with_inspect(info))
            elif container.id not in look:  # asked for but gone: being replaced, left out
                read.append(container)
        return Snapshot(services=wanted, containers=tuple(read))


def _by_prefix(infos, short_id):
    """compose ps prints short IDs; inspect answers with full ones."""
    for full, info in infos.items():
        if full.startswith(short_id or '\0'):
            return info
    return None
