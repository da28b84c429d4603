# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backend's health after a procedure changed something (a rotation, a
restore, a Flyway repair): its actuator and its containers or pods. The
procedures in db/ and rotation/ take it from here, so neither needs the
other."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils import _mask
from ansible_collections.quickbite.ops.plugins.module_utils.health import service


def settings(backend_url, validate_certs=True):
    """HealthSettings of the backend alone; its own health endpoint (the
    actuator) counts for its readiness."""
    return service.HealthSettings(checks=['actuator', 'platform'], backend_url=backend_url, services=['backend'],
                                  validate_certs=validate_certs, log_lines=10, endpoints=service.ENDPOINTS)


def endpoint_probes(backend_url, validate_certs=True):
    """{service: probe} for Adapter.wait (the actuator's UP taken as the
    backend's readiness); empty without ``backend_url``."""
    return service.endpoint_probes(settings(backend_url, validate_certs)) if backend_url else {}


def health_checks(adapter, backend_url, timeout, validate_certs=True):
    """[(check, ok, evidence)] from the actuator and the backend's pods/containers."""
    checked = settings(backend_url, validate_certs)
    # Log lines of a failing backend: the configuration's secrets masked.
    checked.masker = _mask.from_adapter(adapter, _mask.DEFAULT_SECRET_KEYS, 'quickbite_secret_keys')
    report = service.run(adapter, checked, timeout=min(timeout, 120), interval=1)
    return [('health ' + name, result['status'] == 'UP', result['evidence'])
            for name, result in report['checks'].items()]
