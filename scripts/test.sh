#!/usr/bin/env bash
# `make test` after its set-up steps: three lanes run side by side.
#
#   stack lane:    the tests that use the reference stack (pytest -m stack, which
#                  holds /tmp/quickbite-stack.lock) but not those of stack-b, then
#                  the molecule scenarios that use it (compose, schedule; same lock),
#                  then one health check on the oldest ansible-core (scripts/core-matrix.sh)
#   stack-b lane:  the stack tests of the modules in conftest.py's SECOND_STACK_MODULES
#                  (-m second_stack), on a second reference stack (QUICKBITE_STACK=b: its
#                  own Compose project, directory, ports and lock). Both stack lanes
#                  mostly wait on restarts and health checks: two stacks halve that wait.
#   no-stack lane: the emulator-only integration tests (pytest -m "not stack"),
#                  unit tests, molecule k8s, ansible-lint, sanity, then unit, sanity
#                  and the emulator health check on the oldest ansible-core
#                  (scripts/core-matrix.sh; unit, lint, sanity and that niced, so
#                  that the stack lanes keep their CPU: they are the longer lanes, and
#                  their health waits have timeouts)
#
# conftest.py gives the `stack` marker to every test that uses the `stack` or
# `stack_lock` fixture (directly or through demo_vars...): new tests land in
# the right lane by themselves (docs/development.md).
# Each step writes its output to build/test-logs/<step>.log, printed whole when
# the step ends, with its duration. Every step runs even when one fails; the
# exit status is non-zero when any failed. At the end: each step's time and the
# 15 slowest tests of the whole run (from each pytest run's JUnit XML).
#
#   scripts/test.sh                         all three lanes
#   scripts/test.sh stack|stack-b|nostack   one lane (for a look at its time)
# Knobs: QUICKBITE_TEST_LOGS (default build/test-logs), NOSTACK_NICE (default 10).
# The steps' functions are called through step(); shellcheck cannot see that.
# shellcheck disable=SC2317
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
BIN=$ROOT/.venv/bin
LOGS=${QUICKBITE_TEST_LOGS:-$ROOT/build/test-logs}
NICE=${NOSTACK_NICE:-10}
STACK_LOCK=/tmp/quickbite-stack.lock
# molecule k8s serves the emulator on the fixed port 18443: one run at a time per host.
K8S_LOCK=/tmp/quickbite-molecule-k8s.lock
export PATH="$BIN:$PATH" ANSIBLE_CONFIG="$ROOT/ansible.cfg"

