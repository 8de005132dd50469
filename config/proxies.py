"""The client's address as far as Heron can trust it: X-Forwarded-For counts only when the request came
from a proxy listed in HERON_TRUSTED_PROXIES, so a client cannot name itself a new address per request
(the sign-in lock-out counts failures per address: django-axes' AXES_CLIENT_IP_CALLABLE)."""

from ipaddress import IPv4Address, IPv6Address, ip_address

from django.conf import settings
from django.http import HttpRequest


def _parse(value: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address: IPv4Address | IPv6Address | None) -> bool:
    return address is not None and any(address in network for network in settings.HERON_TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str | None:
    """The peer's address; for a trusted proxy, the nearest untrusted hop of X-Forwarded-For.

    Each proxy appends the address it was called from, so the hops are read from the right: the
    first one that is not a trusted proxy is the client (what stands left of it, the client wrote).
    """
    peer = request.META.get("REMOTE_ADDR")
    address = _parse(peer or "")
    if not _trusted(address):
        return peer
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        forwarded = _parse(hop)
        if forwarded is None:
            break  # not written by a proxy of ours: keep the last address one of them vouched for
        address = forwarded
        if not _trusted(address):
            break
    return str(address)
