"""Authentication and RBAC authorization, mixed into ``core.Emulator``.

Authentication (bearer tokens only): the admin token (``token=``, or the
kubeconfig's dummy token when none is set) is user ``kubernetes-admin`` in
group ``system:masters`` and may do everything; a service-account token
(``service_account_tokens={'name' or 'ns/name': token}`` or
``service_account_token(name)``) is user ``system:serviceaccount:<ns>:<name>``
in the groups ``system:serviceaccounts``, ``system:serviceaccounts:<ns>`` and
``system:authenticated``.  Without RBAC, any token is accepted unless
``token=`` is set (as before); with RBAC, an unknown token is 401.

Authorization (``rbac=True``; off by default) follows the RBAC authorizer
(``plugin/pkg/auth/authorizer/rbac``): RoleBindings in the request's namespace
and ClusterRoleBindings whose subjects (ServiceAccount, User, Group) match the
user grant the rules of their Role or ClusterRole; a rule matches on verb,
apiGroup, resource (``pods``, ``pods/log``, ``pods/*``, ``*/scale``, ``*``) and
resourceNames (never for list, watch, create or deletecollection, which have
no name).  Verbs from the request as the API server's RequestInfo: get, list,
watch, create, update, patch, delete, deletecollection; ``pods/exec`` over a
WebSocket (GET) also needs ``create`` (the compound check of
``AuthorizePodWebsocketUpgradeCreatePermission``, on by default since 1.35;
``exec_create_check=False`` plays an older server).  Discovery paths are open
to every authenticated user (``system:discovery``).  A refusal is a 403
``Forbidden`` Status worded as ``responsewriters.forbiddenMessage``.
Role/RoleBinding/ClusterRole/ClusterRoleBinding objects come from the API or
from ``rbac_objects=[...]`` (created with the seed, again on every reset).
"""

import secrets as _secrets

ADMIN = {'name': 'kubernetes-admin', 'groups': ['system:masters', 'system:authenticated']}
DUMMY_TOKEN = 'emulator-dummy-token'
KIND_PLURAL = {'Role': 'roles', 'RoleBinding': 'rolebindings', 'ClusterRole': 'clusterroles',
               'ClusterRoleBinding': 'clusterrolebindings', 'ServiceAccount': 'serviceaccounts'}


def request_verb(method, name, query, subresource):
    """The authorizer's verb for an HTTP request (RequestInfoFactory)."""
    if method == 'GET':
        if str(query.get('watch', '')).lower() in ('1', 'true'):
            return 'watch'
        return 'get' if name is not None or subresource else 'list'
    if method == 'POST':
        return 'create'
    if method == 'PUT':
        return 'update'
    if method == 'PATCH':
        return 'patch'
    if method == 'DELETE':
        return 'delete' if name is not None else 'deletecollection'
    return method.lower()


def _rule_allows(rule, verb, group, resource, subresource, name):
    combined = '%s/%s' % (resource, subresource) if subresource else resource
    if not ({'*', verb} & set(rule.get('verbs') or [])):
        return False
    if not ({'*', group} & set(rule.get('apiGroups') or [])):
        return False
    wanted = {'*', combined}
    if subresource:
        wanted |= {resource + '/*', '*/' + subresource}
    if not (wanted & set(rule.get('resources') or [])):
        return False
    names = rule.get('resourceNames') or []
    return not names or (name is not None and name in names)


