"""Custom resources the emulator stores as the API server stores them for an
installed CRD: plain objects under /apis/<group>/<version>/namespaces/<ns>/<plural>,
with metadata (uid, resourceVersion) and no controller. Only the
kinds the collection applies are registered: the Prometheus Operator's
PrometheusRule (monitoring.coreos.com/v1) and AlertmanagerConfig
(monitoring.coreos.com/v1alpha1), which the monitoring role installs on
Kubernetes. Registered on import (core.RESOURCES), so discovery lists the group
and both its versions."""

from .core import RESOURCES, Resource

CUSTOM = [
    Resource('prometheusrules', 'monitoring.coreos.com', 'v1', 'PrometheusRule', short=('promrule',)),
    Resource('alertmanagerconfigs', 'monitoring.coreos.com', 'v1alpha1', 'AlertmanagerConfig', short=('amcfg',)),
]

for _resource in CUSTOM:
    RESOURCES.setdefault(_resource.plural, _resource)
