"""The seeded ``quickbite`` namespace: what a healthy production install looks like."""

SECRET = 'quickbite-secrets'


def _secret_env(*pairs):
    return [{'name': name, 'valueFrom': {'secretKeyRef': {'name': SECRET, 'key': key}}} for name, key in pairs]


def _deployment(name, replicas, container, extra_labels=None, strategy=None):
    labels = {'app': name}
    labels.update(extra_labels or {})
    return {
        'metadata': {'name': name, 'labels': dict(labels, **{'app.kubernetes.io/part-of': 'quickbite'})},
        'spec': {
            'replicas': replicas,
            'selector': {'matchLabels': {'app': name}},
            'strategy': strategy or {'type': 'RollingUpdate',
                                     'rollingUpdate': {'maxSurge': 1, 'maxUnavailable': 0}},
            'progressDeadlineSeconds': 600,
            'revisionHistoryLimit': 10,
            'template': {'metadata': {'labels': labels}, 'spec': {'containers': [container]}},
        },
    }


def seed_deployments():
    backend = {
        'name': 'backend', 'image': 'quickbite/backend:1.0',
        'ports': [{'name': 'http', 'containerPort': 8080}],
        'envFrom': [{'secretRef': {'name': SECRET}}],
        'env': [{'name': 'SPRING_PROFILES_ACTIVE', 'value': 'prod'},
                {'name': 'DB_HOST', 'value': 'postgres'},
                {'name': 'REDIS_HOST', 'value': 'redis'}],
        'resources': {'requests': {'cpu': '250m', 'memory': '512Mi'},
                      'limits': {'cpu': '1', 'memory': '1Gi'}},
        'readinessProbe': {'httpGet': {'path': '/actuator/health/readiness', 'port': 8080},
                           'initialDelaySeconds': 10, 'periodSeconds': 5},
        'livenessProbe': {'httpGet': {'path': '/actuator/health/liveness', 'port': 8080},
                          'initialDelaySeconds': 30, 'periodSeconds': 10},
    }
    frontend = {
        'name': 'frontend', 'image': 'quickbite/frontend:1.0',
        'ports': [{'name': 'http', 'containerPort': 80}],
        'resources': {'requests': {'cpu': '50m', 'memory': '64Mi'},
                      'limits': {'cpu': '200m', 'memory': '128Mi'}},
        'readinessProbe': {'httpGet': {'path': '/', 'port': 80}, 'periodSeconds': 5},
    }
    postgres = {
        'name': 'postgres', 'image': 'postgres:15',
        'ports': [{'name': 'postgres', 'containerPort': 5432}],
        'env': _secret_env(('POSTGRES_PASSWORD', 'POSTGRES_PASSWORD'), ('POSTGRES_USER', 'DB_USER'),
                           ('POSTGRES_DB', 'DB_NAME')),
        'resources': {'requests': {'cpu': '250m', 'memory': '256Mi'},
                      'limits': {'cpu': '1', 'memory': '1Gi'}},
        'readinessProbe': {'exec': {'command': ['pg_isready', '-U', 'quickbite']}, 'periodSeconds': 5},
        'volumeMounts': [{'name': 'data', 'mountPath': '/var/lib/postgresql/data'}],
    }
    redis = {
        'name': 'redis', 'image': 'redis:7',
        'args': ['--requirepass', '$(REDIS_PASSWORD)'],
        'ports': [{'name': 'redis', 'containerPort': 6379}],
        'env': _secret_env(('REDIS_PASSWORD', 'REDIS_PASSWORD')),
        'resources': {'requests': {'cpu': '50m', 'memory': '64Mi'},
                      'limits': {'cpu': '250m', 'memory': '256Mi'}},
        'readinessProbe': {'exec': {'command': ['redis-cli', 'ping']}, 'periodSeconds': 5},
    }
    pg = _deployment('postgres', 1, postgres, strategy={'type': 'Recreate'})
    pg['spec']['template']['spec']['volumes'] = [{'name': 'data', 'emptyDir': {}}]
    return [
        _deployment('quickbite-backend', 3, backend, {'tier': 'backend'}),
        _deployment('quickbite-frontend', 2, frontend, {'tier': 'frontend'}),
        pg,
        _deployment('redis', 1, redis),
    ]


SIDECAR = {'name': 'log-shipper', 'image': 'fluent/fluent-bit:3.1',
           'resources': {'requests': {'cpu': '10m', 'memory': '16Mi'}, 'limits': {'cpu': '100m', 'memory': '64Mi'}}}


def _sidecar(value):
    """A sidecar container from an option value: True/None (the default log shipper), a name, or a dict
    (``first: True`` puts it before the main container, as some injectors do)."""
    if value in (None, True):
        return dict(SIDECAR), False
    if isinstance(value, str):
        return dict(SIDECAR, name=value), False
    value = dict(value)
    first = bool(value.pop('first', False))
    return dict(SIDECAR, **value), first


def as_statefulset(deployment):
    """The same workload as a StatefulSet (serviceName = its name, OrderedReady, RollingUpdate)."""
    spec = deployment['spec']
    return {'metadata': deployment['metadata'], 'spec': {
        'replicas': spec['replicas'], 'serviceName': deployment['metadata']['name'],
        'selector': spec['selector'], 'template': spec['template'],
        'podManagementPolicy': 'OrderedReady', 'revisionHistoryLimit': spec.get('revisionHistoryLimit', 10),
        'updateStrategy': {'type': 'RollingUpdate', 'rollingUpdate': {'partition': 0}}}}


def seed_workloads(statefulsets=(), sidecars=None):
    """[(plural, body)]: the seed Deployments, those named in ``statefulsets`` as StatefulSets, with the
    sidecars of ``sidecars`` ({workload: True | name | container dict}, or a list of workload names)."""
    if sidecars is not None and not isinstance(sidecars, dict):
        sidecars = {name: True for name in sidecars}
    out = []
    for body in seed_deployments():
        name = body['metadata']['name']
        if sidecars and name in sidecars:
            container, first = _sidecar(sidecars[name])
            containers = body['spec']['template']['spec']['containers']
            containers.insert(0 if first else len(containers), container)
        out.append(('statefulsets', as_statefulset(body)) if name in statefulsets else ('deployments', body))
    unknown = set(statefulsets or ()) | set(sidecars or ())
    unknown -= {b['metadata']['name'] for b in seed_deployments()}
    if unknown:
        raise ValueError('no seed workload named %s' % ', '.join(sorted(unknown)))
    return out
