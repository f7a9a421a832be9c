"""ASGI entry point: HTTP through Django, websockets through Channels (served by daphne)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dindweb.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)

from environments.proxy_consumer import port_host_websockets  # noqa: E402
from environments.routing import websocket_urlpatterns  # noqa: E402
from environments.ws_auth import websocket_auth  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": websocket_auth(port_host_websockets(URLRouter(websocket_urlpatterns))),
})
