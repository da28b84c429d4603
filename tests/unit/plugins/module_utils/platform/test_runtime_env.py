"""Adapter.runtime_env and service_addresses below the adapters: the
kubelet's env rules on a pod (envFrom first, env after, secretKeyRef and
configMapKeyRef, optional sources, $(VAR)), the Services that reach a port,
and Compose's Config.Env and networks from a recorded inspect."""
import base64
from types import SimpleNamespace

import pytest
from kubernetes import client as k8s

from ansible_collections.quickbite.ops.plugins.module_utils.errors import NotFoundError
from ansible_collections.quickbite.ops.plugins.module_utils.platform import _compose_runtime, _k8s_runtime


def _b64(text):
    return base64.b64encode(text.encode()).decode()


class _Core(object):
    secrets = {'quickbite-secrets': {'DB_PASSWORD': 'pw-0123456789', 'DB_USER': 'quickbite'}}
    maps = {'db': {'DB_HOST': 'postgres', 'DB_PORT': '5432'}}

    def read_namespaced_secret(self, name, namespace):
        if name not in self.secrets:
            raise NotFoundError('secret %s not found' % name)
        return k8s.V1Secret(data=dict((k, _b64(v)) for k, v in self.secrets[name].items()))

    def read_namespaced_config_map(self, name, namespace):
        if name not in self.maps:
            raise NotFoundError('configmap %s not found' % name)
        return k8s.V1ConfigMap(data=dict(self.maps[name]))

    def list_namespaced_service(self, namespace):
        return k8s.V1ServiceList(items=[
            k8s.V1Service(metadata=k8s.V1ObjectMeta(name='postgres'), spec=k8s.V1ServiceSpec(
                selector={'app': 'postgres'}, ports=[k8s.V1ServicePort(port=5432, target_port='pg')])),
            k8s.V1Service(metadata=k8s.V1ObjectMeta(name='pg-alt'), spec=k8s.V1ServiceSpec(
                selector={'app': 'postgres'}, ports=[k8s.V1ServicePort(port=15432, target_port=5432)])),
            k8s.V1Service(metadata=k8s.V1ObjectMeta(name='redis'), spec=k8s.V1ServiceSpec(
                selector={'app': 'redis'}, ports=[k8s.V1ServicePort(port=5432, target_port=5432)])),
        ])


def _adapter(container, pod_ip='10.0.0.7'):
    pod = k8s.V1Pod(metadata=k8s.V1ObjectMeta(name='app-1', namespace='quickbite'),
                    spec=k8s.V1PodSpec(containers=[container]),
                    status=k8s.V1PodStatus(phase='Running', pod_ip=pod_ip))
    template = k8s.V1PodTemplateSpec(metadata=k8s.V1ObjectMeta(labels={'app': 'postgres'}),
                                     spec=k8s.V1PodSpec(containers=[container]))
    workload = SimpleNamespace(spec=SimpleNamespace(selector=k8s.V1LabelSelector(match_labels={'app': 'postgres'}),
                                                    template=template))
    ref = SimpleNamespace(container=None, service='backend', name='quickbite-backend')
    return SimpleNamespace(
        _ref=lambda service: ref, workloads=SimpleNamespace(read=lambda r: workload), pods=lambda selector: [pod],
        namespace='quickbite', client=SimpleNamespace(core=_Core(), call=lambda what, func, *a, **kw: func(*a, **kw)))


