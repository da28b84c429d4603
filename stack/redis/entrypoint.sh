#!/bin/bash
# Writes a 0600 redis.conf (requirepass from REDIS_PASSWORD) and runs
# redis-server on 127.0.0.1:$REDIS_PORT as the redis user. The password is never
# put on the redis-server command line, so `ps` does not show it.
set -euo pipefail
: "${REDIS_PORT:=6379}" "${REDIS_PASSWORD:?REDIS_PASSWORD is required}"
conf=/run/quickbite-redis/redis.conf
mkdir -p /run/quickbite-redis /var/lib/redis
chown redis:redis /run/quickbite-redis /var/lib/redis
umask 077
esc=${REDIS_PASSWORD//\\/\\\\}; esc=${esc//\"/\\\"}
cat > "$conf" <<CONF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize no
supervised no
logfile ""
dir /var/lib/redis
appendonly yes
requirepass "$esc"
CONF
chown redis:redis "$conf"; chmod 0600 "$conf"
unset REDIS_PASSWORD esc
exec setpriv --reuid=redis --regid=redis --init-groups -- redis-server "$conf"
