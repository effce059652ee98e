"""Which IP addresses the fetcher may connect to — pure functions over the IANA registries.

Refused unless an `allow_networks` range covers them: every block of the IANA IPv4 and IPv6
Special-Purpose Address Registries (private, loopback, link-local, shared, documentation,
benchmarking, reserved, anycast and AS112 blocks, the deprecated site-local fec0::/10 and
6to4-relay 192.88.99.0/24, discard and dummy prefixes, ULA, multicast), and anything Python
does not call global. An IPv6 address that embeds an IPv4 address is judged by that address
(every embedding position counts): IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible
``::a.b.c.d``, IPv4-translated ``::ffff:0:a.b.c.d``, NAT64 ``64:ff9b::/96`` and the local-use
``64:ff9b:1::/48``, 6to4 ``2002::/16``, Teredo ``2001::/32`` (server and client) and ISATAP
interface identifiers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SPECIAL_V4 = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
    "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
))
SPECIAL_V6 = tuple(ipaddress.IPv6Network(n) for n in (
    "::/128", "::1/128", "100::/64", "100:0:0:1::/64", "2001::/23", "2001:db8::/32",
    "2620:4f:8000::/48", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10",
    "ff00::/8",
))
_V4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_V4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_TEREDO = ipaddress.IPv6Network("2001::/32")


def _v4(value: int) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(value & 0xFFFFFFFF)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """The IPv4 addresses an IPv6 address carries, or None when it is not such a form."""
    n = int(ip)
    if ip in _V4_MAPPED or ip in _V4_COMPATIBLE or ip in _V4_TRANSLATED or ip in _NAT64:
        return [_v4(n)]
    if ip in _NAT64_LOCAL:  # RFC 6052 /48: bits 48-63 and 72-87; also the /96-style tail
        return [_v4(((n >> 64) & 0xFFFF) << 16 | (n >> 40) & 0xFFFF), _v4(n)]
    if ip in _SIX_TO_FOUR:
        return [_v4(n >> 80)]
    if ip in _TEREDO:  # server in bits 32-63, client (inverted) in the last 32
        return [_v4(n >> 64), _v4(~n)]
    if (n >> 32) & 0xFDFFFFFF == 0x00005EFE:  # ISATAP interface identifier
        return [_v4(n)]
    return None


def is_public(ip: IPAddress, allow: Iterable[Network] = ()) -> bool:
    """Whether a connection to `ip` is allowed (see the module docstring)."""
    allow = tuple(allow)
    if any(ip in net for net in allow if net.version == ip.version):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = embedded_ipv4(ip)
        if embedded is not None:
            return all(is_public(v4, allow) for v4 in embedded)
        special: tuple[Network, ...] = SPECIAL_V6
    else:
        special = SPECIAL_V4
    if any(ip in net for net in special):
        return False
    return ip.is_global and not ip.is_multicast
