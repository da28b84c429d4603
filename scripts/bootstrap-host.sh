#!/usr/bin/env bash
# Installs what the demo and the test suite need on a Debian 12 host, as root.
# Idempotent: every step checks before it acts, so `make demo` can run again.
set -euo pipefail

need_apt=()
command -v dockerd >/dev/null || need_apt+=(docker.io)
command -v mmdebstrap >/dev/null || need_apt+=(mmdebstrap)
[ -x /usr/lib/postgresql/15/bin/pg_ctl ] || need_apt+=(postgresql-15 postgresql-client-15)
command -v redis-cli >/dev/null || need_apt+=(redis-tools)
command -v cron >/dev/null || need_apt+=(cron)
command -v curl >/dev/null || need_apt+=(curl)
command -v zstd >/dev/null || need_apt+=(zstd)
# ansible-test sanity runs shellcheck on the scripts.
command -v shellcheck >/dev/null || need_apt+=(shellcheck)
# Monitoring tests: promtool (unit lane), Prometheus, Alertmanager and node_exporter (test_monitoring_compose.py).
command -v promtool >/dev/null || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need_apt+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null || need_apt+=(prometheus-node-exporter)
if [ "${#need_apt[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
