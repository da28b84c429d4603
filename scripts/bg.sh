#!/usr/bin/env bash
# A background process for a test scenario, stopped by its PID, never by name
# (a name would also match another checkout's process running beside it).
#
#   scripts/bg.sh start PIDFILE LOGFILE COMMAND [ARG...]
#       start COMMAND in a session of its own, output to LOGFILE; PIDFILE gets
#       its PID and start time (so a reused PID is never taken for it)
#   scripts/bg.sh stop PIDFILE
#       SIGTERM that process if it still runs (SIGKILL after 10 s), wait until it
#       has ended, remove PIDFILE; prints "stopped PID" or "not running"
set -euo pipefail

starttime() { # field 22 of /proc/PID/stat (after the command name, which may hold spaces)
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo "${20}"
}

running() { # running PID STARTTIME: that very process, not ended (a zombie has ended)
  local stat
  [ "$(starttime "$1" 2>/dev/null)" = "$2" ] || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

case "${1:-}" in
  start)
    [ "$#" -ge 4 ] || { echo "usage: $0 start PIDFILE LOGFILE COMMAND [ARG...]" >&2; exit 2; }
    pidfile=$2 log=$3
    shift 3
    # No job control here: the background child is not a group leader, so setsid
    # makes it a session leader in place (no fork) and $! is the command's PID.
    setsid "$@" >"$log" 2>&1 </dev/null &
    pid=$!
    printf '%s %s\n' "$pid" "$(starttime "$pid")" >"$pidfile"
    echo "started $pid"
    ;;
  stop)
    [ "$#" -eq 2 ] || { echo "usage: $0 stop PIDFILE" >&2; exit 2; }
    pidfile=$2
    if [ ! -s "$pidfile" ]; then
      echo "not running"
      exit 0
    fi
    read -r pid since <"$pidfile"
    if ! running "$pid" "$since"; then
      rm -f "$pidfile"
      echo "not running"
      exit 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do
      running "$pid" "$since" || break
      sleep 0.05
    done
    if running "$pid" "$since"; then
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do
        running "$pid" "$since" || break
        sleep 0.05
      done
    fi
    rm -f "$pidfile"
    echo "stopped $pid"
    ;;
  *)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
