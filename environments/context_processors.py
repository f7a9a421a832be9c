from django.core.cache import cache

from .hosts import engine_for
from .models import DockerHost
from .roles import is_admin, is_trainer

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


def user_roles(request):
    """`user_is_admin` for the templates (the navigation shows the audit log to admins).
    A callable, so the query runs only on pages that ask."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_is_admin": False, "user_is_trainer": False}
    return {"user_is_admin": lambda: is_admin(user), "user_is_trainer": lambda: is_trainer(user)}
