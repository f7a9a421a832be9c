from django.urls import re_path

from . import consumers

# CID: a nested container's id or name, as Docker allows them.
ENV = r"^ws/environments/(?P<pk>[0-9]+)/"
CID = r"containers/(?P<cid>[A-Za-z0-9][A-Za-z0-9_.-]{0,127})/"

websocket_urlpatterns = [
    re_path(ENV + r"shell/$", consumers.ShellConsumer.as_asgi(), name="ws_environment_shell"),
    re_path(ENV + CID + r"shell/$", consumers.ShellConsumer.as_asgi(), name="ws_container_shell"),
    re_path(ENV + r"logs/$", consumers.LogConsumer.as_asgi(), name="ws_environment_logs"),
    re_path(ENV + CID + r"logs/$", consumers.LogConsumer.as_asgi(), name="ws_container_logs"),
    re_path(ENV + r"stats/$", consumers.StatsConsumer.as_asgi(), name="ws_environment_stats"),
]
