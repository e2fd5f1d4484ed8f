"""Where webhooks may be sent: to public addresses only, unless a deployment allows its own
network (``WEBHOOK_ALLOW_PRIVATE_TARGETS``).

A webhook is a POST our servers make to a URL someone typed in. Without this rule that URL
could reach what only our servers can: the cloud metadata endpoint (169.254.169.254), an admin
port on loopback, a database on the private network. A host name counts by every address it
resolves to. The rule is checked when the subscription is made and again before each delivery,
so a name that later points inside is caught too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# A name server that does not answer is a name that does not resolve, not a hung request.
RESOLVE_TIMEOUT_SECONDS = 5.0


def refused_range(address: IPAddress) -> str | None:
    """The kind of range that makes ``address`` no place for a webhook, or None for a public
    address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        # Shared address space (100.64.0.0/10) and the like: not anyone's public address.
        ("non-public", not address.is_global),
    )
    return next((kind for kind, found in checks if found), None)


def refusal_for_addresses(host: str, addresses: Iterable[str]) -> str | None:
    """Why ``host`` is refused given the addresses it resolved to, or None when all are
    public."""
    for text in addresses:
        kind = refused_range(ipaddress.ip_address(text))
        if kind is not None:
            return f"the webhook host {host} resolves to {text}, {_a(kind)} address"
    return None


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


async def webhook_target_refusal(url: str, *, must_resolve: bool) -> str | None:
    """Why a webhook may not be posted to ``url`` (one sentence), or None when it may.

    ``must_resolve``: a host name that does not resolve is refused (when subscribing: nothing
    can be checked); otherwise it passes, and the delivery fails, and is retried, as any
    unreachable receiver.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return "the webhook URL has no host"
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass  # a name, not an address
    else:
        kind = refused_range(literal)
        return None if kind is None else f"the webhook host {host} is {_a(kind)} address"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        found = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError, UnicodeError):
        return f"the webhook host {host} does not resolve" if must_resolve else None
    return refusal_for_addresses(host, [str(info[4][0]) for info in found])
