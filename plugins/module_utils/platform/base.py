# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one interface every procedure talks to; compose.py and kubernetes.py
implement it, and a fake in a test learns its duties here. Nothing outside
platform/ asks which platform it is on: what differs is a capability the
adapter declares (tests/unit/test_platform_boundary.py greps for platform
checks elsewhere).

State is returned as plain dicts so it goes straight into module results:

service = {name, workload, desired, replicas: [replica], ok, problems: [str]}
replica = {name, state, ready, health, restart_count, image, exit_code,
           reason, terminating}
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import abc

from ansible_collections.quickbite.ops.plugins.module_utils import _mask
from ansible_collections.quickbite.ops.plugins.module_utils.errors import (
    ConfigError, PlatformError, QuickbiteError, TimeoutError_)

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


class StateStore(metaclass=abc.ABCMeta):
    """Small persistent state of a procedure that must survive being killed
    (a pending rotation, a restore's steps): JSON documents by name, kept on
    the target itself so the next run, from any controller, finds them.

    Compose: ``<project_dir>/.quickbite-ops/<name>.pending.json``, mode 0600,
    written atomically through _safefs (_locks.FileStore).
    Kubernetes: key ``<name>`` (lower case, ``_`` as ``-``) of Secret
    ``quickbite-ops-state`` in the namespace, as protected as the
    application Secret (_locks.SecretStore)."""

    @abc.abstractmethod
    def load(self, name):
        """The document saved under ``name``, or None when there is none."""

    @abc.abstractmethod
    def save(self, name, data):
        """Keep ``data`` (JSON-serialisable) under ``name``, replacing what was there."""

    @abc.abstractmethod
    def delete(self, name):
        """Forget ``name``; nothing happens when it is absent."""


