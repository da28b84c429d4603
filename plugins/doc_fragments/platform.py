# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Paired with options.platform_argument_spec(); change both together.
    DOCUMENTATION = r'''
options:
  platform:
    description:
      - Where QuickBite runs. C(compose) drives the C(docker compose) v2 CLI on the managed host;
        C(k8s) talks to the Kubernetes API with the C(kubernetes) Python client.
      - Roles set it from the inventory variable C(quickbite_platform).
    type: str
    required: true
    choices: [compose, k8s]
  project_dir:
    description:
      - Compose project directory; relative O(compose_files) and O(env_file) are resolved from it.
    type: path
    default: /opt/quickbite
  compose_files:
    description:
      - Compose files passed with C(-f), in order.
    type: list
    elements: str
    default: [docker-compose.prod.yml]
  env_file:
    description:
      - Compose env file passed with C(--env-file); also where configuration keys such as
        C(JWT_SECRET) are read and written on Compose.
    type: str
    default: .env.prod
  project_name:
    description:
      - Compose project name (C(-p)). When omitted, Compose derives it (the C(name:) key of the file
        or the directory name).
    type: str
  kubeconfig:
    description:
      - Path to the kubeconfig file, else the environment variable E(K8S_AUTH_KUBECONFIG).
      - Credentials are chosen as C(kubernetes.core) chooses them. O(host) and O(api_key) both set need
        nothing else; else O(kubeconfig) or O(context) set loads that kubeconfig; else the in-cluster
        service account (a pod, e.g. an AWX execution environment on Kubernetes), else the default kubeconfig
        (E(KUBECONFIG), C(~/.kube/config)). O(host), O(api_key), O(ca_cert) and O(verify_ssl), when set,
        override what was loaded.
    type: path
  context:
    description:
      - Kubeconfig context to use, else E(K8S_AUTH_CONTEXT); the current context when omitted.
    type: str
  host:
    description:
      - URL of the Kubernetes API server, else E(K8S_AUTH_HOST) (set by AWX's Kubernetes credential).
    type: str
  api_key:
    description:
      - Bearer token of the API server's user (a ServiceAccount token bound to the shipped Role), else
        E(K8S_AUTH_API_KEY).
    type: str
  ca_cert:
    description:
      - CA certificate file that signed the API server's certificate, else E(K8S_AUTH_SSL_CA_CERT) or
        E(K8S_AUTH_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  verify_ssl:
    description:
      - Whether to verify the API server's certificate, else E(K8S_AUTH_VERIFY_SSL) or
        E(K8S_AUTH_VALIDATE_CERTS). C(kubernetes.core) calls it C(validate_certs) (with this alias); here
        that name belongs to the backend's HTTPS probes.
    type: bool
  namespace:
    description:
      - Kubernetes namespace of QuickBite.
    type: str
    default: quickbite
  secret_name:
    description:
      - Kubernetes Secret that holds QuickBite's configuration keys (C(JWT_SECRET), C(DB_PASSWORD), ...).
    type: str
    default: quickbite-secrets
  deployments:
    description:
      - Maps service names to their Kubernetes workloads, merged over the default mapping
        C(backend=quickbite-backend), C(frontend=quickbite-frontend), C(postgres=postgres), C(redis=redis).
      - A value is a name (a Deployment, else a StatefulSet of that name), C(statefulset/NAME) or C(deployment/NAME),
        or a mapping with C(name), C(kind), C(container) (the main container of pods with sidecars; C(*) for all)
        and C(external) (true for a service outside the cluster, never checked on the platform).
    type: dict
    default: {}
requirements:
  - "Compose: Docker Engine with the C(docker compose) v2 plugin (tested with 2.40.3) on the managed host."
  - "Kubernetes: the C(kubernetes) Python library (tested with 37.0.2) on the host that runs the module."
'''
