from django.core.cache import cache

from .hosts import engine_for
from .models import DockerHost

CHECK_EVERY_SECONDS = 3


def engine_banner(request):
    """Names the Docker hosts that are not answering, for the banner on every page.

    Cached for a few seconds: pages are not slowed by a ping each, and a refused
    unix socket answers at once, so a down engine never makes a page hang.
    """
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}

    def check():
        return [f"{host.name} ({host.engine_url})" for host in DockerHost.objects.filter(enabled=True)
                if not engine_for(host).ping(timeout=2)]

    down = cache.get_or_set("dindweb:engines-down", check, CHECK_EVERY_SECONDS)
    return {"engines_down": down}
