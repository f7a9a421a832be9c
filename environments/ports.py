"""Ports of an environment: which ones nested containers publish, and where the proxy
may connect. The proxy's one rule lives here: it connects to the environment's own
address on its own network, found from the engine, never to an address a request names.
"""

import ipaddress
import re
import time

from .engine import EngineError
from .errors import Conflict, InvalidRequest
from .hosts import engine_for
from .models import Environment

# "0.0.0.0:8080->80/tcp, :::8080->80/tcp" as `docker ps` prints published ports.
PUBLISHED = re.compile(r"([0-9.]+|\[?[0-9a-fA-F:]*\]?):(\d+)->(\d+)/tcp")
# An address is looked up at most this often per environment (a page fetches many files).
ADDRESS_SECONDS = 10

_addresses: dict[str, tuple[str, float]] = {}


def checked_port(value) -> int:
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidRequest("A port is a number from 1 to 65535.") from None
    if not 1 <= port <= 65535:
        raise InvalidRequest("A port is a number from 1 to 65535.")
    return port


def published_ports(containers: list[dict]) -> list[dict]:
    """The TCP ports nested containers publish on the environment, from the rows of
    selectors.nested_containers(); one row per port, lowest first."""
    found: dict[int, dict] = {}
    for container in containers:
        for address, published, inner in PUBLISHED.findall(container.get("ports") or ""):
            if address.startswith("127.") or address.strip("[]") == "::1":
                continue  # published on the environment's loopback only: out of the proxy's reach
            port = int(published)
            found.setdefault(port, {"port": port, "container": container["name"], "inner": int(inner)})
    return [found[port] for port in sorted(found)]


def environment_address(environment: Environment) -> str:
    """The environment's IP address on its own network: the only place the proxy goes."""
    if environment.status != Environment.Status.RUNNING:
        raise Conflict(f"The environment is {environment.status}: start it to open its ports.")
    if not environment.host.engine_url.startswith("unix://"):
        # A remote engine's bridge addresses mean nothing here, and may even name one of
        # our own neighbours (bridge ranges are chosen per engine): never connect there.
        raise Conflict(f"The ports of environments on the remote Docker host {environment.host.name}"
                       " cannot be opened through the dashboard.")
    cached = _addresses.get(environment.container_id)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    address = engine_for(environment.host).container_ip(environment.container_id, environment.engine_name)
    if not address or not _is_container_address(address):
        raise EngineError("The environment has no address on its network.")
    _addresses[environment.container_id] = (address, time.monotonic() + ADDRESS_SECONDS)
    return address


def forget_address(environment: Environment) -> None:
    """After a failed connection: the environment may have restarted with a new address."""
    _addresses.pop(environment.container_id, None)


def _is_container_address(address: str) -> bool:
    # Belt and braces: Docker gives bridge networks private addresses; anything else
    # (loopback, link-local metadata services, public hosts) is never a target.
    ip = ipaddress.ip_address(address)
    return ip.is_private and not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)
