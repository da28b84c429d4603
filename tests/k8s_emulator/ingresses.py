"""networking.k8s.io/v1 Ingress, stored as the API server stores it: CRUD,
list (selectors), watch, patch (strategic merge: ``rules`` and ``paths`` have
no merge key upstream, so a patch replaces them whole; JSON merge; JSON
patch) and ``/status``, with ``metadata.generation`` (+1 on a spec change)
and the API server's validation of the fields the collection uses. No
ingress controller runs: nothing routes traffic, ``status.loadBalancer``
stays empty unless written through ``/status``, IngressClass objects and
admission webhooks (ingress-nginx's annotation checks) are not emulated.
Registered on import (core.RESOURCES), like customresources.py; the seed
(seed.py) has the Ingress ``quickbite``."""

from .core import RESOURCES, WITH_GENERATION, WITH_STATUS, Resource, invalid

RESOURCE = Resource('ingresses', 'networking.k8s.io', 'v1', 'Ingress', True, ('status',), ('ing',))
PATH_TYPES = ('Exact', 'Prefix', 'ImplementationSpecific')

RESOURCES.setdefault(RESOURCE.plural, RESOURCE)
WITH_STATUS.add(RESOURCE.plural)
WITH_GENERATION.add(RESOURCE.plural)


def _backend(res, name, where, backend):
    service = (backend or {}).get('service')
    if not service and not (backend or {}).get('resource'):
        raise invalid(res, name, '%s: Invalid value: "": one backend (service or resource) must be specified' % where)
    if service:
        if not service.get('name'):
            raise invalid(res, name, '%s.service.name: Required value' % where)
        port = service.get('port') or {}
        if bool(port.get('name')) == bool(port.get('number')):
            raise invalid(res, name, '%s.service.port: Invalid value: %s: port name or number is required, not both'
                          % (where, port))


def validate(obj):
    """The API server's checks of an Ingress's spec and annotations (ValidateIngress, the parts we rely on)."""
    res, name = RESOURCE, obj['metadata']['name']
    for key, value in (obj['metadata'].get('annotations') or {}).items():
        if not isinstance(value, str):
            raise invalid(res, name, 'metadata.annotations: Invalid value: "%s": must be a string' % key)
    spec = obj.get('spec') or {}
    if not spec.get('rules') and not spec.get('defaultBackend'):
        raise invalid(res, name, 'spec: Invalid value: {}: either `defaultBackend` or `rules` must be specified')
    if spec.get('defaultBackend'):
        _backend(res, name, 'spec.defaultBackend', spec['defaultBackend'])
    for r, rule in enumerate(spec.get('rules') or []):
        for p, path in enumerate(((rule.get('http') or {}).get('paths')) or []):
            where = 'spec.rules[%d].http.paths[%d]' % (r, p)
            if path.get('pathType') not in PATH_TYPES:
                raise invalid(res, name, '%s.pathType: Unsupported value: "%s": supported values: "%s"'
                              % (where, path.get('pathType') or '', '", "'.join(PATH_TYPES)))
            if path['pathType'] != 'ImplementationSpecific' and not str(path.get('path') or '').startswith('/'):
                raise invalid(res, name, '%s.path: Invalid value: "%s": must be an absolute path'
                              % (where, path.get('path') or ''))
            _backend(res, name, where + '.backend', path.get('backend'))


def _path(path, service, port):
    return {'path': path, 'pathType': 'Prefix', 'backend': {'service': {'name': service, 'port': {'number': port}}}}


def seed_ingress():
    """The seed's Ingress: /api and /ws to the backend's Service, / to the frontend's, with the
    WebSocket timeouts the runbook asks for (3600 s)."""
    return {
        'metadata': {'name': 'quickbite', 'labels': {'app.kubernetes.io/part-of': 'quickbite'},
                     'annotations': {'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
                                     'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
                                     'nginx.ingress.kubernetes.io/proxy-body-size': '10m'}},
        'spec': {'ingressClassName': 'nginx', 'rules': [{'host': 'quickbite.example', 'http': {'paths': [
            _path('/api', 'quickbite-backend', 8080), _path('/ws', 'quickbite-backend', 8080),
            _path('/', 'quickbite-frontend', 80)]}}]},
    }
