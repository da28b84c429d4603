#!/usr/bin/env bash
# core-venv.sh VERSION: a virtualenv with ansible-core VERSION (exact, e.g. 2.16.14)
# and what the collection and its unit tests need, at build/venv-core-VERSION.
# Cached: made again only when VERSION or the requirement lines below change (the
# stamp file holds their hash), so a rerun of make test costs nothing here.
# Prints the venv's path. Used by scripts/core-matrix.sh.
set -euo pipefail
version=${1:?usage: core-venv.sh ANSIBLE_CORE_VERSION}
case "$version" in [0-9]*.[0-9]*.[0-9]*) ;; *) echo "core-venv.sh: give an exact version such as 2.16.14, not $version" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/build/venv-core-$version
# The runtime requirements (meta/ee-requirements.txt) plus the unit tests' own, at
# the versions requirements.txt pins.
reqs=$(printf 'ansible-core==%s\n' "$version"; grep -v '^#' "$root/meta/ee-requirements.txt";
       grep -E '^(pytest|pytest-xdist)==' "$root/requirements.txt")
stamp=$(printf '%s\n' "$reqs" | sha256sum | cut -c1-16)
mkdir -p "$root/build"
# make test's two lanes may ask at once: one makes it, the other waits.
exec 9>"$venv.lock"
flock 9
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$venv"
  python3.11 -m venv "$venv" >&2
  printf '%s\n' "$reqs" >"$venv/requirements.txt"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$venv/requirements.txt" 2>&1 \
    | grep -v '^WARNING: Location' >&2 || true
  "$venv/bin/python" -c 'import ansible, kubernetes, psycopg2, pytest' >&2
  echo "$stamp" >"$venv/.stamp"
fi
echo "$venv"
