# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker Compose adapter: the runbook's ``docker compose`` commands behind
the platform interface."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.quickbite.ops.plugins.module_utils import envfile
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, NotFoundError, PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import (
    Adapter, judge_service, ready_by_endpoint)
from ansible_collections.quickbite.ops.plugins.module_utils.platform import _compose_evidence
from ansible_collections.quickbite.ops.plugins.module_utils.platform._compose_cli import ComposeCLI
from ansible_collections.quickbite.ops.plugins.module_utils.platform._compose_read import ComposeReader
from ansible_collections.quickbite.ops.plugins.module_utils.platform._docker_api import (
    EngineError, local_engine, service_containers)
from ansible_collections.quickbite.ops.plugins.module_utils.platform._compose_state import ComposeState

_LOG_PREFIX = re.compile(r'^(\S+)\s+\| ?(.*)$')
# Lifecycle hooks run by the compose CLI around a restart (2.30+): with any
# of them in the files, the restart goes through the CLI so they still run.
_HOOKS = re.compile(r'^\s*(pre_stop|post_start)\s*:', re.MULTILINE)


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
    # Capabilities (base.Adapter says what each means).
    rolling_restart = False
    restarts_whole_stack = True
    has_rollout_history = False
    pins_images = True
    has_previous_log = False
    has_label_selectors = False
    target_kind = 'project name'
    has_ingress = False

    def __init__(self, module, params):
        self.module = module
        self.cli = ComposeCLI(module, params['project_dir'], params['compose_files'],
                              params['env_file'], params.get('project_name'))
        self.state = ComposeState(params['project_dir'])
        self.cli.extra_files = [self.state.override_path]
        self.cli.cache_dir = self.state.dir
        # Every read goes through the reader (_compose_read): container lists
        # straight from the local daemon when the CLI would ask the same one
        # (the project name must be known to filter on it), and one cache
        # (ReadCache) that every write below invalidates.
        self.reader = ComposeReader(self.cli, local_engine() if params.get('project_name') else None)

    def describe(self):
        return 'compose project in %s' % self.cli.project_dir

    def target_name(self):
        """project_name, else the project directory's name (Compose's own default)."""
        return self.cli.project_name or os.path.basename(os.path.normpath(self.cli.project_dir))

    def stack_restart_effect(self):
        return 'takes every service of compose project %s down and up again (QuickBite is down meanwhile)' % (
            self.target_name())

    def services(self, names=None, detail=True, inspect=True):
        """One snapshot (ComposeReader.snapshot: ``detail=False`` inspects only
        containers the list does not show healthy, ``inspect=False`` none),
        judged service by service."""
        snapshot = self.reader.snapshot(names, detail, inspect)
        return [judge_service(name, name, None, [c.replica() for c in snapshot.of(name)])
                for name in snapshot.services]

    def logs(self, service, tail=100, since=None, previous=False, selector=None):
        args = ['logs', '--no-color']
        if tail is not None:
            args += ['--tail', str(tail)]
        if since:
            args += ['--since', since]
        if service:
            args.append(service)
        return group_log_lines(self.cli.run(args)[1])

    def ingresses(self):
        """None on Compose: the frontend's nginx is the edge (has_ingress)."""
        return []

    def set_ingress_annotations(self, name, annotations):
        raise PlatformError('%s has no Ingress %s to annotate (has_ingress is false): the frontend\'s nginx is the '
                            'edge; change its configuration file instead' % (self.describe(), name))

    def runtime_env(self, service):
        """The Engine's Config.Env of a running container (_compose_runtime)."""
        from ansible_collections.quickbite.ops.plugins.module_utils.platform import _compose_runtime
        return _compose_runtime.runtime_env(self.reader, self.cli, service)

    def service_addresses(self, service, port):
        from ansible_collections.quickbite.ops.plugins.module_utils.platform import _compose_runtime
        return _compose_runtime.service_addresses(self.reader, self.cli, service, port)

    def get_config(self, key):
        path = self.cli.env_file
        if not os.path.exists(path):
            raise ConfigError('env file %s not found; set quickbite_compose_env_file' % path)
        return envfile.read(path).get(key)

    def config_items(self):
        path = self.cli.env_file
        if not os.path.exists(path):
            raise ConfigError('env file %s not found; set quickbite_compose_env_file' % path)
        return envfile.read(path)

    def set_config(self, key, value):
        """Rewrite the value of ``key`` in the env file (through a symlink, to
        its target), atomically, keeping every other byte, the mode and the owner."""
        self.reader.cache.written()
        envfile.set_value(self.cli.env_file, key, value)

    def check_config(self, key, value):
        envfile.check_set(self.cli.env_file, key, value)

    def config_snapshot(self, keys):
        """The bytes of each key's line: a rollback puts back exactly those."""
        return envfile.snapshot(self.cli.env_file, keys)

    def restore_config(self, snapshot):
        self.reader.cache.written()
        envfile.restore(self.cli.env_file, snapshot)

    def store(self):
        from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import FileStore
        return FileStore(self.state.dir)

    def lock(self, procedure, ttl=3600):
        """The project's one lock (_locks.FileLock): ``procedure`` names the
        holder in a refused run's message; a dead holder's lock is freed by the
        kernel, so ``ttl`` is not needed here."""
        from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import FileLock, TARGET_LOCK
        return FileLock(self.state.dir, TARGET_LOCK, procedure=procedure, what='the lock of the %s' % self.describe())

    # ---------------------------------------------------------------- changes

    def service_names(self):
        """The compose files' services, with the version check (a change follows)."""
        return list(self.reader.service_names(checked=True))

    def workload(self, service):
        """Kept (ReadCache) until the next write: the change right after a
        plan starts from what the plan read, and asks --dry-run once."""
        cached = self.reader.cache.get('workload', service)
        if cached is not None:
            return cached
        current = self._current(service)
        current['config_changed'] = bool(current['replicas']) and self._would_recreate(service, current['replicas'])
        return self.reader.cache.put('workload', service, current)

    def _current(self, service):
        """Image and replicas now."""
        # The Engine's list carries image reference and ID; inspect only when it
        # shows an ID where the reference was (the tag has moved on since).
        state = self.services([service], inspect=self.reader.engine is None)[0]
        live = [r for r in state['replicas'] if r['state'] in ('running', 'restarting', 'created')]
        if self.reader.engine is not None and [r for r in live if not r.get('image_id') or _is_image_id(r.get('image'))]:
            state = self.services([service])[0]
            live = [r for r in state['replicas'] if r['state'] in ('running', 'restarting', 'created')]
        ids = sorted(set(r['image_id'] for r in live if r.get('image_id')))
        refs = sorted(set(r['image'] for r in live if r.get('image')))
        return dict(
            service=service, image=refs[0] if len(refs) == 1 else refs, image_id=ids[0] if len(ids) == 1 else ids,
            revision=None, replicas=len(live), ready=len([r for r in live if r['ready']]),
            pinned=self.state.pins().get(service))

    def _would_recreate(self, service, replicas):
        """Compose's own verdict (``--dry-run up``): ``config --hash`` does not
        match the hash ``up`` compares in 2.40, so it cannot be trusted here."""
        rc, out, err = self.cli.run(['--dry-run', 'up', '-d', '--no-deps', '--scale',
                                     '%s=%d' % (service, replicas), service], check=False)
        return rc == 0 and bool(re.search(r'Container \S+\s+Recreate\b', out + err))

    def _record(self, service, action):
        # Every change to a service starts here: what the plan read just before,
        # else a fresh read (a recreate the caller decided on needs no --dry-run
        # verdict); what was read about the service is not served after it.
        current = self.reader.cache.get('workload', service) or self._current(service)
        self.reader.cache.written(service)
        if current['image_id'] and not isinstance(current['image_id'], list):
            self.state.record(service, current['image'], current['image_id'], action)
        return current

    def restart(self, service, recreate=False):
        before = self._record(service, 'recreate' if recreate else 'restart')
        if recreate:
            # --scale keeps the replica count: a bare `up` would go back to the file's.
            self.cli.run(['up', '-d', '--no-deps', '--force-recreate',
                          '--scale', '%s=%d' % (service, max(before['replicas'], 1)), service])
        elif not self._engine_restart(service):
            self.cli.run(['restart', service])
        return before

    def _engine_restart(self, service):
        """``compose restart <service>`` without the CLI: the same Engine call
        for each of the service's containers, side by side as Compose makes
        them. False (nothing done) when the CLI must do it: no local engine,
        lifecycle hooks in the files, or the list cannot be read."""
        engine = self.reader.engine
        if engine is None or self.cli.files_use(_HOOKS):
            return False
        try:
            ids = [c['Id'] for c in service_containers(engine.project_containers(self.cli.project_name), service)]
        except EngineError:
            return False
        if not ids:
            return False  # let the CLI say what it says about a service without containers
        self.cli.preflight()  # the compose version check guards every change
        with ThreadPoolExecutor(max_workers=min(len(ids), 8)) as pool:
            failures = [f.exception() for f in [pool.submit(engine.restart, i) for i in ids]]
        failed = [str(exc) for exc in failures if exc is not None]
        if failed:
            raise PlatformError('restart of %s failed: %s' % (service, '; '.join(failed)))
        return True

    def restart_stack(self):
        before = dict((name, self._record(name, 'stack restart')) for name in self.service_names())
        self.reader.cache.written()
        self.cli.run(['down'])
        self.cli.run(['up', '-d'])
        return before

    def delete_replica(self, name):
        for service in self.services():
            if name in [r['name'] for r in service['replicas']]:
                count = len(service['replicas'])
                self._record(service['name'], 'delete %s' % name)
                self.cli.docker_run(['rm', '--force', name])
                self.cli.run(['up', '-d', '--no-deps', '--scale', '%s=%d' % (service['name'], count),
                              service['name']])
                # rm -f has already removed it, and the replacement reuses the name.
                return service['name'], []
        raise NotFoundError('no container named %s in %s' % (name, self.describe()))

    def scale(self, service, replicas):
        before = self._record(service, 'scale')
        self.cli.run(['up', '-d', '--no-deps', '--scale', '%s=%d' % (service, replicas), service])
        return before

    def exec_spawn(self, service, user=None):
        """A Popen-like starter running commands in ``service``'s container
        (``exec -T``: stdin and stdout streamed), for ``access: exec``."""
        self.cli.preflight()
        prefix = self.cli.base_argv() + ['exec', '-T'] + (['--user', user] if user else []) + [service]

        def spawn(argv, stdin, stdout, stderr, env=None):
            # env is for local programs; inside the container, peer authentication needs none.
            return subprocess.Popen(prefix + list(argv), stdin=stdin, stdout=stdout, stderr=stderr, close_fds=True)
        return spawn

    def stop(self, service):
        state = self.services([service])[0]
        replicas = len([r for r in state['replicas'] if r['state'] in ('running', 'restarting')])
        if replicas:
            self.reader.cache.written(service)
            self.cli.run(['stop', service])
        return dict(service=service, replicas=replicas)

    def start(self, service, token):
        if token['replicas']:
            self.reader.cache.written(service)
            self.cli.run(['start', service])

    def wait(self, service, timeout, replicas=None, gone=None, endpoint=None, sleep=time.sleep):
        started = time.time()
        deadline = started + timeout
        while True:
            # Polls read the container list only; the state a timeout reports is inspected.
            state, problems = self._judge_wait(service, False, replicas, gone, endpoint)
            if not problems:
                return state
            if time.time() >= deadline:
                state, problems = self._judge_wait(service, True, replicas, gone, endpoint)
                if not problems:
                    return state
                raise self.timeout_error(service, 'become ready', timeout, problems, state)
            # Often at first, while a restarted service usually comes back; then less.
            sleep(0.05 if time.time() - started < 3 else 0.25)

    def _judge_wait(self, service, inspect, replicas, gone, endpoint):
        state = self.services([service], inspect=inspect)[0]
        if endpoint is not None and not state['ok']:
            accepted = ready_by_endpoint(state)
            if accepted['ok'] and endpoint():
                state = accepted
        live = [r for r in state['replicas'] if r['state'] != 'exited' or r['ready']]
        names = [r['name'] for r in state['replicas']]
        ready = len([r for r in live if r['ready']])
        problems = list(state['problems'])
        if replicas is not None and ready != replicas:
            problems.append('%d of %d replicas ready' % (ready, replicas))
        if gone and set(gone) & set(names):
            problems.append('%s still present' % ', '.join(sorted(set(gone) & set(names))))
        return state, problems

    def history(self, service):
        return self.state.history().get(service, [])

    def incident_state(self, names=None):
        """With the Engine's OOMKilled verdicts (_compose_evidence)."""
        return _compose_evidence.incident_state(self.reader, self.cli, names)

    def rollback_target(self, service, to=None):
        """The recorded image a rollback goes to (``to``: reference or ID from the
        history; default: the newest that differs from what runs now)."""
        current = self.workload(service)
        target = _pick_image(self.history(service), current['image_id'], to)
        if target is None:
            raise NotFoundError('no recorded image of %s to roll back to%s; the collection records the '
                                'image before each restart or recreate (history in %s)'
                                % (service, ' matching %s' % to if to else ' other than the running one',
                                   self.state.history_path))
        label = '%s (%s)' % (target['image'], target['image_id'][:19])
        return dict(target=target, label=label, changes=target['image_id'] != current['image_id'])

    def rollback(self, service, target):
        """Pin ``service`` to the target image (an override file) and recreate it."""
        current = self._record(service, 'rollback')
        self.state.set_pin(service, self._stable_reference(target['target']))
        self.reader.cache.written()  # a compose file changed
        self.cli.run(['up', '-d', '--no-deps', '--force-recreate',
                      '--scale', '%s=%d' % (service, max(current['replicas'], 1)), service])

    def unpin(self, service):
        current = self.workload(service)
        self._record(service, 'unpin')
        self.state.set_pin(service, None)
        self.reader.cache.written()  # a compose file changed
        self.cli.run(['up', '-d', '--no-deps', '--force-recreate',
                      '--scale', '%s=%d' % (service, max(current['replicas'], 1)), service])
        return current

    def read_alert_routing(self, name):
        raise _routing_is_a_file(self)

    def write_alert_routing(self, name, spec, labels):
        raise _routing_is_a_file(self)

    def _stable_reference(self, target):
        """The recorded reference when it still names the recorded image (immutable
        tags); else a local tag on the image ID, so a moved tag cannot change it."""
        rc, out, err = self.cli.docker_run(['image', 'inspect', '--format', '{{.Id}}', target['image']],
                                           check=False)
        if rc == 0 and out.strip() == target['image_id']:
            return target['image']
        pinned = 'quickbite-ops/pinned:%s' % target['image_id'].split(':')[-1][:12]
        self.cli.docker_run(['tag', target['image_id'], pinned])
        return pinned


def _routing_is_a_file(adapter):
    return ConfigError('%s keeps no Alertmanager routing object (stores_alert_routing is false): the routing is '
                       'alertmanager.yml on the Alertmanager host; set monitoring_alertmanager_file' % adapter.describe())


def _pick_image(history, current_id, wanted=None):
    for entry in reversed(history):
        if wanted:
            if wanted in (entry['image'], entry['image_id']) or entry['image_id'].split(':')[-1].startswith(wanted):
                return entry
        elif entry['image_id'] != current_id:
            return entry
    return None


def _is_image_id(reference):
    return bool(re.match(r'^(sha256:)?[0-9a-f]{12,64}$', reference or ''))
