"""Ports on host names of their own, for apps that must live at "/": with
DINDWEB_PORTS_HOST = "{port}-{id}.ports.example.com", a request for
8080-12.ports.example.com/any/path is the port proxy's for environment 12, port 8080.

Each port is then an origin of its own, so its pages need no sandbox: they cannot reach
the dashboard's pages or another port's. The session cookie must be sent there too
(SESSION_COOKIE_DOMAIN=".example.com"); the proxy never passes it on to the app.
"""

import re
from functools import lru_cache

from asgiref.sync import async_to_sync, iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpResponse
from django.utils.decorators import sync_and_async_middleware

from . import proxy_views


@lru_cache(maxsize=4)
def _compiled(pattern: str):
    if "{port}" not in pattern or "{id}" not in pattern:
        raise ValueError("DINDWEB_PORTS_HOST must contain {port} and {id}, e.g. {port}-{id}.ports.example.com")
    regex = re.escape(pattern).replace(r"\{port\}", r"(?P<port>[0-9]{1,5})").replace(r"\{id\}", r"(?P<pk>[0-9]+)")
    return re.compile(regex + r"(?::[0-9]+)?", re.IGNORECASE)


def port_for_host(host: str) -> dict | None:
    """{"pk", "port"} when `host` (as the client sent it) names a port; None otherwise."""
    pattern = settings.DINDWEB_PORTS_HOST
    if not pattern or not host:
        return None
    match = _compiled(pattern).fullmatch(host)
    return match.groupdict() if match else None


def _port_asked(request) -> dict | None:
    # Without the setting, the host is not even looked at.
    return port_for_host(request.get_host()) if settings.DINDWEB_PORTS_HOST else None


async def _answer(request, found):
    if not (await request.auser()).is_authenticated:
        return await proxy_views._refused(request, None, found["port"],
                                          "Log in to the dashboard first, then open this port again.", 401)
    return await proxy_views.proxied(request, pk=found["pk"], port=found["port"], target=request.get_full_path(),
                                     prefix="", sandbox=False)


async def _read_whole(request, found):
    """Served without ASGI (Django's test client): the body is read here, while the event
    loop its connection belongs to still runs."""
    response = await _answer(request, found)
    if response.streaming:
        content = b"".join([chunk async for chunk in response.streaming_content])
        whole = HttpResponse(content, status=response.status_code)
        for name, value in response.items():
            whole[name] = value
        whole.cookies = response.cookies
        return whole
    return response


@sync_and_async_middleware
def port_host_middleware(get_response):
    """Placed after the authentication middleware: a port's host never reaches our URLs."""
    if iscoroutinefunction(get_response):
        async def middleware(request):
            found = _port_asked(request)
            if found:
                return await _answer(request, found)
            return await get_response(request)

        return markcoroutinefunction(middleware)

    def sync_middleware(request):
        found = _port_asked(request)
        if found:
            return async_to_sync(_read_whole)(request, found)
        return get_response(request)

    return sync_middleware
