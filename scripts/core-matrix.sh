#!/usr/bin/env bash
# core-matrix.sh nostack|stack [VERSION]: the collection on the oldest ansible-core it
# claims (meta/runtime.yml requires_ansible; tests/unit/test_packaging.py checks that
# the two agree). The newest (requirements.txt's ansible-core) is what the rest of
# make test runs with.
#
#   nostack  unit tests, ansible-test sanity of that version, and the health check
#            on the Kubernetes emulator (tests/integration/test_core_versions.py)
#   stack    the health check on the demo stack: one short run (the stack lane has
#            no time to spare)
#
# The venv (build/venv-core-VERSION, scripts/core-venv.sh) is cached across runs,
# keyed on the version and its requirements. VERSION defaults to OLDEST below;
# give another to try it (2.15.13, 2.16.19, 2.17.14, 2.18.19 were tried).
set -uo pipefail
OLDEST=2.15.13
# The sanity tests whose verdict depends on the ansible-core the collection runs on:
# its documentation and argument specs as that version reads them, imports against
# its module_utils, meta/runtime.yml against its schema. The style linters (pep8,
# pylint and its plugins, yamllint, shellcheck; replace-urlopen and the Python 2
# boilerplate rules, which 2.15 still applies to tests/) judge code style by each
# version's own linters, not whether the collection works on that version: they run
# with the newest, in make test's sanity step. Tried on 2.15.13: these pass but for
# plugins/modules/diagnose.py, whose DOCUMENTATION no version parses (2026-11-30).
# ansible-doc runs on its own: 2.15's ansible-test aborts the whole run (a traceback)
# when a module's documentation does not parse, which would hide the other verdicts.
SANITY_TESTS=(validate-modules import compile runtime-metadata action-plugin-docs
              no-get-exception no-main-display no-smart-quotes use-compat-six)
what=${1:-}
version=${2:-$OLDEST}
case "$what" in nostack|stack) ;; *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
venv=$(bash scripts/core-venv.sh "$version") || { echo "core-matrix: no venv for ansible-core $version" >&2; exit 1; }
py=$venv/bin/python
about=$("$venv/bin/ansible" --version) && echo "${about%%$'\n'*}"
# run_playbook (tests/integration/conftest.py) takes ansible-playbook from the
# interpreter's own venv: the playbooks run on this ansible-core.
pytest_core() { "$py" -m pytest -q -p no:cacheprovider --durations=5 "$@"; }
rc=0
if [ "$what" = nostack ]; then
  echo "== unit tests on ansible-core $version"
  pytest_core -n 2 tests/unit || rc=1
  echo "== ansible-test sanity $version: ${SANITY_TESTS[*]}"
  QUICKBITE_ANSIBLE_TEST=$venv/bin/ansible-test bash scripts/sanity.sh "${SANITY_TESTS[@]/#/--test=}" || rc=1
  echo "== ansible-test sanity $version: ansible-doc"
  QUICKBITE_ANSIBLE_TEST=$venv/bin/ansible-test bash scripts/sanity.sh --test=ansible-doc || rc=1
  echo "== health check on the emulator, ansible-core $version"
  QUICKBITE_TESTS_WITHOUT_STACK=1 pytest_core -m 'not stack' tests/integration/test_core_versions.py || rc=1
else
  echo "== health check on the demo stack, ansible-core $version"
  pytest_core -m stack tests/integration/test_core_versions.py || rc=1
fi
exit "$rc"
