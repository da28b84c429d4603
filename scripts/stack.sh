#!/usr/bin/env bash
# QuickBite reference stack on this host (Docker Engine, host networking, no registry).
#
#   scripts/stack.sh images          build the images (skips what is up to date)
#   scripts/stack.sh up     [DIR]    images + compose up -d --wait, DIR/.env.prod made once
#   scripts/stack.sh down   [DIR]    compose down (keeps volumes and DIR)
#   scripts/stack.sh reset  [DIR]    down, remove the volumes and DIR (only a DIR that `up` created:
#                                    it holds the marker file .quickbite-stack)
#   scripts/stack.sh status [DIR]    compose ps + actuator health
#
# QUICKBITE_STACK picks a stack of stack/profiles: a (default: project quickbite, DIR
# /var/lib/quickbite/demo, ports 15432 16379 18080 18081) or b, the second stack make
# test runs beside it (scripts/test.sh). One by one they can be overridden:
# QUICKBITE_STACK_PROJECT, DIR, and QUICKBITE_STACK_PORTS="PG REDIS BACKEND FRONTEND"
# (read only when `up` writes a new DIR/.env.prod). BACKEND_TAG (default: the tag
# the running backend uses, else 1.0), BACKEND_SCALE (default: the number of backend
# replicas running, else 1): a rerun of `up` keeps a rolled-back or scaled backend
# as it is. QUICKBITE_BASE_TAR (default /var/cache/quickbite/base.tar),
# QUICKBITE_UP_TIMEOUT (s, default 180).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK="$ROOT/stack"
PROFILE=${QUICKBITE_STACK:-a}
# The fields in stack/profiles' order (the lock is the tests', tests/integration/conftest.py).
read -r _ P_PROJECT P_DIR P_PG P_REDIS P_BACKEND P_FRONTEND P_LOCK < <(awk -v n="$PROFILE" '$1 == n' "$STACK/profiles") || true
if [ -z "${P_LOCK:-}" ]; then
  echo "[stack] ERROR: QUICKBITE_STACK=$PROFILE: no such profile in $STACK/profiles (a or b)" >&2
  exit 2
fi
PROJECT=${QUICKBITE_STACK_PROJECT:-$P_PROJECT}
case "$PROJECT" in ''|*[!a-z0-9_-]*|[!a-z0-9]*) echo "[stack] ERROR: QUICKBITE_STACK_PROJECT=$PROJECT: lower-case letters, digits, - and _ only, starting with a letter or digit" >&2; exit 2 ;; esac
BASE_IMAGE=quickbite/base:bookworm
BASE_TAR=${QUICKBITE_BASE_TAR:-/var/cache/quickbite/base.tar}
BASE_PACKAGES=postgresql-15,redis-server,nginx-light,python3,python3-psycopg2,curl,ca-certificates,zstd,gzip,procps,tini
HASH_LABEL=quickbite.context-hash
export DOCKER_BUILDKIT=0

MARKER=.quickbite-stack

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

compose() {
  local dir=$1; shift
  docker compose -p "$PROJECT" -f "$dir/docker-compose.prod.yml" --env-file "$dir/.env.prod" "$@"
}

ensure_docker() {
  docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1 && return 0
  if [ -x "$ROOT/scripts/dockerd-start.sh" ]; then
    bash "$ROOT/scripts/dockerd-start.sh" >&2
  fi
  docker info >/dev/null 2>&1 || die "no Docker daemon answers (run scripts/dockerd-start.sh)"
  docker compose version >/dev/null 2>&1 || die "docker compose v2 plugin missing (run scripts/dockerd-start.sh)"
}

