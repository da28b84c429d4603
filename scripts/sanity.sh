#!/usr/bin/env bash
# ansible-test needs the collection at .../ansible_collections/quickbite/ops;
# copy the tracked files (no ignore files, no symlink back to the checkout).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# QUICKBITE_ANSIBLE_TEST: another ansible-test (scripts/core-matrix.sh: an older ansible-core's).
ansible_test=$(readlink -f "${QUICKBITE_ANSIBLE_TEST:-$root/.venv/bin/ansible-test}")
test_python=$(dirname "$ansible_test")/python
# A directory of its own per run: two runs at once (make test's lanes, several
# engineers) must not delete each other's copy.
mkdir -p "$root/build"
work=$(mktemp -d "$root/build/sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/quickbite/ops
mkdir -p "$dest"
cd "$root"
# ansible-test --venv fetches get-pip.py from a host that is not reachable here.
pip_version=$("$test_python" -c 'from ansible_test._internal.python_requirements import get_venv_packages; from ansible_test._internal.host_configs import NativePythonConfig; print(get_venv_packages(NativePythonConfig(version="3.11"))["pip"])' 2>/dev/null || echo 24.2)
mkdir -p ~/.ansible/test/cache
cp "$root/scripts/get-pip-offline.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
git ls-files -co --exclude-standard -z | grep -zv '^\.collections/' | grep -zv '^stack/' \
  | xargs -0 -I{} cp --parents -P {} "$dest/" 2>/dev/null || true
# The copy sits under the checkout's ignored build/: give it its own git index
# so ansible-test lists its files instead of ignoring them all.
cd "$dest"
git init -q . && git add -A
"$ansible_test" sanity --venv --python 3.11 --color no "$@"
