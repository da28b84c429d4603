"""_time.epoch, the one parser of the times the Engine, Kubernetes and its
client write (incident evidence, deploy recency, Lease expiry)."""
import datetime

from ansible_collections.quickbite.ops.plugins.module_utils._time import epoch


def test_docker_times_with_nanoseconds_and_offsets():
    assert epoch('1970-01-01T00:00:01.250000000Z') == 1.25
    assert epoch('1970-01-01T01:00:00+01:00') == 0 and epoch('1970-01-01T00:00:00-0130') == 5400
    assert epoch('0001-01-01T00:00:00Z') < 0  # the Engine's "never"


def test_kubernetes_and_client_times():
    assert epoch('2026-11-30T10:00:00Z') == epoch('2026-11-30 10:00:00+00:00') == 1796032800
    assert epoch('2026-11-30T10:00:00.500000Z') == 1796032800.5  # a MicroTime, as client-go writes renewTime
    aware = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone.utc)
    assert epoch(aware) == 1796032800
    assert epoch('2026-11-30T10:00:00') == 1796032800  # no zone: UTC


def test_nothing_or_not_a_time_is_none():
    assert epoch(None) is None and epoch('') is None and epoch('yesterday') is None
    assert epoch('2026-13-40T10:00:00Z') is None