# ---------------------------------------------------------------------------- images
build_base() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "$BASE_IMAGE present"
    return 0
  fi
  if [ ! -s "$BASE_TAR" ]; then
    command -v mmdebstrap >/dev/null || die "mmdebstrap missing (run scripts/bootstrap-host.sh)"
    mkdir -p "$(dirname "$BASE_TAR")"
    local tmp="${BASE_TAR%.tar}.partial.tar"
    rm -f "$tmp"
    log "mmdebstrap bookworm -> $BASE_TAR (about a minute)"
    mmdebstrap --quiet --variant=minbase --include="$BASE_PACKAGES" bookworm "$tmp" >&2
    mv -f "$tmp" "$BASE_TAR"
  else
    log "reusing $BASE_TAR"
  fi
  log "docker import $BASE_TAR $BASE_IMAGE"
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    "$BASE_TAR" "$BASE_IMAGE" >/dev/null
}

# Hash of a build context (file names, modes, contents), the build args and the
# base image id: the image is rebuilt only when one of them changed.
context_hash() {
  local ctx=$1; shift
  {
    (cd "$ctx" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    (cd "$ctx" && find . -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n %a')
    printf 'arg %s\n' "$@"
    docker image inspect -f '{{.Id}}' "$BASE_IMAGE"
  } | sha256sum | cut -c1-32
}

build_image() {
  local tag=$1 ctx=$2; shift 2
  local args=("$@") h have bargs=()
  h=$(context_hash "$ctx" "${args[@]}")
  have=$(docker image inspect -f "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$tag" 2>/dev/null || true)
  if [ "$have" = "$h" ]; then
    log "$tag up to date"
    return 0
  fi
  for a in "${args[@]}"; do bargs+=(--build-arg "$a"); done
  log "building $tag from ${ctx#"$ROOT"/}"
  local out
  if ! out=$(docker build -q --network host --label "$HASH_LABEL=$h" "${bargs[@]}" -t "$tag" "$ctx" 2>&1); then
    printf '%s\n' "$out" >&2
    die "docker build of $tag failed"
  fi
}

cmd_images() {
  ensure_docker
  local t0=$SECONDS
  build_base
  build_image quickbite/postgres:15   "$STACK/postgres"
  build_image quickbite/redis:7       "$STACK/redis"
  build_image quickbite/backend:1.0   "$STACK/backend" VERSION=1.0
  build_image quickbite/backend:1.1   "$STACK/backend" VERSION=1.1
  build_image quickbite/frontend:1.0  "$STACK/frontend"
  log "images ready in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------------------- env
new_secret() {
  if command -v python3 >/dev/null; then
    python3 -c 'import secrets; print(secrets.token_hex(32))'
  else
    openssl rand -hex 32
  fi
}

make_env() {
  local dir=$1 env="$1/.env.prod" tmp line
  if [ -f "$env" ]; then
    chmod 0600 "$env"
    return 0
  fi
  local -A port=()
  local pg redis server frontend rest
  read -r pg redis server frontend rest <<<"${QUICKBITE_STACK_PORTS:-$P_PG $P_REDIS $P_BACKEND $P_FRONTEND}"
  port=([POSTGRES_PORT]=$pg [DB_PORT]=$pg [REDIS_PORT]=$redis [SERVER_PORT]=$server [FRONTEND_PORT]=$frontend)
  for key in "${!port[@]}"; do
    case "${port[$key]}" in ''|*[!0-9]*) die "QUICKBITE_STACK_PORTS=${QUICKBITE_STACK_PORTS:-}: give four port numbers (postgres redis backend frontend)";; esac
  done
  [ -z "${rest:-}" ] || die "QUICKBITE_STACK_PORTS=$QUICKBITE_STACK_PORTS: give four port numbers, not more"
  tmp=$(mktemp "$dir/.env.prod.XXXXXX")
  chmod 0600 "$tmp"
  while IFS= read -r line || [ -n "$line" ]; do
    # Only values of KEY=VALUE lines; comments are copied byte for byte.
    if [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
      local key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
      while [[ $val == *CHANGE_ME* ]]; do
        val=${val/CHANGE_ME/$(new_secret)}
      done
      [ -z "${port[$key]:-}" ] || val=${port[$key]}
      line="$key=$val"
    fi
    printf '%s\n' "$line"
  done < "$STACK/env.prod.example" > "$tmp"
  mv "$tmp" "$env"
  log "created $env (0600, random secrets)"
}

# DIR/frontend/nginx.conf: the deployment's nginx configuration, mounted into the
# frontend container (compose: ./frontend:/etc/nginx/quickbite:ro). Rendered once
# from stack/frontend/nginx.conf with the ports of .env.prod, then left as it is
# (procedures such as fix_websocket_timeouts edit it, as an operator would).
make_frontend_conf() {
  local dir=$1 conf="$1/frontend/nginx.conf" tmp fport sport
  mkdir -p "$dir/frontend"
  chmod 0755 "$dir/frontend"
  [ -f "$conf" ] && return 0
  fport=$(env_get "$dir" FRONTEND_PORT); sport=$(env_get "$dir" SERVER_PORT)
  case "${fport:-18081}${sport:-18080}" in *[!0-9]*) die "FRONTEND_PORT/SERVER_PORT in $dir/.env.prod must be numeric";; esac
  tmp=$(mktemp "$dir/frontend/.nginx.conf.XXXXXX")
  sed -e "s/__FRONTEND_PORT__/${fport:-18081}/g" -e "s/__SERVER_PORT__/${sport:-18080}/g" \
    "$STACK/frontend/nginx.conf" > "$tmp"
  chmod 0644 "$tmp"
  mv "$tmp" "$conf"
  log "created $conf"
}

env_get() { # env_get DIR KEY -> value from DIR/.env.prod
  sed -n "s/^$2=//p" "$1/.env.prod" | tail -n1
}

# One stack per project (QUICKBITE_STACK_PROJECT; container names derive from it, ports
# from DIR/.env.prod). Refuse to point the project at another DIR, whose fresh .env.prod would not match the
# passwords the existing postgres volume was initialised with.
guard_single_stack() {
  local dir=$1 other
  other=$(docker ps -a --filter "label=com.docker.compose.project=$PROJECT" \
            --filter "label=com.docker.compose.oneoff=False" \
            --format '{{.Label "com.docker.compose.project.working_dir"}}' | sort -u | grep -vxF "$dir" || true)
  if [ -n "$other" ]; then
    die "a quickbite stack from $(echo "$other" | paste -sd' ') exists (one directory per Compose project, QUICKBITE_STACK_PROJECT); run 'scripts/stack.sh down|reset $other' first"
  fi
  if [ ! -f "$dir/.env.prod" ] && docker volume inspect "${PROJECT}_pgdata" >/dev/null 2>&1; then
    die "volume ${PROJECT}_pgdata holds a database made with another .env.prod; run 'scripts/stack.sh reset <its DIR>' or 'docker volume rm ${PROJECT}_pgdata ${PROJECT}_redisdata' first"
  fi
}

# ---------------------------------------------------------------------------- commands
cmd_up() {
  local dir=$1 t0=$SECONDS scale running
  cmd_images
  guard_single_stack "$dir"
  if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
    # Made here, so `reset` may remove it: the marker says so (reset removes nothing else).
    mkdir -p -- "$dir"
    printf 'quickbite reference stack directory, made by scripts/stack.sh up on %s\n' \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$dir/$MARKER"
  fi
  mkdir -p "$dir" "$dir/migrations-extra"
  chmod 0700 "$dir"
  cp "$STACK/docker-compose.prod.yml" "$dir/docker-compose.prod.yml"
  make_env "$dir"
  make_frontend_conf "$dir"
  local filters=(--filter "label=com.docker.compose.project=$PROJECT"
                 --filter "label=com.docker.compose.service=backend"
                 --filter "label=com.docker.compose.oneoff=False")
  running=$(docker ps -q "${filters[@]}" | wc -l)
  scale=${BACKEND_SCALE:-$(( running > 1 ? running : 1 ))}
  if [ -z "${BACKEND_TAG:-}" ]; then
    BACKEND_TAG=$(docker ps --format '{{.Image}}' "${filters[@]}" | sed -n 's|^quickbite/backend:||p' | head -n1)
    BACKEND_TAG=${BACKEND_TAG:-1.0}
  fi
  export BACKEND_TAG
  log "compose up (backend x$scale, tag $BACKEND_TAG)"
  if ! compose "$dir" up -d --wait --wait-timeout "${QUICKBITE_UP_TIMEOUT:-180}" \
       --remove-orphans --scale "backend=$scale" >&2; then
    compose "$dir" ps -a >&2 || true
    compose "$dir" logs --no-color --tail 40 >&2 || true
    die "stack did not become healthy"
  fi
  local healthy total
  total=$(compose "$dir" ps -q | wc -l)
  healthy=$(compose "$dir" ps --format '{{.Health}}' | grep -c '^healthy$' || true)
  printf 'quickbite up: %s/%s healthy in %ss | postgres 127.0.0.1:%s redis 127.0.0.1:%s backend http://127.0.0.1:%s (x%s, %s) frontend http://127.0.0.1:%s | dir %s\n' \
    "$healthy" "$total" "$((SECONDS - t0))" "$(env_get "$dir" POSTGRES_PORT)" "$(env_get "$dir" REDIS_PORT)" \
    "$(env_get "$dir" SERVER_PORT)" "$scale" "quickbite/backend:${BACKEND_TAG:-1.0}" \
    "$(env_get "$dir" FRONTEND_PORT)" "$dir"
}

cmd_down() {
  local dir=$1
  ensure_docker
  if [ -f "$dir/docker-compose.prod.yml" ] && [ -f "$dir/.env.prod" ]; then
    compose "$dir" down --remove-orphans >&2
  else
    docker compose -p "$PROJECT" down --remove-orphans >&2
  fi
  log "down (volumes and $dir kept)"
}

check_marker() { # refuse to remove a directory that `up` did not create (nothing changed yet)
  local dir=$1
  if [ -L "$dir" ] || [ ! -d "$dir" ]; then
    die "refusing to reset $dir: not a directory (or a symlink); nothing was removed"
  fi
  if [ -L "$dir/$MARKER" ] || [ ! -f "$dir/$MARKER" ] || [ ! -O "$dir/$MARKER" ]; then
    die "refusing to reset $dir: it lacks the marker file $dir/$MARKER that 'stack.sh up' writes into a directory it creates, so it may hold something else; nothing was removed. Use 'stack.sh down $dir' to stop the stack, and remove the directory by hand once you have checked it"
  fi
}

cmd_reset() {
  local dir=$1 vols
  check_marker "$dir"
  ensure_docker
  if [ -f "$dir/docker-compose.prod.yml" ] && [ -f "$dir/.env.prod" ]; then
    compose "$dir" down --volumes --remove-orphans >&2
  else
    docker compose -p "$PROJECT" down --volumes --remove-orphans >&2
  fi
  vols=$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT")
  if [ -n "$vols" ]; then
    # shellcheck disable=SC2086
    docker volume rm $vols >/dev/null
  fi
  rm -rf -- "$dir"
  log "reset: containers, volumes and $dir removed"
}

cmd_status() {
  local dir=$1 port
  ensure_docker
  if [ -f "$dir/docker-compose.prod.yml" ] && [ -f "$dir/.env.prod" ]; then
    compose "$dir" ps -a
    port=$(env_get "$dir" SERVER_PORT)
    printf 'actuator: '
    curl -sS --max-time 5 "http://127.0.0.1:$port/actuator/health" || true
    echo
  else
    docker compose -p "$PROJECT" ps -a
  fi
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

main() {
  local cmd=${1:-} dir=${2:-$P_DIR}
  case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac
  [ "$dir" = / ] || dir=${dir%/}
  case "$cmd" in
    images) cmd_images ;;
    up) cmd_up "$dir" ;;
    down) cmd_down "$dir" ;;
    reset) cmd_reset "$dir" ;;
    status) cmd_status "$dir" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
