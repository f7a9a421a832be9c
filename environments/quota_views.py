"""Usage and quotas: each user sees their own use against their limits; admins set quotas
for the site, groups and users, and see everyone's use and each host's capacity."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import audit, quotas
from .classrooms.classrooms import seats_in_use
from .engine import EngineError
from .errors import DindwebError
from .forms import QuotaForm
from .hosts import engine_for
from .models import DockerHost, Environment, Quota
from .quota_services import quota_remove, quota_set
from .roles import is_admin, is_trainer


def _admin_only(request):
    """Admins only; to anyone else these pages do not exist."""
    if not is_admin(request.user):
        raise Http404("No such page.")


@login_required
@require_GET
def usage(request):
    limits, used = quotas.limits_for(request.user), quotas.usage_of(request.user)
    environments = Environment.objects.personal().filter(owner=request.user).order_by("name")
    seats = seats_in_use(request.user) if is_trainer(request.user) else None
    return render(request, "quotas/usage.html", {"limits": limits, "used": used, "environments": environments,
                                                 "classroom_seats": seats})


@login_required
@require_GET
def quota_list(request):
    _admin_only(request)
    rows = [(quota, QuotaForm(instance=quota, prefix=f"q{quota.pk}"))
            for quota in Quota.objects.select_related("user", "group").order_by("-group", "-user")]
    return render(request, "quotas/admin.html", {
        "rows": rows, "new_form": QuotaForm(prefix="new", initial=_default_initial()),
        "groups": Group.objects.order_by("name")})


def _default_initial() -> dict:
    default = quotas.site_default()
    return {name: getattr(default, name) for name in quotas.LIMIT_FIELDS}


def _scope(request):
    """Whose quota the posted form is for: ("user", user), ("group", group) or the default."""
    scope = request.POST.get("scope", "")
    if scope.startswith("group:"):
        return {"group": get_object_or_404(Group, pk=scope.split(":", 1)[1])}
    if scope == "user":
        username = request.POST.get("username", "").strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise DindwebError(f"There is no user named {username or '(empty)'}.")
        return {"user": user}
    return {}


@login_required
@require_POST
def quota_save(request, pk=None):
    _admin_only(request)
    quota = get_object_or_404(Quota, pk=pk) if pk else None
    form = QuotaForm(request.POST, instance=quota, prefix=f"q{pk}" if pk else "new")
    try:
        owner = {"user": quota.user, "group": quota.group} if quota else _scope(request)
        target = str(quota) if quota else str(Quota(**owner))
        with audit.audited(action="quota.change", target=target, request=request):
            if not form.is_valid():
                raise DindwebError(form.first_error())
            saved = quota_set(**owner, **{name: form.cleaned_data[name] for name in quotas.LIMIT_FIELDS})
    except DindwebError as exc:
        messages.error(request, str(exc))
        return redirect("quota_list")
    messages.success(request, f"{saved} saved.")
    return redirect("quota_list")


@login_required
@require_POST
def quota_delete(request, pk):
    _admin_only(request)
    quota = get_object_or_404(Quota, pk=pk)
    try:
        with audit.audited(action="quota.change", target=f"{quota} removed", request=request):
            quota_remove(quota=quota)
    except DindwebError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{quota} removed.")
    return redirect("quota_list")


@login_required
@require_GET
def overview(request):
    _admin_only(request)
    active = Q(environments__status__in=quotas.ACTIVE)
    users = (get_user_model().objects.order_by("username")
             .annotate(held=Count("environments", distinct=True),
                       cpus=Sum("environments__cpus", filter=active),
                       memory=Sum("environments__memory_mb", filter=active)))
    people = [(user, quotas.limits_for(user)) for user in users]
    return render(request, "quotas/overview.html", {"people": people, "hosts": [_capacity(h) for h in DockerHost.objects.all()]})


def _capacity(host: DockerHost) -> dict:
    running = host.environments.filter(status__in=quotas.ACTIVE).aggregate(
        count=Count("id"), cpus=Sum("cpus"), memory=Sum("memory_mb"))
    facts = {"host": host, "running": running["count"], "cpus": running["cpus"] or 0,
             "memory_mb": running["memory"] or 0, "total": host.environments.count()}
    if not host.answering:  # as the host check last saw it: a dead host must not hang the page
        facts.update(answering=False, error=host.health_detail or "It is not answering.")
        return facts
    try:
        info = engine_for(host).info()
        facts.update(answering=True, ncpu=info.get("NCPU"), mem_total_mb=(info.get("MemTotal") or 0) // 2**20,
                     version=info.get("ServerVersion"))
    except EngineError as exc:
        facts.update(answering=False, error=str(exc))
    return facts