def test_pod_env_as_the_kubelet_builds_it():
    container = k8s.V1Container(name='backend', env_from=[
        k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name='quickbite-secrets')),
        k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name='db'), prefix='X_'),
        k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name='absent', optional=True)),
    ], env=[
        k8s.V1EnvVar(name='DB_HOST', value_from=k8s.V1EnvVarSource(
            config_map_key_ref=k8s.V1ConfigMapKeySelector(name='db', key='DB_HOST'))),
        k8s.V1EnvVar(name='SPRING_DATASOURCE_URL', value='jdbc:postgresql://$(DB_HOST):$(X_DB_PORT)/$(NOPE)$$'),
        k8s.V1EnvVar(name='POD', value_from=k8s.V1EnvVarSource(field_ref=k8s.V1ObjectFieldSelector(
            field_path='metadata.name'))),
    ])
    found = _k8s_runtime.runtime_env(_adapter(container), 'backend')
    assert found['replica'] == 'app-1/backend'
    assert found['env'] == {'DB_PASSWORD': 'pw-0123456789', 'DB_USER': 'quickbite', 'X_DB_HOST': 'postgres',
                            'X_DB_PORT': '5432', 'DB_HOST': 'postgres', 'POD': 'app-1',
                            'SPRING_DATASOURCE_URL': 'jdbc:postgresql://postgres:5432/$(NOPE)$'}
    assert found['origins']['DB_PASSWORD'] == 'envFrom secret quickbite-secrets'
    assert found['origins']['DB_HOST'] == 'configMapKeyRef db/DB_HOST'
    assert found['origins']['POD'] == 'fieldRef metadata.name'


def test_a_missing_source_that_is_not_optional_is_an_error():
    container = k8s.V1Container(name='backend', env_from=[
        k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name='gone'))])
    with pytest.raises(NotFoundError):
        _k8s_runtime.runtime_env(_adapter(container), 'backend')


def test_services_that_select_the_pods_and_target_the_port():
    container = k8s.V1Container(name='postgres', ports=[k8s.V1ContainerPort(name='pg', container_port=5432)])
    found = _k8s_runtime.service_addresses(_adapter(container), 'postgres', 5432)
    assert found == [('pg-alt', 15432), ('pg-alt.quickbite', 15432), ('pg-alt.quickbite.svc', 15432),
                     ('pg-alt.quickbite.svc.cluster.local', 15432), ('postgres', 5432), ('postgres.quickbite', 5432),
                     ('postgres.quickbite.svc', 5432), ('postgres.quickbite.svc.cluster.local', 5432),
                     ('10.0.0.7', 5432)]


class _Reader(object):
    engine = None

    def __init__(self, containers):
        self.containers = containers

    def snapshot(self, names, detail=True, inspect=True):
        return SimpleNamespace(of=lambda service: [SimpleNamespace(id=c['Id']) for c in self.containers])


class _CLI(object):
    def __init__(self, containers):
        self.containers = containers

    def docker_run(self, args, check=True):
        import json
        return 0, '\n'.join(json.dumps(c) for c in self.containers), ''


def _container(cid, name, running, created, env, mode='quickbite_default', networks=None):
    state = {'Status': 'running' if running else 'exited', 'Running': running}
    return {'Id': cid, 'Name': '/' + name, 'Created': created, 'State': state,
            'Config': {'Env': env}, 'HostConfig': {'NetworkMode': mode},
            'NetworkSettings': {'Networks': networks or {}, 'Ports': {}}}


def test_compose_env_of_the_running_container_and_its_names():
    containers = [
        _container('a', 'quickbite-backend-1', False, '2026-11-30T10:00:00Z', ['DB_PORT=1']),
        _container('b', 'quickbite-backend-2', True, '2026-11-30T09:00:00Z', ['DB_PORT=15432', 'EMPTY=', 'JUNK'],
                   networks={'quickbite_default': {'Aliases': ['backend', 'b0123'], 'IPAddress': '172.18.0.4'}}),
    ]
    found = _compose_runtime.runtime_env(_Reader(containers), _CLI(containers), 'backend')
    assert found['replica'] == 'quickbite-backend-2' and found['env'] == {'DB_PORT': '15432', 'EMPTY': ''}
    names = _compose_runtime.service_addresses(_Reader(containers[1:]), _CLI(containers[1:]), 'backend', 8080)
    assert names == [('quickbite-backend-2', 8080), ('backend', 8080), ('b0123', 8080), ('172.18.0.4', 8080)]


def test_compose_host_network_is_reached_on_loopback():
    containers = [_container('p', 'quickbite-postgres-1', True, 'x', [], mode='host')]
    found = _compose_runtime.service_addresses(_Reader(containers), _CLI(containers), 'postgres', 15432)
    assert found == [('127.0.0.1', 15432), ('localhost', 15432), ('::1', 15432)]
