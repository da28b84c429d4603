#!/usr/bin/env bash
# ee-build.sh [context|image]: the execution environment of ee/execution-environment.yml.
#
#   context  the build context only (build/ee/context: `ansible-builder create`),
#            after the collection tarball and the wheelhouse it copies in
#   image    (default) also the base image quickbite/ee-base:bookworm (mmdebstrap,
#            once: /var/cache/quickbite/ee-base.tar) and the EE image
#            quickbite/ee:0.1.0 (`ansible-builder build` with the local Docker Engine)
#
# Nothing is pulled or fetched while the image builds: no registry is reachable, so
# the base is built here from Debian packages (with bindep.txt's packages, which
# ansible-builder then finds installed), and pip installs from build/ee/files/wheels
# (`pip download` of ansible-core, ansible-runner, meta/ee-requirements.txt and
# ansible-builder's own bindep). Knobs: QUICKBITE_EE_BASE_TAR, QUICKBITE_EE_TAG.
set -euo pipefail
what=${1:-image}
case "$what" in context|image) ;; *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/.venv/bin
out=$root/build/ee
base_image=quickbite/ee-base:bookworm
base_tar=${QUICKBITE_EE_BASE_TAR:-/var/cache/quickbite/ee-base.tar}
tag=${QUICKBITE_EE_TAG:-quickbite/ee:0.1.0}
# bindep.txt's Debian packages, the interpreter and pip, dumb-init (the EE's init).
base_packages=python3,python3-pip,python3-venv,dumb-init,ca-certificates,postgresql-client,zstd,gzip,prometheus,openssh-client
log() { printf 'ee-build: %s\n' "$*" >&2; }

# The versions of execution-environment.yml, then the collection's runtime ones,
# then what ansible-builder's builder stage installs (bindep and its own needs).
pins() {
  sed -n 's/^ *package_pip: *\([^ ]*==[^ ]*\).*/\1/p' "$root/ee/execution-environment.yml"
  grep -v '^#' "$root/meta/ee-requirements.txt"
  echo 'bindep==2.14.0'
  echo 'packaging'
  echo 'PyYAML'
}

files() {
  mkdir -p "$out/files"
  log "collection tarball"
  rm -f "$out"/files/quickbite-ops*.tar.gz
  "$bin/ansible-galaxy" collection build --force --output-path "$out/files" "$root" >&2
  mv "$out"/files/quickbite-ops-*.tar.gz "$out/files/quickbite-ops.tar.gz"
  if [ "$(cat "$out/files/pins.txt" 2>/dev/null)" = "$(pins)" ]; then
    log "wheelhouse up to date (build/ee/files/pins.txt)"
    return 0
  fi
  log "wheelhouse: $(pins | tr '\n' ' ')"
  rm -rf "$out/files/wheels" "$out/files/pins.txt" && mkdir -p "$out/files/wheels"
  "$bin/pip" download -q --disable-pip-version-check --only-binary=:all: --python-version 3.11 \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform any \
    -d "$out/files/wheels" -r <(pins) 2>&1 | grep -v '^WARNING: Location' >&2 || true
  ls "$out"/files/wheels/ansible_core-*.whl >/dev/null
  pins >"$out/files/pins.txt"
}

context() {
  files
  log "ansible-builder create -> build/ee/context"
  rm -rf "$out/context"
  "$bin/ansible-builder" create -f "$root/ee/execution-environment.yml" -c "$out/context" \
    --output-filename Dockerfile -v 1 >&2
}

base() {
  # Made again when the package list changes (a label on the image records it).
  if [ "$(docker image inspect -f '{{index .Config.Labels "quickbite.packages"}}' "$base_image" 2>/dev/null)" \
       = "$base_packages" ]; then
    log "$base_image present"
    return 0
  fi
  if [ ! -s "$base_tar" ] || [ "$(cat "$base_tar.packages" 2>/dev/null)" != "$base_packages" ]; then
    mkdir -p "$(dirname "$base_tar")"
    log "mmdebstrap bookworm -> $base_tar (a minute or two)"
    # mmdebstrap picks the output format from the name: the partial file ends in .tar too.
    mmdebstrap --quiet --variant=minbase --include="$base_packages" bookworm "${base_tar%.tar}.partial.tar" >&2
    mv -f "${base_tar%.tar}.partial.tar" "$base_tar"
    echo "$base_packages" >"$base_tar.packages"
  fi
  log "docker import $base_tar $base_image"
  docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' --change "LABEL quickbite.packages=$base_packages" \
    "$base_tar" "$base_image" >/dev/null
}

context
[ "$what" = image ] || exit 0
base
log "ansible-builder build -> $tag (legacy builder, host network: no bridge on this Engine)"
# --network host: the Engine runs without a bridge here; the build fetches nothing.
DOCKER_BUILDKIT=0 "$bin/ansible-builder" build -f "$root/ee/execution-environment.yml" -c "$out/context" \
  --container-runtime docker -t "$tag" --extra-build-cli-args='--network host' -v 2 >&2
docker image inspect -f '{{.Id}}' "$tag"
