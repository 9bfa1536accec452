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
# scripts/build-local-base.sh); python3-venv if the interpreter chosen for the venv lacks
# venv (Debian's python3 does until it is installed); Debian's docker-compose if docker
# has no compose;
# frr (zebra, bgpd, vtysh), gobgpd (gobgpd, gobgp) and bird2 (bird, birdc): the interop
# tests (tests/speakers/interop) run bagemu's speaker against each of these daemons.
# Nothing is installed that is already there, so a second run only refreshes the venv.
#
# The routing daemons' own services: the interop tests start their daemons in network
# namespaces of their own with every socket, pid file and log in a directory of the test
# run, so a packaged service that runs (FRR's zebra and staticd on /var/run/frr and
# 127.0.0.1:2601/2616, bird on /run/bird with no BGP; gobgpd.service starts only with an
# /etc/gobgpd.conf, which the package does not ship) cannot collide with them. Still,
# where this script installs one of the three under systemd, it stops and disables that
# service: a test machine needs no routing daemon in its own namespace. (Where no init
# system runs, a container, invoke-rc.d starts nothing.)
#
# The interpreter the venv is made from: BAGEMU_PYTHON if set, else the distribution's
# /usr/bin/python3 where it is CPython 3.11 or later, else the python3 on PATH. A
# distribution's CPython (Debian's, Ubuntu's) is built with profile-guided and link-time
# optimisation into one executable; a pyenv or source build without
# --enable-optimizations is not, and calls into a shared libpython: on such a build a
# region takes about a fifth more CPU (README, "The interpreter").
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# The venv's interpreter (above); `setup.sh --print-python` names it and stops.
python=${BAGEMU_PYTHON:-}
at_least_311='import sys; sys.exit(sys.version_info < (3, 11))'
if [ -n "$python" ]; then
  if ! "$python" -c "$at_least_311" 2>/dev/null; then
    echo "setup: BAGEMU_PYTHON=$python: no Python 3.11 or later runs by that name" >&2
    exit 2
  fi
elif [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "$at_least_311" 2>/dev/null; then
  python=/usr/bin/python3
else
  python=python3
fi
if [ "${1:-}" = "--print-python" ]; then
  echo "$python"
  exit 0
fi

packages=()
command -v ss >/dev/null || packages+=(iproute2)
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || packages+=(mosquitto)
command -v openssl >/dev/null || packages+=(openssl)
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || packages+=(debootstrap)
if ! "$python" -c "import ensurepip, venv" 2>/dev/null; then packages+=(python3-venv); fi
if command -v docker >/dev/null && ! docker compose version >/dev/null 2>&1 &&
   ! command -v docker-compose >/dev/null; then
  packages+=(docker-compose)
fi
routing=()
{ [ -x /usr/lib/frr/bgpd ] && command -v vtysh >/dev/null; } || routing+=(frr)
{ command -v gobgpd >/dev/null && command -v gobgp >/dev/null; } || routing+=(gobgpd)
{ [ -x /usr/sbin/bird ] && [ -x /usr/sbin/birdc ]; } || routing+=(bird2)
packages+=("${routing[@]}")
if [ ${#packages[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup: install ${packages[*]} (no apt-get here), then run this again" >&2
    exit 1
  fi
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${packages[@]}"
fi
if [ ${#routing[@]} -gt 0 ] && [ -d /run/systemd/system ]; then
  for package in "${routing[@]}"; do
    case "$package" in frr) unit=frr ;; gobgpd) unit=gobgpd ;; bird2) unit=bird ;; esac
    $SUDO systemctl disable --now "$unit.service" >/dev/null 2>&1 || true
  done
fi

# A venv made from another interpreter is made again (its scripts name that one).
venv_clear=()
real='import os, sys; print(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))'
if [ -x .venv/bin/python ] &&
   [ "$(.venv/bin/python -c "$real" 2>/dev/null)" != "$("$python" -c "$real")" ]; then
  venv_clear=(--clear)
fi
echo "setup: the venv's interpreter: $("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
"$python" -m venv "${venv_clear[@]}" .venv
.venv/bin/pip install -e '.[test]'
