from django.urls import re_path

from . import consumers
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
]