case "${1:-all}" in all|stack|stack-b|nostack) ;; *) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;; esac
case "$LOGS" in /*/*) ;; *) echo "QUICKBITE_TEST_LOGS=$LOGS: give a directory two levels down or more" >&2; exit 2 ;; esac
rm -rf "$LOGS" && mkdir -p "$LOGS"

# step NAME COMMAND...: run COMMAND with its output in $LOGS/NAME.log, then print
# that log whole (one lane at a time, under a lock) with the duration; record
# "NAME rc seconds" in $LOGS/steps.
step() {
  local name=$1 t0=$SECONDS rc cpu
  shift
  # In a subshell, so that `times` gives the CPU of this step's processes alone (those it waited for).
  cpu=$( ( "$@" >"$LOGS/$name.log" 2>&1 </dev/null; rc=$?; times; exit "$rc" ) )
  rc=$?
  cpu=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, t, /m|s/); s += t[1] * 60 + t[2] } printf "%.1f", s }' <<<"$cpu")
  {
    flock 9
    printf '\n======== %s: %s in %d s (%s)\n' "$name" "$([ "$rc" -eq 0 ] && echo passed || echo "FAILED rc=$rc")" \
      "$((SECONDS - t0))" "${LOGS#"$ROOT"/}/$name.log"
    cat "$LOGS/$name.log"
    printf '======== end of %s\n' "$name"
    printf '%s %s %s %s\n' "$name" "$rc" "$((SECONDS - t0))" "${cpu:-0}" >>"$LOGS/steps"
  } 9>>"$LOGS/.print.lock"
  return "$rc"
}

pytest_run() { # pytest_run NAME ARGS...: pytest with the durations and a JUnit report
  local name=$1
  shift
  "$BIN/pytest" -q --durations=15 --junitxml="$LOGS/$name.xml" -p no:cacheprovider "$@"
}

molecule_run() { # molecule_run SCENARIO LOCKFILE: reset (a "prepared" state skips prepare.yml), then test
  "$BIN/molecule" reset -s "$1" >/dev/null 2>&1 || true
  NO_COLOR=1 ANSIBLE_COLLECTIONS_PATH="$ROOT/build/collections" flock "$2" "$BIN/molecule" test -s "$1"
}

stack_lane() {
  local rc=0
  step integration-stack pytest_run integration-stack -m 'stack and not second_stack' tests/integration || rc=1
  step molecule-compose molecule_run compose "$STACK_LOCK" || rc=1
  step molecule-schedule molecule_run schedule "$STACK_LOCK" || rc=1
  # The oldest ansible-core the collection claims: one health check on the stack.
  step core-oldest-stack bash scripts/core-matrix.sh stack || rc=1
  return "$rc"
}

stack_b_lane() {
  local rc=0
  QUICKBITE_STACK=b step integration-stack-b pytest_run integration-stack-b -m second_stack tests/integration || rc=1
  # Its health checks cost about a fifth of a core (docker exec): stopped for the other lanes'
  # last minutes. The next run's `stack.sh up` starts it on its volumes again in seconds.
  QUICKBITE_STACK=b bash scripts/stack.sh down >/dev/null 2>&1 || true
  return "$rc"
}

nostack_lane() {
  local rc=0
  # QUICKBITE_TESTS_WITHOUT_STACK: conftest refuses a playbook run or compose call on the
  # demo stack from a test that does not declare the stack (it would race the stack lane).
  export QUICKBITE_TESTS_WITHOUT_STACK=1
  # Two processes (a file each at a time: its emulator and throw-away PostgreSQL are
  # started once), niced like the steps after it: they mostly wait on emulated rollouts
  # and pod delays, and the stack lanes, the longer ones, must keep their CPU (at normal
  # priority they slowed its CPU-heavy backup tests up to nine times).
  step integration-nostack nice -n "$NICE" "$BIN/pytest" -q --durations=15 --junitxml="$LOGS/integration-nostack.xml" \
    -p no:cacheprovider -n 2 --dist loadfile -m 'not stack' tests/integration || rc=1
  step unit nice -n "$NICE" "$BIN/pytest" -q --durations=15 --junitxml="$LOGS/unit.xml" -p no:cacheprovider \
    -n 2 tests/unit || rc=1
  step molecule-k8s molecule_run k8s "$K8S_LOCK" || rc=1
  step lint nice -n "$NICE" "$BIN/ansible-lint" --profile production --offline || rc=1
  step sanity nice -n "$NICE" bash scripts/sanity.sh || rc=1
  # The oldest ansible-core the collection claims (meta/runtime.yml): unit, sanity, emulator.
  step core-oldest nice -n "$NICE" bash scripts/core-matrix.sh nostack || rc=1
  return "$rc"
}

# junit slowest|failed: from every pytest run's JUnit XML, the 15 slowest tests of the
# run (setup + call + teardown), or every failed or erroring test with its message's first line.
junit() {
  "$BIN/python" - "$LOGS" "$1" <<'EOF'
import glob
import os
import sys
import xml.etree.ElementTree as ET

cases = [case for path in sorted(glob.glob(os.path.join(sys.argv[1], '*.xml')))
         for case in ET.parse(path).iter('testcase')]
name = lambda case: '%s::%s' % (case.get('classname'), case.get('name'))  # noqa: E731
if sys.argv[2] == 'slowest':
    for seconds, test in sorted(((float(c.get('time') or 0), name(c)) for c in cases), reverse=True)[:15]:
        print('  %7.2fs %s' % (seconds, test))
else:
    for case in cases:
        for kind in ('failure', 'error'):
            for node in case.findall(kind):
                text = (node.get('message') or '').splitlines()
                print('  %s %s: %s' % (kind.upper(), name(case), (text[0] if text else '')[:300]))
EOF
}

summary() {
  printf '\n======== steps (seconds: wall, and CPU of the processes of the step, not of containers or dockerd)\n'
  awk '{ printf "  %-22s %6d %6.0f  %s\n", $1, $3, $4, ($2 == 0 ? "passed" : "FAILED rc=" $2); w += $4 }
       END { printf "  %-22s %6s %6.0f\n", "CPU of all steps", "", w }' "$LOGS/steps" 2>/dev/null
  printf '======== slowest 15 tests of the run (setup + call + teardown)\n'
  junit slowest
}

# failures: the last lines of the run, which is what a CI page shows first: every
# failed step with the tail of its log, and every failed or erroring test by name.
failures() {
  awk '$2 != 0 { print $1 }' "$LOGS/steps" 2>/dev/null | while read -r name; do
    printf '======== FAILED step %s (last 25 lines of %s)\n' "$name" "${LOGS#"$ROOT"/}/$name.log"
    tail -n 25 "$LOGS/$name.log"
  done
  printf '======== the machine at the end (disk, Docker)\n'
  df -h / /tmp /var/lib/docker 2>&1 | sort -u
  docker ps -a --format '{{.Names}} {{.Image}} {{.Status}}' 2>&1 | head -n 12
  printf '======== failed tests\n'
  junit failed
}

t0=$SECONDS
case "${1:-all}" in
  stack) stack_lane; rc=$? ;;
  stack-b) stack_b_lane; rc=$? ;;
  nostack) nostack_lane; rc=$? ;;
  all)
    stack_lane & stack_pid=$!
    stack_b_lane & stack_b_pid=$!
    nostack_lane & nostack_pid=$!
    rc=0
    wait "$stack_pid" || rc=1
    wait "$stack_b_pid" || rc=1
    wait "$nostack_pid" || rc=1
    ;;
esac
summary
[ "$rc" -eq 0 ] || failures
printf '======== make test: %s in %d s\n' "$([ "$rc" -eq 0 ] && echo passed || echo FAILED)" "$((SECONDS - t0))"
exit "$rc"
