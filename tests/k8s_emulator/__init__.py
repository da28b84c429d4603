"""Kubernetes API emulator for the quickbite.ops tests.

The real ``kubernetes`` Python client talks to it over HTTP on 127.0.0.1.
See README.md in this directory for what is and is not emulated.

    from k8s_emulator import EmulatorThread      # or tests.k8s_emulator
    with EmulatorThread(secrets={'JWT_SECRET': 'x'}) as k8s:
        k8s.write_kubeconfig(tmp_path / 'kubeconfig')
        k8s.emulator.set_crashloop('redis', True)
"""

from .core import ApiError, Emulator, RESOURCES
from .server import EmulatorThread, main, make_server, write_kubeconfig
from . import customresources  # noqa: F401  (registers the custom resources: PrometheusRule)
from . import ingresses  # noqa: F401  (registers networking.k8s.io/v1 Ingress)

__all__ = ['ApiError', 'Emulator', 'EmulatorThread', 'RESOURCES', 'main', 'make_server', 'write_kubeconfig']
