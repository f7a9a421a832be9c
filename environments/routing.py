from django.urls import re_path

from . import consumers, proxy_consumer
from .models import NESTED_CONTAINER_PATTERN

# CID: a nested container's id or name, as Docker allows them.
ENV = r"^ws/environments/(?P<pk>[0-9]+)/"
CID = rf"containers/(?P<cid>{NESTED_CONTAINER_PATTERN})/"

websocket_urlpatterns = [
    re_path(ENV + r"shell/$", consumers.ShellConsumer.as_asgi(), name="ws_environment_shell"),
    re_path(ENV + CID + r"shell/$", consumers.ShellConsumer.as_asgi(), name="ws_container_shell"),
    re_path(ENV + r"logs/$", consumers.LogConsumer.as_asgi(), name="ws_environment_logs"),
    re_path(ENV + CID + r"logs/$", consumers.LogConsumer.as_asgi(), name="ws_container_logs"),
    re_path(ENV + r"stats/$", consumers.StatsConsumer.as_asgi(), name="ws_environment_stats"),
    # A nested app's own websockets, at the address of the page that opens them (issue 6).
    re_path(r"^environments/(?P<pk>[0-9]+)/ports/(?P<port>[0-9]{1,5})/(?P<path>.*)$",
            proxy_consumer.PortProxyConsumer.as_asgi(), name="ws_port_proxy"),
    re_path(ENV + r"watch/$", consumers.WatchConsumer.as_asgi(), name="ws_environment_watch"),
    re_path(ENV + r"status/$", consumers.StatusConsumer.as_asgi(), name="ws_environment_status"),
]
