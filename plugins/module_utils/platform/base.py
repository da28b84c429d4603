# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one interface every procedure talks to; compose.py and kubernetes.py
implement it. Modules never ask which platform they are on.

State is returned as plain dicts so it goes straight into module results:

service = {name, workload, desired, replicas: [replica], ok, problems: [str]}
replica = {name, state, ready, health, restart_count, image, exit_code,
           reason, terminating}
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DEFAULT_DEPLOYMENTS = {
    'backend': 'quickbite-backend',
    'frontend': 'quickbite-frontend',
    'postgres': 'postgres',
    'redis': 'redis',
}


def replica(name, state, ready, health=None, restart_count=0, image=None,
            exit_code=None, reason=None, terminating=False, **extra):
    result = dict(name=name, state=state, ready=bool(ready), health=health,
                  restart_count=int(restart_count or 0), image=image,
                  exit_code=exit_code, reason=reason, terminating=terminating)
    result.update(extra)
    return result


def judge_service(name, workload, desired, replicas):
    """Shared verdict: every live replica ready, and as many as desired."""
    problems = []
    live = [r for r in replicas if not r['terminating']]
    if not live:
        problems.append('no %s running' % ('container' if desired is None else 'pod'))
    for rep in live:
        if not rep['ready']:
            what = rep['reason'] or rep['state']
            if rep['exit_code'] not in (None, 0) or rep['state'] == 'exited':
                what = '%s (exit code %s)' % (what, rep['exit_code'])
            problems.append('%s is %s, restarts %d' % (rep['name'], what, rep['restart_count']))
    ready = len([r for r in live if r['ready']])
    if desired is not None and ready < desired:
        problems.append('%d of %d replicas ready' % (ready, desired))
    return dict(name=name, workload=workload, desired=desired, replicas=replicas,
                ok=not problems, problems=problems)


def ready_by_endpoint(service):
    """``service`` re-judged with a replica whose platform probe still says
    ``starting`` counted as ready, for a caller that has just seen the
    service's own health endpoint answer UP: that endpoint is what the probe
    asks (the backend's Docker healthcheck curls /actuator/health), asked
    directly instead of waiting up to a probe interval for the flip. Only for
    a service with one live replica, which must be running: with several, an
    answer cannot be traced to one of them, so they wait for their probes.
    Anything else is returned unchanged."""
    live = [r for r in service['replicas'] if not r['terminating']]
    if len(live) != 1 or live[0]['state'] != 'running' or live[0]['health'] != 'starting':
        return service
    accepted = dict(live[0], ready=True, reason=None, ready_by='health endpoint UP (probe still starting)')
    replicas = [accepted if r is live[0] else r for r in service['replicas']]
    return judge_service(service['name'], service['workload'], service['desired'], replicas)


