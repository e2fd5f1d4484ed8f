"""Where ``make run`` listens and how its own processes reach what it started."""

from __future__ import annotations

import ipaddress
import socket

# Where `make run` serves the API unless API_HOST says otherwise: this machine only, since the
# stack runs with the built-in development secrets and published demo passwords.
DEFAULT_API_HOST = "127.0.0.1"
_ALL_INTERFACES = ("0.0.0.0", "::", "")


def port_in_use(port: int, host: str = "0.0.0.0") -> bool:
    """Whether something already listens on TCP ``port`` where we would listen on ``host``
    (every local IPv4 address by default)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR ignores connections lingering in TIME_WAIT but still conflicts with a
        # listening socket, which is exactly "another server owns this port".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def is_loopback(host: str) -> bool:
    """Whether a server listening on ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def local_url(host: str, port: int) -> str:
    """How a process on this machine reaches a server listening on ``host``: through loopback
    when it listens on every interface, else at that very address."""
    if host in _ALL_INTERFACES:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
