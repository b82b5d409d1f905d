"""The address other machines reach the local API at, when it serves on the local network:
the machine's LAN IPv4 addresses, asked of the routing table (nothing is sent), never
loopback, link-local or a wildcard; none at all without a network."""

from __future__ import annotations

from localwork.api.addresses import lan_addresses, reachable, routed_address


def test_only_addresses_another_machine_could_reach_are_kept_in_order_each_once():
    candidates = [
        "192.168.1.5",
        "127.0.0.1",  # loopback
        "169.254.7.9",  # link-local: no DHCP answered
        "0.0.0.0",
        "224.0.0.251",  # multicast
        None,  # no route
        "fe80::1",  # not IPv4
        "no address",
        "10.0.0.7",
        "192.168.1.5",  # again
    ]
    assert reachable(candidates) == ["192.168.1.5", "10.0.0.7"]


def test_the_routes_toward_the_private_ranges_name_the_lan_address():
    routes = {"10.254.254.254": "192.168.1.5", "172.31.255.254": "192.168.1.5"}
    assert lan_addresses(routes.get) == ["192.168.1.5"]
    assert lan_addresses(lambda target: None) == []  # no network: no route anywhere
    assert lan_addresses(lambda target: "127.0.0.1") == []


def test_a_route_is_asked_of_the_system_without_a_packet():
    assert routed_address("127.0.0.1") == "127.0.0.1"  # a UDP connect: nothing is sent
