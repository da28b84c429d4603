"""The Kubernetes target lock (_locks.LeaseLock, issue 12 item 8) against the
emulator's coordination.k8s.io/v1 Leases: one holder per namespace, the holder
named in a refusal, re-entrant within one process, renewed while held, taken
over once expired (conditioned on the version read), two takers racing for it
have one winner, and a run whose Lease was taken over cannot release it.
(Moved here from the unit test of the ConfigMap lock it replaces.)"""
import json
import threading
import time

import pytest

pytest.importorskip('kubernetes')

from ansible_collections.quickbite.ops.plugins.module_utils.platform import _locks  # noqa: E402
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_client import K8sClient  # noqa: E402
from k8s_defaults import emulator as role_emulator  # noqa: E402

pytestmark = [pytest.mark.k8s]

NS = 'quickbite'


@pytest.fixture(scope='module')
def emulator(tmp_path_factory):
    with role_emulator(tmp_path_factory, pod_start_delay=0.05) as k:  # the locks take the Role's token
        yield k


@pytest.fixture
def client(emulator):
    emulator.emulator.reset()
    return K8sClient(emulator.kubeconfig, None, NS)


@pytest.fixture
def admin(emulator):
    """For what the Role does not grant (listing Leases) and for planting another run's:
    the library's generated CoordinationV1Api, beside the adapter's own requests."""
    from kubernetes import client as k8s_client
    admin = K8sClient(emulator.admin_kubeconfig, None, NS)
    admin.coordination = k8s_client.CoordinationV1Api(admin.api_client)
    return admin


def _lease(client):
    return client.coordination.read_namespaced_lease(_locks.LEASE_LOCK, NS)


def _plant(client, holder, renewed, duration=60, identity='other/7/abc'):
    """Another run's Lease, last renewed at ``renewed`` (epoch)."""
    body = {'metadata': {'name': _locks.LEASE_LOCK, 'annotations': {_locks.HOLDER_ANNOTATION: json.dumps(holder)}},
            'spec': {'holderIdentity': identity, 'leaseDurationSeconds': duration, 'leaseTransitions': 0,
                     'acquireTime': _locks._micro_now(renewed), 'renewTime': _locks._micro_now(renewed)}}
    return client.coordination.create_namespaced_lease(NS, body)


def test_one_holder_named_reentrant_and_released(client, admin):
    with _locks.LeaseLock(client, NS, 'rotate JWT_SECRET', 60) as lock:
        with _locks.LeaseLock(client, NS, 'restart backend', 60):  # re-entrant
            lease = _lease(client)
            assert lease.spec.holder_identity == lock.identity and lease.spec.lease_duration_seconds == 60
            assert _locks.lease_holder(lease)['procedure'] == 'rotate JWT_SECRET'
    assert admin.coordination.list_namespaced_lease(NS).items == []


def test_a_live_holder_refuses_a_second_run_and_an_expired_one_is_taken_over(client, admin):
    _plant(admin, dict(procedure='scale backend', pid='7', host='other', since='x'), time.time())
    with pytest.raises(_locks.LockedError) as info:
        with _locks.LeaseLock(client, NS, 'restore database quickbite'):
            pass
    assert info.value.msg.startswith('refusing to restore database quickbite: another run holds lock '
                                     'quickbite-ops-lock in namespace quickbite: scale backend (pid 7 on other')
    assert _lease(client).spec.holder_identity == 'other/7/abc'
    # Expired (a killed holder stopped renewing): taken over, one more transition.
    client.coordination.delete_namespaced_lease(_locks.LEASE_LOCK, NS)
    _plant(admin, dict(procedure='scale backend', pid='7', host='other'), time.time() - 61)
    with _locks.LeaseLock(client, NS, 'restore database quickbite') as lock:
        lease = _lease(client)
        assert lease.spec.holder_identity == lock.identity and lease.spec.lease_transitions == 1
        assert _locks.lease_holder(lease)['procedure'] == 'restore database quickbite'
    assert admin.coordination.list_namespaced_lease(NS).items == []


def test_renewed_while_held(client):
    lock = _locks.LeaseLock(client, NS, 'rotate JWT_SECRET', duration=3)
    with lock:
        first = _lease(client)
        deadline = time.time() + 5
        while _lease(client).metadata.resource_version == first.metadata.resource_version:
            assert time.time() < deadline, 'the Lease was not renewed within its duration'
            time.sleep(0.1)
        later = _lease(client)
        assert later.spec.holder_identity == lock.identity
        assert _locks.lease_expiry(later) > _locks.lease_expiry(first) and lock.lost is None


@pytest.mark.parametrize('planted', [False, True], ids=['free', 'expired'])
def test_two_takers_one_wins(emulator, client, planted, admin):
    if planted:
        _plant(admin, dict(procedure='crashed run'), time.time() - 120)
    clients = [K8sClient(emulator.kubeconfig, None, NS), K8sClient(emulator.kubeconfig, None, NS)]
    locks = [_locks.LeaseLock(c, NS, 'run %d' % i) for i, c in enumerate(clients)]
    barrier, results = threading.Barrier(2), {}

    def take(i):
        barrier.wait()
        try:
            locks[i].acquire()
            results[i] = 'won'
        except _locks.LockedError as exc:
            results[i] = exc.msg

    threads = [threading.Thread(target=take, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    winners = [i for i, r in results.items() if r == 'won']
    assert len(winners) == 1, results
    loser = results[1 - winners[0]]
    assert 'another run holds lock quickbite-ops-lock in namespace quickbite: run %d' % winners[0] in loser
    assert _lease(client).spec.holder_identity == locks[winners[0]].identity
    locks[winners[0]].release()
    assert admin.coordination.list_namespaced_lease(NS).items == []


def test_release_by_the_wrong_holder_is_refused(client):
    """A run whose Lease expired and was taken over neither renews nor deletes the new holder's Lease."""
    first = _locks.LeaseLock(client, NS, 'rotate JWT_SECRET', duration=60)
    first.acquire()
    try:
        # Another run takes it over (as after an expiry): a PUT on the current version.
        lease = _lease(client)
        other = _locks.LeaseLock(client, NS, 'scale backend')
        client.coordination.replace_namespaced_lease(_locks.LEASE_LOCK, NS, other._body(lease))
        assert first.renew() is False and '409 Conflict' in first.lost
        with pytest.raises(_locks.LockedError) as info:
            first.release()
        assert info.value.msg.startswith('not releasing lock quickbite-ops-lock in namespace quickbite: it is held '
                                         'by scale backend')
        assert _lease(client).spec.holder_identity == other.identity
    finally:
        first._stop.set()
