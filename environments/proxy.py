"""The HTTP side of the port proxy: forward one request to a port of an environment's
own address and stream the answer back as it comes (server-sent events included).

Who may ask and where it goes are decided before this module is called (proxy_views.py
with selectors and ports.py); here we only carry bytes and clean headers both ways, so
that nothing of the dashboard's own (its session, its CSRF cookie) reaches the nested
app, and nothing the nested app sends can set them.
"""

import asyncio
import weakref
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

import httpx
from django.conf import settings

# Headers that describe one hop, not the message (RFC 9110 7.6.1), and those we set.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "proxy-connection"}
# Methods whose requests may carry a body without saying how long it is (chunked).
BODY_METHODS = {"POST", "PUT", "PATCH"}
SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"
# A slow app may take its time, but a request never hangs for good; a port where nothing
# accepts answers at once (refused) or after CONNECT_SECONDS (filtered).
TIMEOUT = httpx.Timeout(connect=5, read=300, write=60, pool=30)
CHUNK = 64 * 1024

# One client (and its pool of kept-alive connections) per event loop: daphne has one,
# tests make a loop per request, and a client must not outlive its loop.
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]" = weakref.WeakKeyDictionary()


class Unreachable(Exception):
    """Nothing answered at the port; str() says what happened."""


@dataclass
class Upstream:
    status: int
    headers: list[tuple[str, str]]
    body: object  # async iterator of bytes; closes the connection when done


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        # trust_env=False: HTTP(S)_PROXY of the server's environment must not reroute us.
        client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False,
                                   limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        _clients[loop] = client
    return client


def request_headers(meta: dict, *, prefix: str, host: str, scheme: str, remote: str) -> list[tuple[str, str]]:
    """The client's headers as the nested app should see them."""
    headers = []
    for key, value in meta.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").lower()
        else:
            continue
        if name in HOP_BY_HOP or name.startswith("x-forwarded-") or not value:
            continue
        if name == "cookie":
            value = _without_our_cookies(value)
            if not value:
                continue
        if name == "authorization" and value.startswith("Token "):
            continue  # our API token, never the app's
        if name == "content-length" and value == "0":
            continue
        headers.append((name, value))
    headers += [("x-forwarded-host", host), ("x-forwarded-proto", scheme), ("x-forwarded-prefix", prefix),
                ("x-forwarded-for", remote)]
    return headers


def _without_our_cookies(header: str) -> str:
    ours = {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}
    kept = [part.strip() for part in header.split(";")
            if part.strip() and part.split("=", 1)[0].strip() not in ours]
    return "; ".join(kept)


def response_headers(headers: httpx.Headers, *, origin: str, prefix: str, sandbox: bool) -> list[tuple[str, str]]:
    """The app's headers as the browser should see them: redirects kept under the prefix,
    none of our cookies touched, and the page sandboxed when asked."""
    kept, policy = [], ""
    for name, value in headers.multi_items():
        name = name.lower()
        if name in HOP_BY_HOP:
            continue
        if name == "set-cookie" and not _harmless_cookie(value):
            continue
        if name == "location":
            value = _location(value, origin=origin, prefix=prefix)
        if name == "content-security-policy":
            policy = value
            continue
        kept.append((name, value))
    if sandbox:
        # A policy of its own (after a comma), not a directive in the app's: there a second
        # `sandbox` would be ignored, and the app's own (allow-same-origin) would win.
        policy = f"{policy}, {SANDBOX}" if policy else SANDBOX
    if policy:
        kept.append(("content-security-policy", policy))
    return kept


def _harmless_cookie(value: str) -> bool:
    """One cookie that is not ours. Parsed as the dashboard will parse it (SimpleCookie):
    `x=1; sessionid=...` is two cookies, and `sessionid =...` is ours too."""
    jar = SimpleCookie()
    try:
        jar.load(value)
    except CookieError:
        return False
    return len(jar) == 1 and not set(jar) & {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}


def _location(value: str, *, origin: str, prefix: str) -> str:
    if value.startswith(origin):
        value = value[len(origin):] or "/"
    if value.startswith("/") and not value.startswith("//"):
        return prefix + value
    return value


async def forward(*, method: str, address: str, port: int, target: str, headers, body) -> Upstream:
    """Send the request to http://address:port followed by `target` (the path and query,
    taken as they are: they never change where we connect)."""
    url = httpx.URL(scheme="http", host=address, port=port).copy_with(raw_path=target.encode("ascii"))
    client = _client()
    try:
        request = client.build_request(method, url, headers=headers, content=body)
        response = await client.send(request, stream=True)
    except httpx.ConnectTimeout:
        raise Unreachable("Nothing answered in time: the port may be filtered.") from None
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError):
        raise Unreachable("Nothing is listening on that port.") from None
    except httpx.TimeoutException:
        raise Unreachable("The app did not answer in time.") from None
    except (httpx.HTTPError, UnicodeError):  # a header it cannot carry, a write that broke
        raise Unreachable("The request could not be passed on to the app.") from None

    async def stream():
        try:
            async for chunk in response.aiter_raw():  # as it arrives: a size would wait to fill
                yield chunk
        except httpx.HTTPError:
            return  # the app went away mid-answer: the browser sees a short body
        finally:
            await response.aclose()

    return Upstream(status=response.status_code, headers=response.headers, body=stream())


def request_body(request):
    """The client's body in chunks (Django has it spooled already; no copy in memory),
    or None when it sent none."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if (length in ("", "0") and request.method not in BODY_METHODS) or length == "0":
        return None
    return _chunks(request)


async def _chunks(request):
    while True:
        chunk = await asyncio.to_thread(request.read, CHUNK)
        if not chunk:
            return
        yield chunk
