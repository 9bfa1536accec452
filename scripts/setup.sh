#!/usr/bin/env bash
# Set up a clone for the test suite on a fresh Debian or Ubuntu machine: the Debian packages
# the suite needs (after `apt-get update`; as root, or with sudo), then a venv in .venv
# with bagemu and its test dependencies. Run from anywhere; the README's test command
# starts with it, and CI (.ci/run) runs that command verbatim.
#
# The packages, and why: iproute2 (tests add addresses to lo and read sockets with ss);
# mosquitto (a real MQTT broker: a control test starts its own with a password file);
# openssl (the mqtts:// tests make a throwaway CA and certificates with its command);
# debootstrap (the compose runtime's test builds its speaker image from a debootstrapped
# Debian base: no image can be pulled on machines without a registry,
# scripts/build-local-base.sh); python3-venv if the python3 on PATH lacks venv (Debian's
# own has it, pyenv's may not); Debian's docker-compose if docker has no compose.
# Nothing is installed that is already there, so a second run only refreshes the venv.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=()
command -v ss >/dev/null || packages+=(iproute2)
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || packages+=(mosquitto)
command -v openssl >/dev/null || packages+=(openssl)
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || packages+=(debootstrap)
if ! python3 -c "import ensurepip, venv" 2>/dev/null; then packages+=(python3-venv); fi
if command -v docker >/dev/null && ! docker compose version >/dev/null 2>&1 &&
   ! command -v docker-compose >/dev/null; then
  packages+=(docker-compose)
fi
if [ ${#packages[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup: install ${packages[*]} (no apt-get here), then run this again" >&2
    exit 1
  fi
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${packages[@]}"
fi

python3 -m venv .venv
.venv/bin/pip install -e '.[test]'
