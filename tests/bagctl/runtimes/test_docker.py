"""``docker.remove_network`` on a real engine: a network that still has an endpoint is
removed by deleting the endpoint by its container's name, as it must be when Docker 20.10
keeps the endpoint of a container it has removed (docker lists no container then, so
the name is the one handle left). Everything here carries this test's own run id."""

from __future__ import annotations

import secrets
import time

import pytest

from bagctl.runtimes import docker


def network_exists(network: str) -> bool:
    return bool(docker.docker("network", "ls", "--quiet", "--filter", f"name=^{network}$").strip())


@pytest.mark.slow
def test_a_network_still_holding_an_endpoint_is_removed_by_the_endpoints_name(
    speaker_image: str,
) -> None:
    run = secrets.token_hex(4)
    network, holder = f"bagemu-test-endpoint-{run}", f"bagemu-test-endpoint-{run}-holder"
    label = f"bagemu.region=test-endpoint-{run}"
    subnet = docker.free_subnet(4)

    def create() -> None:
        docker.docker("network", "create", "--label", label, "--subnet", str(subnet), network)

    create()
    try:
        docker.docker(
            "run", "--detach", "--name", holder, "--label", label, "--network", network,
            "--entrypoint", "sleep", speaker_image, "600",
        )  # fmt: skip
        with pytest.raises(docker.DockerError, match="active endpoints"):
            docker.docker("network", "rm", network)  # what the sweep met

        # Named by the caller (taken before its container went), then by the network's
        # own list: each time the endpoint is deleted and the network goes; the second
        # time past the deadline already (a sweep whose containers took all its time),
        # which still deletes the endpoints once before it gives up.
        docker.remove_network(network, [holder], time.monotonic() + 30)
        assert not network_exists(network)
        create()
        docker.docker("network", "connect", network, holder)
        docker.remove_network(network, [], time.monotonic() - 1)
        assert not network_exists(network)
        # The container itself is not touched: only its endpoint went.
        running = docker.docker("inspect", "--format", "{{.State.Running}}", holder)
        assert running.strip() == "true"
    finally:
        docker.docker("rm", "--force", holder, check=False)
        docker.docker("network", "rm", network, check=False)
