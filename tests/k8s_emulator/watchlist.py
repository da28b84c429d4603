"""Watch-list ("streaming lists"), as the API server serves it since 1.27 and
client-go (kubectl 1.35+) uses it instead of LIST: ``watch=true&
sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true``
answers an ``ADDED`` event per object that exists, then one ``BOOKMARK``
whose annotation ``k8s.io/initial-events-end: "true"`` ends the initial
state, then the changes.  The bookmark also carries
``k8s.io/initial-events-list-blueprint``: an empty list of the kind, encoded
as the client asked (JSON here) and base64'd; client-go builds its list from
it and refuses a bookmark without it.

Options validated as apiserver's ``validateWatchOptions``
(``k8s.io/apiserver/pkg/apis/meta/internalversion/validation``).
"""

import base64
import json

from .core import ApiError

INITIAL_EVENTS_END = 'k8s.io/initial-events-end'
LIST_BLUEPRINT = 'k8s.io/initial-events-list-blueprint'
NOT_OLDER_THAN = 'NotOlderThan'


def _bool(value):
    return str(value).lower() in ('1', 'true', 't', 'yes', 'on')


def initial_events(q):
    """None (a plain watch), True or False from the query; ApiError 422 for
    the combinations the API server forbids."""
    send = q.get('sendInitialEvents')
    send = None if send is None else _bool(send)
    match = q.get('resourceVersionMatch') or ''
    errors = []
    if send is not None and match != NOT_OLDER_THAN:
        errors.append('resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch '
                      'to NotOlderThan')
    if match:
        if send is None:
            errors.append('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless '
                          'sendInitialEvents is provided')
        if match != NOT_OLDER_THAN:
            errors.append('resourceVersionMatch: Unsupported value: "%s": supported values: "NotOlderThan"' % match)
        if q.get('continue'):
            errors.append('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is '
                          'provided')
    if errors:
        message = 'ListOptions.meta.k8s.io "" is invalid: ' + (
            errors[0] if len(errors) == 1 else '[%s]' % ', '.join(errors))
        raise ApiError(422, 'Invalid', message, {'group': 'meta.k8s.io', 'kind': 'ListOptions'})
    return send


def initial_events_end(res, resource_version):
    """The BOOKMARK object that ends the initial events (only the kind and metadata, as upstream)."""
    blueprint = {'kind': res.kind + 'List', 'apiVersion': res.api_version, 'metadata': {}, 'items': []}
    return {'kind': res.kind, 'apiVersion': res.api_version,
            'metadata': {'resourceVersion': str(resource_version), 'annotations': {
                INITIAL_EVENTS_END: 'true',
                LIST_BLUEPRINT: base64.b64encode(json.dumps(blueprint).encode()).decode()}}}
