#!/bin/bash
# Initialises the cluster in $PGDATA on first start (scram-sha-256, app role and
# database from the environment), then runs postgres in the foreground as the
# postgres user on 127.0.0.1:$POSTGRES_PORT. Passwords travel through the
# environment, a 0600 temp file and psql's stdin only, never through argv.
set -euo pipefail
: "${POSTGRES_PORT:=5432}" "${DB_NAME:=quickbite}" "${DB_USER:=quickbite}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" "${DB_PASSWORD:?DB_PASSWORD is required}"
export POSTGRES_PORT DB_NAME DB_USER
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 0700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "quickbite-postgres: initialising cluster in $PGDATA"
  pwfile=$(mktemp /tmp/pgpw.XXXXXX)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  chown postgres "$pwfile"; chmod 0600 "$pwfile"
  as_pg initdb -D "$PGDATA" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  cat > "$PGDATA/pg_hba.conf" <<'HBA'
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  peer
host    all       all   127.0.0.1/32   scram-sha-256
host    all       all   ::1/128        scram-sha-256
HBA
  cat >> "$PGDATA/postgresql.conf" <<'CONF'
# quickbite
password_encryption = scram-sha-256
listen_addresses = '127.0.0.1'
log_line_prefix = '%m [%p] %q%u@%d '
CONF
  chown postgres:postgres "$PGDATA/pg_hba.conf"
  as_pg pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p $POSTGRES_PORT" -w -s start
  as_pg psql -X -q -v ON_ERROR_STOP=1 -p "$POSTGRES_PORT" -U postgres -d postgres <<'SQL'
\getenv app_user DB_USER
\getenv app_pw DB_PASSWORD
\getenv app_db DB_NAME
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app_user', :'app_pw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user') \gexec
SQL
  as_pg psql -X -q -v ON_ERROR_STOP=1 -p "$POSTGRES_PORT" -U postgres -d "$DB_NAME" <<'SQL'
\getenv app_user DB_USER
SELECT format('ALTER SCHEMA public OWNER TO %I', :'app_user') \gexec
SQL
  as_pg pg_ctl -D "$PGDATA" -m fast -w -s stop
  echo "quickbite-postgres: cluster initialised (database $DB_NAME owned by $DB_USER)"
fi

# The passwords are not needed by the server itself: drop them from its environment.
unset POSTGRES_PASSWORD DB_PASSWORD
exec setpriv --reuid=postgres --regid=postgres --init-groups -- \
  postgres -D "$PGDATA" -c listen_addresses=127.0.0.1 -c port="$POSTGRES_PORT"
