# The speaker image: one bagemu speaker per container (bagctl/runtimes/agent.py), and the
# region's MQTT broker (mosquitto) in the same image.
#
# Elsewhere: `docker compose build` (FROM python:3.11-slim; pip installs from the index
# unless wheelhouse/ has wheels). On a machine that cannot pull images:
# scripts/build-local-base.sh, which builds FROM a debootstrapped Debian bookworm base
# and installs every Python package from wheelhouse/ with --no-index.
#
# Every stage is labelled bagemu.stage (base, build, speaker). Docker's classic builder
# keeps each stage it builds as an image, and the build stage's (about 670 MB: the
# wheels and the venv) is nobody's parent, so it stays behind untagged ("dangling")
# after every build; the label is what lets scripts/build-local-base.sh remove those,
# and only those (`docker image prune --filter label=bagemu.stage`), never another
# project's images. A fixed value, first in each stage: the layer cache is unchanged.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE} AS base
LABEL bagemu.stage=base

# iproute2 (`ip route`: a failed link made real, needs NET_ADMIN) and mosquitto: the
# local base has both; a base that lacks them gets them from its apt sources.
RUN set -eu; missing=""; \
    command -v ip >/dev/null || missing="$missing iproute2"; \
    command -v mosquitto >/dev/null || missing="$missing mosquitto"; \
    if [ -n "$missing" ]; then \
      apt-get update && \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing && \
      rm -rf /var/lib/apt/lists/*; \
    fi
ENV PATH=/opt/bagemu/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# The venv is made in a build stage, so the wheels never reach the image.
FROM base AS build
LABEL bagemu.stage=build
RUN python3 -m venv /opt/bagemu
# Dependencies first: this layer changes only when the wheelhouse does.
COPY wheelhouse/ /tmp/wheelhouse/
RUN set -eu; \
    if ls /tmp/wheelhouse/*.whl >/dev/null 2>&1; then \
      pip install --no-index --find-links /tmp/wheelhouse /tmp/wheelhouse/*.whl; \
    fi
# The project itself (speakers, bagctl), from its source.
COPY pyproject.toml README.md /tmp/src/
COPY speakers /tmp/src/speakers
COPY bagctl /tmp/src/bagctl
RUN set -eu; \
    if ls /tmp/wheelhouse/*.whl >/dev/null 2>&1; then \
      pip install --no-index --find-links /tmp/wheelhouse /tmp/src; \
    else \
      pip install /tmp/src; \
    fi

FROM base
LABEL bagemu.stage=speaker
COPY --from=build /opt/bagemu /opt/bagemu
# The agents' own user: a container starts as root only to open the broker's password,
# then runs its agent as bagemu with CAP_NET_ADMIN alone (util-linux setpriv:
# bagctl/runtimes/composefile.py, unprivileged); its status and health files live in
# /run/bagemu. uid 10001 is composefile.AGENT_UID.
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin bagemu && \
    install -d -o bagemu -g bagemu /run/bagemu
ENV PYTHONDONTWRITEBYTECODE=1
LABEL org.opencontainers.image.title="bagemu speaker" \
      org.opencontainers.image.description="One bagemu BGP speaker per container (python -m bagctl.runtimes.agent), or the region's mosquitto"
CMD ["python", "-m", "bagctl.runtimes.agent", "--help"]
