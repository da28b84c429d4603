#!/bin/bash
# Renders nginx.conf from the template with FRONTEND_PORT/SERVER_PORT, checks it
# and runs nginx in the foreground (logs to stdout/stderr).
set -euo pipefail
: "${FRONTEND_PORT:=8081}" "${SERVER_PORT:=8080}"
case "$FRONTEND_PORT$SERVER_PORT" in *[!0-9]*) echo "ports must be numeric" >&2; exit 1;; esac
sed -e "s/__FRONTEND_PORT__/${FRONTEND_PORT}/g" -e "s/__SERVER_PORT__/${SERVER_PORT}/g" \
  /etc/nginx/quickbite-nginx.conf.template > /etc/nginx/nginx.conf
nginx -t -q
exec nginx
