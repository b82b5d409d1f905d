"""The addresses other machines on the local network would reach this one at (the local API
served on 0.0.0.0), found without sending anything: ``connect`` on a UDP socket only asks
the routing table which of this machine's addresses would be the source toward a target; no
packet leaves. Asking for the host name's addresses instead could ask DNS, so it is not done.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable

# A unicast address in each private range (RFC 1918), so that the routes toward them name the
# interfaces a LAN is on, a default route or none. Not broadcast addresses: connect refuses
# those without SO_BROADCAST.
_TARGETS = ("10.254.254.254", "172.31.255.254", "192.168.255.254")
_DISCARD_PORT = 9  # any port does: nothing is sent to it


def routed_address(target: str) -> str | None:
    """This machine's address toward ``target``; None when no route goes there."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((target, _DISCARD_PORT))
        except OSError:
            return None
        return str(probe.getsockname()[0])


def reachable(candidates: Iterable[str | None]) -> list[str]:
    """The candidates another machine could reach, in their order, each once: IPv4 unicast,
    not loopback, not link-local (169.254.x.x: no DHCP answered), not 0.0.0.0."""
    chosen: list[str] = []
    for candidate in candidates:
        try:
            address = ipaddress.IPv4Address(candidate or "")
        except ValueError:
            continue
        unreachable = (
            address.is_loopback
            or address.is_link_local
            or address.is_unspecified
            or address.is_multicast
            or address.is_reserved
        )
        if not unreachable and str(address) not in chosen:
            chosen.append(str(address))
    return chosen


def lan_addresses(route: Callable[[str], str | None] = routed_address) -> list[str]:
    """This machine's LAN IPv4 addresses, the default route's first; [] when it has none
    (no network: only 127.0.0.1 reaches it)."""
    return reachable(route(target) for target in _TARGETS)