class Rbac(object):
    """Mixin for ``core.Emulator``."""

    def _init_auth(self, rbac=False, service_account_tokens=None, rbac_objects=(), exec_create_check=True):
        self.rbac = bool(rbac)
        # A request without any Authorization header is the admin's (kubectl's
        # cross-checks: client-go sends no bearer token over plain HTTP); set
        # by the collection's fixtures, whose procedures always send the Role's token.
        self.anonymous_admin = False
        self.exec_create_check = bool(exec_create_check)
        self.rbac_objects = [dict(o) for o in rbac_objects or ()]
        self._sa_tokens = {}       # token -> (namespace, name)
        for key, token in (service_account_tokens or {}).items():
            ns, name = key.split('/', 1) if '/' in key else (self.namespace, key)
            self._sa_tokens[token] = (ns, name)

    def _seed_auth(self):
        """ServiceAccounts of the configured tokens and the ``rbac_objects`` (under the seed's lock)."""
        for ns, name in sorted(set(self._sa_tokens.values())):
            if ('namespaces', '', ns) in self._objs and ('serviceaccounts', ns, name) not in self._objs:
                self.api_create('serviceaccounts', ns, {'metadata': {'name': name}})
        for body in self.rbac_objects:
            plural = KIND_PLURAL[body['kind']]
            ns = (body.get('metadata') or {}).get('namespace') or self.namespace
            self.api_create(plural, ns, body)

    def service_account_token(self, name, namespace=None, token=None):
        """A bearer token for ServiceAccount ``name`` (created if absent), as a TokenRequest would give one."""
        ns = namespace or self.namespace
        token = token or 'sa-' + _secrets.token_urlsafe(24)
        with self._lock:
            self._sa_tokens[token] = (ns, name)
            if ('serviceaccounts', ns, name) not in self._objs:
                self.api_create('serviceaccounts', ns, {'metadata': {'name': name}})
        return token

    def authenticate(self, authorization):
        """The user of an ``Authorization`` header; ApiError 401 when it is not accepted."""
        from .core import ApiError
        parts = authorization.strip().split(None, 1)
        token = parts[1].strip() if len(parts) == 2 and parts[0].lower() == 'bearer' else None  # any case
        if token is not None and token in self._sa_tokens:
            ns, name = self._sa_tokens[token]
            return {'name': 'system:serviceaccount:%s:%s' % (ns, name),
                    'groups': ['system:serviceaccounts', 'system:serviceaccounts:' + ns, 'system:authenticated']}
        if token is not None and token == (self.token or DUMMY_TOKEN):
            return ADMIN
        if not authorization.strip() and self.anonymous_admin:
            return ADMIN
        if self.token is None and not self.rbac:
            return ADMIN     # no authentication configured: any token, as before
        raise ApiError(401, 'Unauthorized', 'Unauthorized')

    def _subject_matches(self, subject, user, binding_ns):
        kind = subject.get('kind')
        if kind == 'ServiceAccount':
            return user['name'] == 'system:serviceaccount:%s:%s' % (
                subject.get('namespace') or binding_ns, subject.get('name'))
        if kind == 'User':
            return user['name'] == subject.get('name')
        if kind == 'Group':
            return subject.get('name') in user['groups']
        return False

    def _rules_for(self, user, namespace):
        bindings = [(b, b['metadata'].get('namespace')) for b in self._iter('clusterrolebindings')]
        if namespace:
            bindings += [(b, namespace) for b in self._iter('rolebindings', namespace)]
        for binding, ns in bindings:
            if not any(self._subject_matches(s, user, ns) for s in binding.get('subjects') or []):
                continue
            ref = binding.get('roleRef') or {}
            if ref.get('kind') == 'Role' and binding['metadata'].get('namespace'):
                role = self._objs.get(('roles', ns, ref.get('name')))
            else:
                role = self._objs.get(('clusterroles', '', ref.get('name')))
            yield from (role or {}).get('rules') or []

    def authorize(self, user, verb, res, namespace, name, subresource=None):
        """ApiError 403 unless ``user`` may ``verb`` the resource (no-op with RBAC off or for system:masters)."""
        from .core import ApiError
        if not self.rbac or 'system:masters' in user['groups']:
            return
        ns = namespace if res.namespaced else None
        with self._lock:
            if any(_rule_allows(r, verb, res.group, res.plural, subresource, name) for r in self._rules_for(user, ns)):
                return
        resource = '%s/%s' % (res.plural, subresource) if subresource else res.plural
        scope = 'in the namespace "%s"' % ns if ns else 'at the cluster scope'
        why = 'User "%s" cannot %s resource "%s" in API group "%s" %s' % (
            user['name'], verb, resource, res.group, scope)
        target = '%s "%s"' % (res.qualified, name) if name else res.qualified
        raise ApiError(403, 'Forbidden', '%s is forbidden: %s' % (target, why),
                       {'name': name, 'group': res.group, 'kind': res.plural} if name
                       else {'group': res.group, 'kind': res.plural})
