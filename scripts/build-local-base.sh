#!/usr/bin/env bash
# Build the speaker image (bagemu-speaker:latest) on a machine that cannot pull images:
#
#   1. base image bagemu-base:bookworm: a minimal Debian bookworm root file system made
#      with debootstrap (python3, python3-venv, iproute2, mosquitto) and `docker import`ed;
#      skipped when the image already exists, so only the first run pays for it
#   2. wheelhouse/: the project's Python dependencies as wheels, made on this host with
#      pip (the host's CPython must be 3.11, like bookworm's, so compiled wheels fit);
#      skipped while pyproject.toml is unchanged since the last run
#   3. docker build --build-arg BASE_IMAGE=bagemu-base:bookworm -t bagemu-speaker:latest .
#      (the Dockerfile installs from wheelhouse/ with pip --no-index)
#
# Needs root (debootstrap), docker and debootstrap. The Debian mirror is the one this
# host's apt sources name, read now, else debootstrap's default. Timings go to stdout.
#
# Environment: PYTHON (the host python whose pip makes the wheels; default python3),
# BAGEMU_IMAGE (default bagemu-speaker:latest), BAGEMU_BASE_IMAGE (default
# bagemu-base:bookworm).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
IMAGE=${BAGEMU_IMAGE:-bagemu-speaker:latest}
BASE=${BAGEMU_BASE_IMAGE:-bagemu-base:bookworm}
SUITE=bookworm
PACKAGES=python3,python3-venv,iproute2,mosquitto,ca-certificates
WHEELHOUSE=wheelhouse

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
t_all=$(now)

command -v docker >/dev/null || { echo "build-local-base: docker is not installed" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build-local-base: cannot reach the docker daemon" >&2; exit 1; }

# The Debian mirror of this host's apt sources (deb822 or one-line form), if any.
host_mirror() {
  local uri
  uri=$( (grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}';
          grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
            sed -E 's/\[[^]]*\] //' | awk '{print $2}') |
        grep -E '/debian/?$' | head -n 1 || true)
  echo "$uri"
}

# --- 1. the base image ----------------------------------------------------------------
t=$(now)
if docker image inspect "$BASE" >/dev/null 2>&1; then
  echo "base image $BASE exists: debootstrap skipped"
else
  command -v debootstrap >/dev/null ||
    { echo "build-local-base: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
  rootfs=$(mktemp -d /tmp/bagemu-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  mirror=$(host_mirror)
  echo "debootstrap $SUITE (--variant=minbase, $PACKAGES) from ${mirror:-the default mirror of debootstrap}"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" ${mirror:+"$mirror"} \
    > /tmp/bagemu-debootstrap.log 2>&1 ||
    { tail -n 20 /tmp/bagemu-debootstrap.log >&2; exit 1; }
  # What an image does not need: package lists and caches, documentation.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
  tar -C "$rootfs" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV LANG=C.UTF-8' \
    -c 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  echo "base image $BASE imported"
fi
echo "time base image: $(since "$t") s"

# --- 2. the wheels --------------------------------------------------------------------
t=$(now)
version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$version" != "3.11" ]; then
  echo "build-local-base: $PYTHON is Python $version; the image's python is 3.11, so the" \
    "wheels must be made by a CPython 3.11 (set PYTHON)" >&2
  exit 1
fi
stamp=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -f "$WHEELHOUSE/.stamp" ] && [ "$(cat "$WHEELHOUSE/.stamp")" = "$stamp" ] &&
   ls "$WHEELHOUSE"/*.whl >/dev/null 2>&1; then
  echo "wheelhouse up to date with pyproject.toml: pip wheel skipped"
else
  find "$WHEELHOUSE" -name '*.whl' -delete
  # The project's dependencies, and what building the project needs (the image builds it
  # from its source with --no-index), both as pyproject.toml lists them.
  mapfile -t requirements < <("$PYTHON" -c '
import tomllib
with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)
print("\n".join(project["project"]["dependencies"] + project["build-system"]["requires"]))')
  "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$WHEELHOUSE" \
    "${requirements[@]}"
  echo "$stamp" > "$WHEELHOUSE/.stamp"
  echo "wheelhouse: $(ls "$WHEELHOUSE"/*.whl | wc -l) wheels"
fi
echo "time wheels: $(since "$t") s"

# --- 3. the speaker image -------------------------------------------------------------
t=$(now)
docker build --quiet --build-arg BASE_IMAGE="$BASE" -t "$IMAGE" . >/dev/null
echo "image $IMAGE built from $BASE"
# What the build left untagged ("dangling"): the build stage's image (the classic builder
# keeps every stage; nothing uses that one, about 670 MB) and the speaker image this one
# replaced. Only images carrying the Dockerfile's bagemu.stage label are candidates, and
# prune without --all takes only dangling ones: no tagged image, nothing of another
# project's. (The second filter: speaker images built before the label existed.)
reclaimed() { docker image prune --force --filter "$1" | sed -n 's/^Total reclaimed space: //p'; }
echo "removed dangling build images: $(reclaimed label=bagemu.stage)" \
  "+ $(reclaimed 'label=org.opencontainers.image.title=bagemu speaker')"
echo "time image build: $(since "$t") s"
echo "time total: $(since "$t_all") s"