class Adapter(metaclass=abc.ABCMeta):
    """What a procedure may ask of a platform.

    Capabilities (class attributes each platform declares) say what differs;
    a procedure reads them instead of asking which platform it is on.
    Changes return what they found before acting, so results can name both
    sides ("revision 3 -> 4", "image a -> b"); none of them waits: wait() does.
    """

    # ------------------------------------------------------------ capabilities

    @property
    @abc.abstractmethod
    def platform(self):
        """The platform's name as the operator set it (quickbite_platform),
        for results and messages only: never compared outside platform/."""

    @property
    @abc.abstractmethod
    def rolling_restart(self):
        """True: restart() replaces the replicas one by one through the pod
        template (Kubernetes), so ``recreate`` makes no difference. False:
        restart() restarts the containers in place, or recreates them with
        ``recreate`` (Compose)."""

    @property
    @abc.abstractmethod
    def restarts_whole_stack(self):
        """True: restart_stack() takes the whole target down and up in one
        step (Compose ``down`` then ``up -d``). False: a whole-stack restart
        is a restart() of every service (Kubernetes rolls every Deployment)."""

    @property
    @abc.abstractmethod
    def has_rollout_history(self):
        """True: workload() reports a revision number that every change
        advances, and history() lists the revisions kept (Kubernetes).
        False: history() lists the images the collection recorded (Compose)."""

    @property
    @abc.abstractmethod
    def pins_images(self):
        """True: rollback() pins the service to an image (a Compose override
        file) and unpin() lets it follow its configuration again. False: a
        rollback is a new revision, there is nothing to unpin."""

    @property
    @abc.abstractmethod
    def has_previous_log(self):
        """True: logs(previous=True) returns the output of the container
        before its last restart (Kubernetes). False: a restarted container
        keeps its earlier output in the same log (Compose), ``previous`` adds
        nothing."""

    @property
    @abc.abstractmethod
    def has_label_selectors(self):
        """True: logs(selector=...) picks pods by a label selector
        (Kubernetes). False: logs are picked by service only (Compose)."""

    @property
    @abc.abstractmethod
    def target_kind(self):
        """What target_name() is, for messages: ``project name`` (Compose),
        ``namespace`` (Kubernetes)."""

    @property
    @abc.abstractmethod
    def has_ingress(self):
        """True: requests reach the frontend through Ingress objects
        (networking.k8s.io/v1) whose ingress-nginx annotations set the proxy
        timeouts: ingresses() lists them and set_ingress_annotations()
        changes them (Kubernetes). False: the frontend's own nginx is the
        edge, configured by a file of the deployment (Compose); there is no
        Ingress to list or patch."""

    # True: the platform keeps alerting rules as one of its objects
    # (Kubernetes: a PrometheusRule the Prometheus Operator loads), through
    # read_alert_rules()/write_alert_rules(). False (the default): rules are a
    # file on the host Prometheus runs on (Compose), which the monitoring
    # module writes itself.
    stores_alert_rules = False
    # True: the platform keeps the Alertmanager routing as one of its objects
    # (Kubernetes: an AlertmanagerConfig the Prometheus Operator merges into
    # Alertmanager's configuration), through read_alert_routing()/
    # write_alert_routing(). False: alertmanager.yml is a file on the host
    # Alertmanager runs on (Compose), which the monitoring module writes itself.
    stores_alert_routing = False

    # ------------------------------------------------------------ the target

    @abc.abstractmethod
    def describe(self):
        """Short human description of the target, for messages."""

    @abc.abstractmethod
    def target_name(self):
        """The name an operator types to confirm an action on the whole
        target: the Compose project name, the Kubernetes namespace."""

    @abc.abstractmethod
    def stack_restart_effect(self):
        """What a whole-stack restart does to the target, for the refusal
        that asks for its confirmation (e.g. ``restarts every Deployment of
        namespace quickbite``)."""

    @abc.abstractmethod
    def lock(self, procedure, ttl=3600):
        """The target's one lock, a context manager re-entrant within one
        process; every procedure that changes the target holds it
        (_locks.target_lock). A second run is refused with LockedError naming
        the holder and ``procedure``. Compose: an flock on
        ``<project_dir>/.quickbite-ops/target.lock`` the kernel frees when the
        holder dies (``ttl`` unused); Kubernetes: a coordination.k8s.io/v1
        Lease ``quickbite-ops-lock`` renewed while held, taken over once
        ``ttl`` seconds pass without renewal (_locks.LeaseLock)."""

    @abc.abstractmethod
    def store(self):
        """The target's StateStore (where each platform keeps it: see StateStore)."""

    def read_alert_rules(self, name):
        """The rule groups of the platform's alerting-rules object ``name``,
        None when there is none (only where stores_alert_rules)."""
        raise NotImplementedError('%s keeps no alerting rules of its own' % self.describe())

    def write_alert_rules(self, name, groups, labels):
        """Create or replace the alerting-rules object ``name`` with ``groups``,
        labelled ``labels`` (only where stores_alert_rules)."""
        raise NotImplementedError('%s keeps no alerting rules of its own' % self.describe())

    @abc.abstractmethod
    def read_alert_routing(self, name):
        """The spec of the platform's Alertmanager routing object ``name``, None
        when there is none; a platform without one (stores_alert_routing
        false) raises ConfigError."""

    @abc.abstractmethod
    def write_alert_routing(self, name, spec, labels):
        """Create or replace the routing object ``name`` with ``spec``, labelled
        ``labels``; a platform without one raises ConfigError."""

    # ------------------------------------------------------------ reading

    @abc.abstractmethod
    def service_names(self):
        """Every service this platform knows, in a stable order."""

    @abc.abstractmethod
    def services(self, names=None, detail=True):
        """State of the named services (all known services when None);
        ``detail=False`` lets an adapter skip what a healthy replica does not need."""

    @abc.abstractmethod
    def workload(self, service):
        """{service, image, image_id, revision, replicas, ready, pinned,
        config_changed} now; ``revision`` is None without rollout history,
        ``config_changed`` says whether a recreate would change the containers."""

    def deployment_name(self, service):
        """The name of the workload that runs ``service`` (a Kubernetes
        Deployment, which quickbite_k8s_deployments may map); where each
        service is its own workload, the service's name."""
        return service

    @abc.abstractmethod
    def logs(self, service, tail=100, since=None, previous=False, selector=None):
        """Recent log lines: [{source, lines, note?}] with one entry per
        container or pod. ``previous`` and ``selector`` are honoured where
        has_previous_log and has_label_selectors say so."""

    @abc.abstractmethod
    def history(self, service):
        """Recorded revisions (has_rollout_history) or images, oldest first."""

    def incident_state(self, names=None):
        """What an incident report needs about the named services (all when
        None): {services: [{name, ok, problems, replicas: [{name, state,
        restart_count, exit_code, oom_killed, last_reason, started, image}]}],
        events: [{object, reason, message, count, last}]}. ``oom_killed`` is
        None where the platform cannot tell; ``events`` lists the platform's
        recent warnings where it keeps them (Kubernetes Warning events).
        By default built from services(), without OOM verdicts or events."""
        services = []
        for state in self.services(names):
            replicas = [dict(name=r['name'], state=r['state'], restart_count=r['restart_count'],
                             exit_code=r['exit_code'], oom_killed=None, last_reason=r['reason'],
                             started=None, image=r['image']) for r in state['replicas']]
            services.append(dict(name=state['name'], ok=state['ok'], problems=state['problems'], replicas=replicas))
        return dict(services=services, events=[])

    @abc.abstractmethod
    def ingresses(self):
        """Every Ingress of the target: [{name, annotations: {key: value},
        paths: [{host, path, service, port}]}] sorted by name; [] where
        has_ingress is false."""

    @abc.abstractmethod
    def runtime_env(self, service):
        """The environment ``service``'s running container or pod was started
        with, which may differ from the configuration (a change not yet
        applied): {replica, env: {name: value}, origins: {name: where the
        value came from}}; ``replica`` None and ``env`` empty when nothing of
        the service runs. Compose: the Engine's Config.Env of a running
        container; Kubernetes: the main container's env and envFrom of a
        Running pod, ConfigMap and Secret references and $(VAR) resolved.
        Values are secrets in general: callers mask them."""

    @abc.abstractmethod
    def service_addresses(self, service, port):
        """The (host, port) pairs under which the other services reach port
        ``port`` of ``service`` (where it listens inside its container or
        pod). Compose: loopback names with host networking, else the service
        name, aliases and container names on its networks; Kubernetes: every
        Service whose selector picks the workload's pods and whose targetPort
        is ``port`` (short and qualified names, the Service port), and the
        pods' own addresses."""

    # ------------------------------------------------------------ configuration

    @abc.abstractmethod
    def get_config(self, key):
        """Value of one configuration key (env file on Compose, Secret key on
        Kubernetes), or None when absent."""

    @abc.abstractmethod
    def config_items(self):
        """Every configuration key and its value: {key: value} (to mask the
        secrets among them in collected logs)."""

    @abc.abstractmethod
    def set_config(self, key, value):
        """Set one configuration key, every other key left as it is."""

    def check_config(self, key, value):
        """Raise ConfigError when set_config(key, value) would be refused (or
        would not read back as ``value``); changes nothing. By default there
        is nothing to refuse (a Kubernetes Secret key takes any string)."""

    def config_snapshot(self, keys):
        """What restore_config() needs to put ``keys`` back exactly as they are
        now; JSON-serialisable (kept in the pending state of a rotation)."""
        return dict((key, self.get_config(key)) for key in keys)

    def restore_config(self, snapshot):
        """Put back what config_snapshot() saw (an absent key comes back empty)."""
        for key, value in sorted(snapshot.items()):
            self.set_config(key, value if value is not None else '')

    # ------------------------------------------------------------ changes

    @abc.abstractmethod
    def restart(self, service, recreate=False):
        """Compose: every container of the service restarted in place (the
        Engine's restart call, or ``compose restart`` when lifecycle hooks or
        a remote daemon need the CLI) or, with ``recreate``, ``up -d
        --no-deps --force-recreate`` at the current scale; Kubernetes: a
        rolling restart through the pod template (see rolling_restart).
        Records what ran before (Compose image history) and returns
        workload() as it was; does not wait."""

    def check_restart(self, service):
        """Raise ConfigError when restart(service) would be refused (Kubernetes:
        a paused Deployment, an OnDelete StatefulSet), so check mode predicts
        the refusal; changes nothing. By default there is nothing to refuse."""

    def restart_stack(self):
        """Restart the whole target in one step (restarts_whole_stack; Compose:
        ``down`` then ``up -d``); returns {service: workload before}. A
        platform without it restarts every service with restart() instead."""
        raise PlatformError('%s has no one-step stack restart (restarts_whole_stack is false); restart its '
                            'services one by one' % self.describe())

    @abc.abstractmethod
    def set_ingress_annotations(self, name, annotations):
        """Set ``annotations`` ({key: value}) on Ingress ``name``, every other
        annotation and the rules left as they are (a merge patch); returns
        the annotations it had before. A platform without Ingress
        (has_ingress false) refuses with PlatformError."""

    @abc.abstractmethod
    def delete_replica(self, name):
        """Force-kill one container or pod and let it be replaced; returns its
        service and the names a wait must see disappear."""

    @abc.abstractmethod
    def scale(self, service, replicas):
        """Run ``replicas`` replicas of ``service``; returns workload() as it was."""

    @abc.abstractmethod
    def stop(self, service):
        """Stop every replica of ``service`` (the writers, before a restore):
        Compose ``stop``, Kubernetes scale to 0. Returns the token start() needs."""

    @abc.abstractmethod
    def start(self, service, token):
        """Bring ``service`` back as stop() found it."""

    @abc.abstractmethod
    def exec_spawn(self, service, user=None):
        """spawn(argv, stdin, stdout, stderr, env=None) -> Popen-like, running
        commands inside ``service``'s container (Compose: ``exec -T``) or pod
        (Kubernetes: the API server's exec)."""

    @abc.abstractmethod
    def rollback_target(self, service, to=None):
        """Where a rollback would go: {target, label, changes}; the same answer
        serves check mode and the real run."""

    @abc.abstractmethod
    def rollback(self, service, target):
        """Go to a target returned by rollback_target."""

    def unpin(self, service):
        """Undo a rollback's pin (pins_images): the service follows its
        configuration again; returns workload() as it was."""
        raise PlatformError('%s pins no images (pins_images is false): there is nothing to unpin; roll back '
                            'to a revision instead' % self.describe())

    def container_resources(self, service, container=None):
        """(container, {requests, limits}) of the workload's pod template, for
        vertical scaling; a platform without one (Compose) refuses."""
        raise _no_vertical_scaling()

    def set_resources(self, service, container, resources):
        """Set one container's requests and limits; returns workload() as it was."""
        raise _no_vertical_scaling()

    @abc.abstractmethod
    def wait(self, service, timeout, replicas=None, gone=None, endpoint=None):
        """Until the service is fully rolled out and ready (kubectl's rules on
        Kubernetes), ``gone`` replica names have disappeared and, when given,
        ``replicas`` are ready. ``endpoint()``, when given, says whether the
        service's own health endpoint answers UP (see ready_by_endpoint).
        Raises TimeoutError_ with the last state (timeout_error)."""

    def timeout_error(self, service, what, timeout, problems, state, log_lines=15):
        """The failure a wait ends with: the state and the last log lines."""
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
        try:
            return _mask.from_adapter(self, _mask.DEFAULT_SECRET_KEYS, 'quickbite_secret_keys').lines(lines)
        except (QuickbiteError, NotImplementedError) as exc:
            return ['(%d log lines withheld: their secrets could not be masked: %s)'
                    % (len(lines), getattr(exc, 'msg', exc) or 'no configuration')]


def _no_vertical_scaling():
    return ConfigError('vertical scaling (scale_resources) is for Kubernetes; on Compose set '
                       'deploy.resources in the compose file')
