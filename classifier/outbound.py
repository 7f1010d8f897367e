"""Requests the server makes on a user's behalf (webhook deliveries, `image_url` uploads).

Both take a URL from a user, so both go through this one guard against server-side request
forgery: only http(s), and no connection to a loopback, private, link-local or otherwise
non-public address. The address is checked on the socket actually connected (after DNS),
so a name that resolves to a public address when the URL is checked and to a private one
when it is fetched (DNS rebinding) is still refused. Proxies from the environment are
ignored, redirects are never followed here, and every request has a connect timeout, a read
timeout, a total deadline and a byte limit.

`requests` and urllib3 do the HTTP; the guard is a urllib3 connection class that looks at
the peer address, which is the one place a check cannot be raced (no library on PyPI that
is still maintained does this for requests).
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# Loopback and the private ranges are what a developer's or a test's receiver listens on;
# `allow_private` lets them through. Link-local (169.254.169.254 is the cloud metadata
# service), multicast, unspecified and reserved addresses are never a legitimate target.
_CHUNK = 64 * 1024


class BlockedURL(Exception):
    """The URL is not one the server may fetch; the message says why."""


class FetchError(Exception):
    """The request failed: timeout, connection error, too large a body."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float


def address_refusal(address: str, *, allow_private: bool) -> str | None:
    """Say why `address` may not be connected to, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_global and not ip.is_multicast:
        return None
    for kind in ("link_local", "multicast", "unspecified", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return f"{ip} is a {kind.replace('_', '-')} address"
    if allow_private:
        return None
    kind = "loopback" if ip.is_loopback else "private"
    return f"{ip} is a {kind} address (set WEBHOOK_ALLOW_PRIVATE_NETWORKS=1 to allow it)"


def url_check(url: str, *, allow_private: bool) -> None:
    """Refuse a URL that is not http(s) or whose host resolves to a refused address.

    Called when a URL is accepted (a subscription), so a bad one is refused at once; the
    connection is checked again when it is fetched.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedURL("only http and https URLs are allowed")
    if not parts.hostname:
        raise BlockedURL("the URL has no host")
    if parts.username or parts.password:
        raise BlockedURL("the URL must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError, UnicodeError) as exc:
        raise BlockedURL(f"cannot resolve {parts.hostname}: {exc}") from None
    for info in infos:
        reason = address_refusal(info[4][0], allow_private=allow_private)
        if reason:
            raise BlockedURL(f"{parts.hostname} resolves to {reason}")


def fetch(
    method: str,
    url: str,
    *,
    allow_private: bool,
    connect_timeout: float,
    read_timeout: float,
    deadline: float,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> Response:
    """Make one guarded request and return the response, its body read up to `max_bytes`.

    Redirects are returned as they are (3xx), not followed. Raises BlockedURL when the
    target is refused, FetchError on a timeout, a connection error, a body over
    `max_bytes` or a transfer still running after `deadline` seconds.
    """
    url_check(url, allow_private=allow_private)
    started = time.monotonic()
    with _session(allow_private) as session:
        try:
            response = session.request(
                method,
                url,
                headers=headers,
                data=data,
                timeout=(connect_timeout, read_timeout),
                allow_redirects=False,
                stream=True,
            )
        except BlockedURL:
            raise
        except requests.Timeout as exc:
            raise FetchError(f"timed out: {_cause(exc)}") from None
        except requests.RequestException as exc:
            raise _blocked_cause(exc) or FetchError(f"request failed: {_cause(exc)}") from None
        with response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"the body is {declared} bytes; the limit is {max_bytes}")
            body = bytearray()
            try:
                # read1 returns whatever has arrived: a server dripping a byte at a time
                # still meets the deadline check after every read (read(n) would wait for
                # n bytes, each socket read inside it resetting the read timeout).
                while chunk := response.raw.read1(_CHUNK, decode_content=True):
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchError(f"the body is over the limit of {max_bytes} bytes")
                    if time.monotonic() - started > deadline:
                        raise FetchError(f"the transfer took longer than {deadline:g} s")
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise FetchError(f"reading the body failed: {_cause(exc)}") from None
        return Response(
            status=response.status_code,
            headers=dict(response.headers),
            body=bytes(body),
            elapsed=time.monotonic() - started,
        )


def _cause(exc: BaseException) -> str:
    # requests wraps urllib3's errors two levels deep; the innermost says what happened.
    while exc.__context__ is not None and str(exc.__context__):
        exc = exc.__context__
    return str(exc) or type(exc).__name__


def _blocked_cause(exc: BaseException) -> BlockedURL | None:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, BlockedURL):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def _session(allow_private: bool) -> requests.Session:
    session = requests.Session()
    # A proxy from HTTP(S)_PROXY would make the proxy's address the one checked.
    session.trust_env = False
    adapter = _GuardedAdapter(allow_private=allow_private, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, *, allow_private: bool, **kwargs) -> None:
        self.allow_private = allow_private
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        allow = self.allow_private
        self.poolmanager.pool_classes_by_scheme = {
            "http": _pool_class(HTTPConnectionPool, HTTPConnection, allow),
            "https": _pool_class(HTTPSConnectionPool, HTTPSConnection, allow),
        }


def _pool_class(pool_base, connection_base, allow_private: bool):
    class GuardedConnection(connection_base):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            reason = address_refusal(sock.getpeername()[0], allow_private=allow_private)
            if reason:
                sock.close()
                raise BlockedURL(f"{self.host} connected to {reason}")
            return sock

    return type(f"Guarded{pool_base.__name__}", (pool_base,), {"ConnectionCls": GuardedConnection})
