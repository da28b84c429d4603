#!/bin/bash
# Runs nginx in the foreground (logs to stdout/stderr) on the deployment's own
# configuration when one is mounted (/etc/nginx/quickbite/nginx.conf: the
# reference stack mounts DIR/frontend there, read-only, so an edit of
# DIR/frontend/nginx.conf and `nginx -s reload` change what runs; the
# directory, not the file, is mounted, so a replace-by-rename shows through).
# Without one, nginx.conf is rendered from the image's template with
# FRONTEND_PORT/SERVER_PORT. Either way /etc/nginx/nginx.conf is what runs, so
# `nginx -t`, `nginx -T` and `nginx -s reload` need no -c.
set -euo pipefail
: "${FRONTEND_PORT:=8081}" "${SERVER_PORT:=8080}"
MOUNTED=/etc/nginx/quickbite/nginx.conf
if [ -f "$MOUNTED" ]; then
  ln -sfn "$MOUNTED" /etc/nginx/nginx.conf
else
  case "$FRONTEND_PORT$SERVER_PORT" in *[!0-9]*) echo "ports must be numeric" >&2; exit 1;; esac
  sed -e "s/__FRONTEND_PORT__/${FRONTEND_PORT}/g" -e "s/__SERVER_PORT__/${SERVER_PORT}/g" \
    /etc/nginx/quickbite-nginx.conf.template > /etc/nginx/nginx.conf
fi
nginx -t -q
exec nginx
