"""_k8s_client: credentials as kubernetes.core reads them, and the API
server's 403 turned into "forbidden: needs <verb> on <resource>"."""
from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_client


def test_forbidden_names_the_verb_the_resource_and_the_role():
    body = ('{"kind":"Status","message":"pods \\"x\\" is forbidden: User \\"system:serviceaccount:quickbite:'
            'quickbite-ops\\" cannot create resource \\"pods/exec\\" in API group \\"\\" in the namespace '
            '\\"quickbite\\"","reason":"Forbidden","code":403}')
    message = _k8s_client.forbidden(body)
    assert message.startswith('forbidden: needs create on pods/exec; user system:serviceaccount:quickbite:'
                              'quickbite-ops lacks it: apply the Role quickbite-ops of deploy/k8s-rbac.yml')
    grouped = _k8s_client.forbidden('leases.coordination.k8s.io is forbidden: User "u" cannot update resource '
                                    '"leases" in API group "coordination.k8s.io" in the namespace "q"')
    assert grouped.startswith('forbidden: needs update on leases.coordination.k8s.io;')
    assert _k8s_client.forbidden('Unauthorized') is None


def test_auth_settings_options_first_then_the_awx_environment():
    environ = {'K8S_AUTH_HOST': 'https://env:6443', 'K8S_AUTH_API_KEY': 't', 'K8S_AUTH_SSL_CA_CERT': '/ca',
               'K8S_AUTH_VERIFY_SSL': 'False', 'K8S_AUTH_CONTEXT': 'prod'}
    assert _k8s_client.auth_settings({'host': 'https://option:6443'}, environ) == dict(
        host='https://option:6443', api_key='t', ca_cert='/ca', validate_certs=False, context='prod')
    assert _k8s_client.auth_settings({}, {'K8S_AUTH_VALIDATE_CERTS': 'yes', 'K8S_AUTH_CA_CERT': '/c'}) == dict(
        validate_certs=True, ca_cert='/c')
    assert _k8s_client.auth_settings({'validate_certs': False}, {'K8S_AUTH_VERIFY_SSL': 'true'}) == dict(
        validate_certs=False)
