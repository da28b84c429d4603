# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Steps the three rotations share: restart the backend so it reads its new
environment, and check its health afterwards."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.health import service


def restart_backend(timeout):
    """Compose recreates (``up -d --no-deps``: a restart would keep the old
    environment); Kubernetes rolls the Deployment."""
    def apply(adapter):
        adapter.restart('backend', recreate=True)
        adapter.wait('backend', timeout)
    return apply


def health_checks(adapter, backend_url, timeout, validate_certs=True):
    """[(check, ok, evidence)] from the actuator and the backend's pods/containers."""
    settings = service.HealthSettings(checks=['actuator', 'platform'], backend_url=backend_url,
                                      services=['backend'], validate_certs=validate_certs, log_lines=10)
    report = service.run(adapter, settings, timeout=min(timeout, 120), interval=1)
    return [('health ' + name, result['status'] == 'UP', result['evidence'])
            for name, result in report['checks'].items()]
