"""The websocket side of the port proxy: a websocket opened on
/environments/ID/ports/PORT/... (the same address as the page that opens it) is joined to
the same path on that port of the environment's own address, frames passed both ways.

Refusals close with the consumers' codes: 4403 not allowed, 4404 no such environment,
4409 not running, 4400 a port out of range; 4502 when nothing accepts the websocket at
the port. Frames are the app's protocol: we never send any of our own.
"""

import asyncio
import logging
from urllib.parse import quote, urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security.websocket import WebsocketDenier
from django.http import Http404
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from . import ports, proxy, selectors
from .engine import EngineError
from .errors import Conflict, DindwebError, NotAllowed
from .port_hosts import port_for_host

log = logging.getLogger(__name__)

BAD_PORT, NOT_ALLOWED, NOT_FOUND, NOT_RUNNING, UNREACHABLE = 4400, 4403, 4404, 4409, 4502
OPEN_SECONDS = 10
# An app's websocket message is held whole in our memory: bounded, as the dashboard's own are.
MAX_MESSAGE = 16 * 1024 * 1024
# Headers of the browser's handshake the app may need (the rest is the handshake's own).
PASSED = {"cookie", "user-agent", "authorization", "accept-language"}


class PortProxyConsumer(AsyncWebsocketConsumer):
    upstream = None
    pump = None

    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        refusal, address = await self._check(self.scope["user"], kwargs["pk"], kwargs["port"])
        if refusal:
            await self.accept()  # a close code reaches the client only after the handshake
            await self.close(refusal)
            return
        port = int(kwargs["port"])
        url = f"ws://{address}:{port}{self._target(kwargs['port'])}"
        try:
            self.upstream = await connect(
                url, additional_headers=self._headers(kwargs), subprotocols=self.scope.get("subprotocols") or None,
                open_timeout=OPEN_SECONDS, proxy=None, max_size=MAX_MESSAGE, ping_interval=None, compression=None)
        except (OSError, asyncio.TimeoutError, WebSocketException) as exc:
            log.info("Port %s of environment %s refused a websocket: %s", port, kwargs["pk"], exc)
            await self.accept()
            await self.close(UNREACHABLE)
            return
        await self.accept(subprotocol=self.upstream.subprotocol)
        # Kept on the consumer: the event loop holds tasks only weakly.
        self.pump = asyncio.create_task(self._pump())

    @database_sync_to_async
    def _check(self, user, pk, port):
        """(close code, None) when refused; (None, the environment's address) otherwise."""
        try:
            environment = selectors.environment_for_stream(user, pk)
            ports.checked_port(port)
            return None, ports.environment_address(environment)
        except NotAllowed:
            return NOT_ALLOWED, None
        except Http404:
            return NOT_FOUND, None
        except Conflict:
            return NOT_RUNNING, None
        except DindwebError:
            return BAD_PORT, None
        except EngineError:
            return NOT_RUNNING, None

    def _target(self, raw_port: str) -> str:
        query = self.scope.get("query_string", b"").decode("latin-1")
        path = self.scope.get("raw_path") or quote(self.scope["path"], safe="/:@!$&'()*+,;=-._~%").encode()
        path = path.decode("latin-1") if isinstance(path, bytes) else path
        path = path.split("?", 1)[0]
        if not self.scope.get("dindweb_port_host"):
            path = path[path.index(f"/ports/{raw_port}/") + len(f"/ports/{raw_port}"):]
        return path + (f"?{query}" if query else "")

    def _headers(self, kwargs) -> list[tuple[str, str]]:
        meta = {}
        for key, value in self.scope.get("headers", []):
            name = key.decode("latin-1").lower()
            if name in PASSED:
                meta["HTTP_" + name.upper().replace("-", "_")] = value.decode("latin-1")
        host = dict(self.scope.get("headers", [])).get(b"host", b"").decode("latin-1")
        client = (self.scope.get("client") or ("",))[0]
        prefix = "" if self.scope.get("dindweb_port_host") else f"/environments/{kwargs['pk']}/ports/{int(kwargs['port'])}"
        return proxy.request_headers(meta, prefix=prefix, host=host, scheme="http", remote=client)

    async def _pump(self):
        code = 1000
        try:
            async for message in self.upstream:
                if isinstance(message, str):
                    await self.send(text_data=message)
                else:
                    await self.send(bytes_data=message)
            code = self.upstream.close_code or 1000
        except WebSocketException:
            code = 1011
        # Codes a server may send on: the app's own, or a normal close.
        await self.close(code if code == 1000 or 3000 <= code <= 4999 else 1011)

    async def receive(self, text_data=None, bytes_data=None):
        if self.upstream is None:
            return
        try:
            await self.upstream.send(text_data if text_data is not None else bytes_data)
        except WebSocketException:
            pass  # the app closed; the pump closes our side

    async def disconnect(self, code):
        if self.upstream is not None:
            await self.upstream.close()
        if self.pump is not None and self.pump is not asyncio.current_task():
            self.pump.cancel()


def port_host_websockets(inner):
    """Websockets to a port's own host name (DINDWEB_PORTS_HOST) go to the proxy, whatever
    their path; all others to `inner` (our own routes)."""
    consumer, deny = PortProxyConsumer.as_asgi(), WebsocketDenier.as_asgi()

    async def route(scope, receive, send):
        headers = dict(scope.get("headers", []))
        host = headers.get(b"host", b"").decode("latin-1")
        origin = urlsplit(headers.get(b"origin", b"").decode("latin-1")).netloc
        found = port_for_host(host) if scope["type"] == "websocket" else None
        if not found:
            # A nested app's page (its host is one of ours by name) must not open our own
            # sockets (a shell!) with the cookies of whoever views it.
            if origin and port_for_host(origin):
                return await deny(scope, receive, send)
            return await inner(scope, receive, send)
        if origin and origin.lower() != host.lower():
            return await deny(scope, receive, send)  # nor another port's
        scope = dict(scope, dindweb_port_host=True, url_route={"args": (), "kwargs": {**found, "path": ""}})
        return await consumer(scope, receive, send)

    return route
