"""The client's address: the one reading that login lockouts and the API's throttles share.

Behind a reverse proxy every request arrives from the proxy, and the client's address is in
``X-Forwarded-For``. That header is whatever the sender wrote, so it is believed only as far as it was
written by a proxy we trust (``settings.TRUSTED_PROXIES``): a request that does not come from one is
keyed by its own peer address, whatever it claims; one that does is keyed by the nearest address in the
header that is not a trusted proxy (each proxy appends the address it received the request from, so
entries further left were written by the client and prove nothing).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest
from python_ipware.modern.parsers import parse_ip

if TYPE_CHECKING:
    from rest_framework.request import Request

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_trusted_proxy(address: Address) -> bool:
    """Whether ``address`` is in one of ``settings.TRUSTED_PROXIES`` (addresses or networks)."""
    return any(address.version == network.version and address in network for network in settings.TRUSTED_PROXIES)


def client_address(request: HttpRequest | Request) -> str | None:
    """The address of the client that sent ``request``, as text; ``None`` when the server gave no peer address.

    ``X-Forwarded-For`` is read from the right, only while the address that handed the request on is a
    trusted proxy. An entry that is not an address (``unknown``, garbage) where one is needed stops the
    walk at the proxy that wrote it: the client is then known only as that proxy.
    """
    # The parser django-ipware reads with: ports, brackets and IPv4-mapped IPv6 (``::ffff:10.0.0.1``) give the bare address.
    raw_peer = request.META.get("REMOTE_ADDR") or ""
    address = parse_ip(raw_peer)
    if address is None:
        return raw_peer or None
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    while hops and is_trusted_proxy(address):
        forwarded = parse_ip(hops.pop())
        if forwarded is None:
            break
        address = forwarded
    return str(address)