class Adapter(object):
    """What a procedure may ask of a platform."""

    platform = None

    def services(self, names=None, detail=True):
        """State of the named services (all known services when None);
        ``detail=False`` lets an adapter skip what a healthy replica does not need."""
        raise NotImplementedError

    def logs(self, service, tail=100, since=None, previous=False, selector=None):
        """Recent log lines: [{source, lines}] with one entry per container or pod."""
        raise NotImplementedError

    def get_config(self, key):
        """Value of one configuration key (env file on Compose, Secret key on
        Kubernetes), or None when absent."""
        raise NotImplementedError

    def config_items(self):
        """Every configuration key and its value: {key: value} (to mask the
        secrets among them in collected logs)."""
        raise NotImplementedError

    def set_config(self, key, value):
        """Set one configuration key, every other key left as it is."""
        raise NotImplementedError

    def check_config(self, key, value):
        """Raise ConfigError when set_config(key, value) would be refused (or
        would not read back as ``value``); changes nothing."""

    def config_snapshot(self, keys):
        """What restore_config() needs to put ``keys`` back exactly as they are
        now; JSON-serialisable (kept in the pending state of a rotation)."""
        return dict((key, self.get_config(key)) for key in keys)

    def restore_config(self, snapshot):
        """Put back what config_snapshot() saw (an absent key comes back empty)."""
        for key, value in sorted(snapshot.items()):
            self.set_config(key, value if value is not None else '')

    def describe(self):
        """Short human description of the target, for messages."""
        raise NotImplementedError

    def target_name(self):
        """The name an operator types to confirm an action on the whole
        target: the Compose project name, the Kubernetes namespace."""
        raise NotImplementedError

    def lock(self, procedure, ttl=3600):
        """The target's one lock (Compose project, Kubernetes namespace), a
        context manager re-entrant within one process; every procedure that
        changes the target holds it (_locks.target_lock). A second run is
        refused with LockedError naming the holder and ``procedure``."""
        raise NotImplementedError

    def store(self):
        """Persistent state of procedures that must survive a kill: load(name),
        save(name, data), delete(name)."""
        raise NotImplementedError

    # Changes. Each returns what it found before acting, so results can name
    # both sides ("revision 3 -> 4", "image a -> b"); none of them waits.

    def service_names(self):
        """Every service this platform knows, in a stable order."""
        raise NotImplementedError

    def workload(self, service):
        """{service, image, image_id, revision, replicas, config_changed} now."""
        raise NotImplementedError

    def restart(self, service, recreate=False):
        """Compose: ``restart`` or, with ``recreate``, ``up -d --no-deps``;
        Kubernetes: a rolling restart through the pod template."""
        raise NotImplementedError

    def restart_stack(self):
        """Compose: ``down`` then ``up -d`` with the env file; Kubernetes: a
        rolling restart of every Deployment."""
        raise NotImplementedError

    def delete_replica(self, name):
        """Force-kill one container or pod and let it be replaced; returns its
        service and the names a wait must see disappear."""
        raise NotImplementedError

    def scale(self, service, replicas):
        raise NotImplementedError

    def exec_spawn(self, service, user=None):
        """spawn(argv, stdin, stdout, stderr, env=None) -> Popen-like, running
        commands inside ``service``'s container (Compose: ``exec -T``) or pod
        (Kubernetes: the API server's exec)."""
        from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
        raise ConfigError('quickbite_db_access exec is not available on platform %s; reach the database with libpq '
                          'and set quickbite_db_host and quickbite_db_port' % self.platform)

    def stop(self, service):
        """Stop every replica of ``service`` (the writers, before a restore):
        Compose ``stop``, Kubernetes scale to 0. Returns the token start() needs."""
        raise NotImplementedError

    def start(self, service, token):
        """Bring ``service`` back as stop() found it."""
        raise NotImplementedError

    def wait(self, service, timeout, replicas=None, gone=None, endpoint=None):
        """Until the service is fully rolled out and ready (kubectl's rules on
        Kubernetes), ``gone`` replica names have disappeared and, when given,
        ``replicas`` are ready. ``endpoint()``, when given, says whether the
        service's own health endpoint answers UP (see ready_by_endpoint).
        Raises TimeoutError_ with the last state."""
        raise NotImplementedError

    def timeout_error(self, service, what, timeout, problems, state, log_lines=15):
        """The failure a wait ends with: the state and the last log lines."""
        from ansible_collections.quickbite.ops.plugins.module_utils.errors import TimeoutError_
        message = '%s did not %s within %d s: %s' % (service, what, timeout, '; '.join(problems))
        try:
            lines = [line for entry in self.logs(service, tail=log_lines) for line in entry['lines']][-log_lines:]
        except Exception as exc:  # evidence is best effort; the timeout stands
            lines = ['(logs unavailable: %s)' % exc]
        else:
            lines = self._masked(lines)
        if lines:
            message += '\nlast log lines of %s:\n  %s' % (service, '\n  '.join(lines))
        return TimeoutError_(message, state=state, last_log_lines=lines)

    def _masked(self, lines):
        """``lines`` with every value of the configuration's secret keys
        masked; withheld when the configuration cannot be read (never
        printed unmasked)."""
        from ansible_collections.quickbite.ops.plugins.module_utils import _mask
        from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError
        try:
            return _mask.from_adapter(self, _mask.DEFAULT_SECRET_KEYS, 'quickbite_secret_keys').lines(lines)
        except (QuickbiteError, NotImplementedError) as exc:
            return ['(%d log lines withheld: their secrets could not be masked: %s)'
                    % (len(lines), getattr(exc, 'msg', exc) or 'no configuration')]

    def container_resources(self, service, container=None):
        """Kubernetes only: (container, {requests, limits})."""
        from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
        raise ConfigError('vertical scaling (scale_resources) is for Kubernetes; on Compose set '
                          'deploy.resources in the compose file')

    def set_resources(self, service, container, resources):
        raise NotImplementedError

    def history(self, service):
        """Recorded revisions or images, oldest first."""
        raise NotImplementedError

    def rollback_target(self, service, to=None):
        """Where a rollback would go: {target, label, changes}; the same answer
        serves check mode and the real run."""
        raise NotImplementedError

    def rollback(self, service, target):
        """Go to a target returned by rollback_target."""
        raise NotImplementedError
