"""coordination.k8s.io/v1 Leases in the emulator (issue 12 item 8): CRUD through
the real ``kubernetes`` client, resourceVersion preconditions on update,
replace and delete (409 Conflict as the API server words it), and the race of
two holders taking one Lease over."""

import datetime
import json
import threading

import pytest

kubernetes = pytest.importorskip('kubernetes')
from kubernetes import client, config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from k8s_emulator import EmulatorThread  # noqa: E402
from k8s_emulator import kubectl as kubectl_bin  # noqa: E402

pytestmark = [pytest.mark.k8s]

NS = 'quickbite'
KUBECTLS = kubectl_bin.kubectls()


@pytest.fixture(scope='module')
def k8s(tmp_path_factory):
    with EmulatorThread(pod_start_delay=0.05, tick=0.05) as k:
        k.kubeconfig = k.write_kubeconfig(tmp_path_factory.mktemp('kube') / 'config')
        yield k


@pytest.fixture
def coord(k8s):
    k8s.emulator.reset()
    api_client = config.new_client_from_config(config_file=str(k8s.kubeconfig))
    yield client.CoordinationV1Api(api_client)
    api_client.close()


def micro_now():
    return datetime.datetime.now(datetime.timezone.utc)


def lease(holder, name='quickbite-ops-lock', rv=None):
    now = micro_now()
    return client.V1Lease(metadata=client.V1ObjectMeta(name=name, resource_version=rv), spec=client.V1LeaseSpec(
        holder_identity=holder, lease_duration_seconds=15, acquire_time=now, renew_time=now, lease_transitions=0))


def test_crud_and_microtime_round_trip(coord):
    created = coord.create_namespaced_lease(NS, lease('run-a'))
    assert created.spec.holder_identity == 'run-a' and created.metadata.resource_version
    with pytest.raises(ApiException) as exc:
        coord.create_namespaced_lease(NS, lease('run-b'))
    assert exc.value.status == 409 and json.loads(exc.value.body)['reason'] == 'AlreadyExists'
    got = coord.read_namespaced_lease('quickbite-ops-lock', NS)
    assert got.spec.renew_time == created.spec.renew_time and got.spec.lease_duration_seconds == 15
    assert [x.metadata.name for x in coord.list_namespaced_lease(NS).items] == ['quickbite-ops-lock']
    renewed = coord.patch_namespaced_lease('quickbite-ops-lock', NS, {'spec': {'renewTime': micro_now().isoformat()}})
    assert int(renewed.metadata.resource_version) > int(created.metadata.resource_version)
    coord.delete_namespaced_lease('quickbite-ops-lock', NS)
    with pytest.raises(ApiException) as exc:
        coord.read_namespaced_lease('quickbite-ops-lock', NS)
    assert exc.value.status == 404
    assert json.loads(exc.value.body)['message'] == 'leases.coordination.k8s.io "quickbite-ops-lock" not found'


def test_replace_with_a_stale_resource_version_conflicts(coord):
    first = coord.create_namespaced_lease(NS, lease('run-a'))
    coord.replace_namespaced_lease('quickbite-ops-lock', NS, lease('run-a', rv=first.metadata.resource_version))
    with pytest.raises(ApiException) as exc:
        coord.replace_namespaced_lease('quickbite-ops-lock', NS, lease('run-b', rv=first.metadata.resource_version))
    body = json.loads(exc.value.body)
    assert exc.value.status == 409 and body['reason'] == 'Conflict'
    assert body['message'] == ('Operation cannot be fulfilled on leases.coordination.k8s.io "quickbite-ops-lock": '
                               'the object has been modified; please apply your changes to the latest version '
                               'and try again')
    assert coord.read_namespaced_lease('quickbite-ops-lock', NS).spec.holder_identity == 'run-a'


def test_delete_with_preconditions(coord):
    first = coord.create_namespaced_lease(NS, lease('run-a'))
    second = coord.patch_namespaced_lease('quickbite-ops-lock', NS, {'spec': {'leaseTransitions': 1}})
    stale = client.V1DeleteOptions(preconditions=client.V1Preconditions(
        resource_version=first.metadata.resource_version))
    with pytest.raises(ApiException) as exc:
        coord.delete_namespaced_lease('quickbite-ops-lock', NS, body=stale)
    body = json.loads(exc.value.body)
    assert exc.value.status == 409 and body['reason'] == 'Conflict'
    assert body['message'] == (
        'Operation cannot be fulfilled on leases.coordination.k8s.io "quickbite-ops-lock": Precondition failed: '
        'ResourceVersion in precondition: %s, ResourceVersion in object meta: %s'
        % (first.metadata.resource_version, second.metadata.resource_version))
    wrong_uid = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid='00000000-0000-0000-0000-000000000000'))
    with pytest.raises(ApiException) as exc:
        coord.delete_namespaced_lease('quickbite-ops-lock', NS, body=wrong_uid)
    assert exc.value.status == 409 and 'Precondition failed: UID in precondition' in json.loads(exc.value.body)['message']
    current = client.V1DeleteOptions(preconditions=client.V1Preconditions(
        resource_version=second.metadata.resource_version, uid=second.metadata.uid))
    coord.delete_namespaced_lease('quickbite-ops-lock', NS, body=current)
    assert coord.list_namespaced_lease(NS).items == []


def test_validation(coord):
    bad = lease('run-a')
    bad.spec.lease_duration_seconds = 0
    with pytest.raises(ApiException) as exc:
        coord.create_namespaced_lease(NS, bad)
    assert exc.value.status == 422
    assert json.loads(exc.value.body)['message'] == ('Lease.coordination.k8s.io "quickbite-ops-lock" is invalid: '
                                                     'spec.leaseDurationSeconds: Invalid value: 0: must be greater '
                                                     'than 0')


def test_takeover_race_has_one_winner(coord):
    """Many runs read the same expired Lease and replace it with its resourceVersion: one wins, the rest get 409."""
    expired = coord.create_namespaced_lease(NS, lease('crashed-run'))
    results = {}
    barrier = threading.Barrier(8)

    def take(i):
        barrier.wait()
        try:
            mine = lease('run-%d' % i, rv=expired.metadata.resource_version)
            coord.replace_namespaced_lease('quickbite-ops-lock', NS, mine)
            results[i] = 'won'
        except ApiException as exc:
            results[i] = exc.status

    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    winners = [i for i, r in results.items() if r == 'won']
    assert len(winners) == 1 and sorted(r for r in results.values() if r != 'won') == [409] * 7
    assert coord.read_namespaced_lease('quickbite-ops-lock', NS).spec.holder_identity == 'run-%d' % winners[0]


@pytest.mark.skipif(not KUBECTLS, reason='no kubectl found')
@pytest.mark.parametrize('version', sorted(KUBECTLS))
def test_kubectl_sees_leases(k8s, coord, version):
    coord.create_namespaced_lease(NS, lease('run-a'))
    proc = kubectl_bin.run(KUBECTLS[version], k8s.kubeconfig, 'get', 'leases', '-o', 'jsonpath={.items[*].spec.holderIdentity}')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == 'run-a'
    proc = kubectl_bin.run(KUBECTLS[version], k8s.kubeconfig, 'api-resources', '--api-group=coordination.k8s.io')
    assert proc.returncode == 0 and 'leases' in proc.stdout
