"""base.Adapter is the whole interface (issue 11, item 1): both adapters and
the unit tests' fake implement every abstract method, declare the same
capabilities, and keep their state in a StateStore."""
import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.platform import _locks
from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import Adapter, StateStore
from ansible_collections.quickbite.ops.plugins.module_utils.platform.compose import ComposeAdapter
from ansible_collections.quickbite.ops.plugins.module_utils.platform.kubernetes import KubernetesAdapter
from tests.unit.fakes import COMPOSE, K8S, FakeAdapter, MemoryStore

CAPABILITIES = ('platform', 'rolling_restart', 'restarts_whole_stack', 'has_rollout_history', 'pins_images',
                'has_previous_log', 'has_label_selectors', 'target_kind', 'has_ingress')


def test_the_interface_itself_cannot_be_instantiated():
    with pytest.raises(TypeError):
        Adapter()  # pylint: disable=abstract-class-instantiated
    assert set(CAPABILITIES) <= Adapter.__abstractmethods__


@pytest.mark.parametrize('cls', [ComposeAdapter, KubernetesAdapter])
def test_each_adapter_implements_every_abstract_method(cls):
    assert cls.__abstractmethods__ == frozenset()


@pytest.mark.parametrize('capabilities', [COMPOSE, K8S])
def test_the_fake_is_instantiable_with_either_platforms_capabilities(capabilities):
    fake = FakeAdapter(**capabilities)
    assert [getattr(fake, name) for name in CAPABILITIES] == [capabilities[name] for name in CAPABILITIES]
    assert isinstance(fake.store(), StateStore)


@pytest.mark.parametrize('cls, capabilities', [(ComposeAdapter, COMPOSE), (KubernetesAdapter, K8S)])
def test_the_fakes_capabilities_are_the_real_ones(cls, capabilities):
    assert dict((n, getattr(cls, n)) for n in CAPABILITIES) == dict((n, capabilities[n]) for n in CAPABILITIES)


def test_the_whole_stack_wording_is_the_fakes():
    compose = ComposeAdapter.__new__(ComposeAdapter)
    compose.cli = type('Cli', (), dict(project_name=None, project_dir='/opt/quickbite/'))()
    assert compose.stack_restart_effect() == COMPOSE['effect'] % 'quickbite'
    k8s = KubernetesAdapter.__new__(KubernetesAdapter)
    k8s.namespace = 'quickbite'
    assert k8s.stack_restart_effect() == K8S['effect'] % 'quickbite'


def test_only_compose_restarts_the_stack_in_one_step_and_unpins():
    """KubernetesAdapter.restart_stack was dead code (restart.run restarts each
    Deployment); the interface's defaults refuse what a platform lacks."""
    assert 'restart_stack' in vars(ComposeAdapter) and 'restart_stack' not in vars(KubernetesAdapter)
    assert 'unpin' in vars(ComposeAdapter) and 'unpin' not in vars(KubernetesAdapter)
    fake = FakeAdapter(**K8S)
    with pytest.raises(PlatformError, match='restarts_whole_stack is false'):
        fake.restart_stack()
    with pytest.raises(PlatformError, match='pins_images is false'):
        fake.unpin('backend')
    with pytest.raises(ConfigError, match='vertical scaling'):
        FakeAdapter().set_resources('backend', 'backend', {})


def test_every_state_store_is_one():
    assert issubclass(_locks.FileStore, StateStore) and issubclass(_locks.SecretStore, StateStore)
    assert issubclass(MemoryStore, StateStore)
