"""The Docker hosts pages, for admins: each host's health, what it has given out and its
environments; register, change, check and remove hosts; copy images; move environments.

A refused request renders the page again with the sentence and a 4xx status (a 503
when an engine does not answer); what succeeded redirects with a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import audit, host_health, host_services, placement
from .engine import EngineError
from .errors import DindwebError, InvalidRequest, http_status
from .host_forms import HostForm
from .models import DockerHost, Environment
from .roles import is_admin

REFUSED = (DindwebError, EngineError)


def _admin_only(request):
    """Admins only; to anyone else these pages do not exist."""
    if not is_admin(request.user):
        raise Http404("No such page.")


def _list_page(request, new_form=None, status=200):
    hosts = placement.with_load().order_by("name")
    return render(request, "hosts/list.html", {"hosts": hosts, "new_form": new_form or HostForm(prefix="new")},
                  status=status)


def _detail_page(request, host, form=None, status=200):
    host = placement.with_load(DockerHost.objects.filter(pk=host.pk)).get()
    environments = host.environments.select_related("owner").order_by("owner__username", "name")
    return render(request, "hosts/detail.html", {
        "host": host, "form": form or HostForm(instance=host), "environments": environments,
        "targets": DockerHost.objects.exclude(pk=host.pk).order_by("name"),
    }, status=status)


@login_required
@require_GET
def host_list(request):
    _admin_only(request)
    return _list_page(request)


@login_required
@require_POST
def host_create(request):
    _admin_only(request)
    form = HostForm(request.POST, prefix="new")
    try:
        with audit.audited(action="host.change", target=f"host {request.POST.get('new-name', '')} added",
                           request=request):
            host = host_services.host_save(form=form)
    except REFUSED as exc:
        messages.error(request, str(exc))
        return _list_page(request, new_form=form, status=http_status(exc))
    messages.success(request, _saved_sentence(host))
    return redirect("host_detail", pk=host.pk)


@login_required
@require_GET
def host_detail(request, pk):
    _admin_only(request)
    return _detail_page(request, get_object_or_404(DockerHost, pk=pk))


@login_required
@require_POST
def host_save(request, pk):
    _admin_only(request)
    host = get_object_or_404(DockerHost, pk=pk)
    form = HostForm(request.POST, instance=host)
    try:
        with audit.audited(action="host.change", target=f"host {host.name}", request=request):
            host = host_services.host_save(form=form)
    except REFUSED as exc:
        messages.error(request, str(exc))
        return _detail_page(request, DockerHost.objects.get(pk=pk), form=form, status=http_status(exc))
    messages.success(request, _saved_sentence(host))
    return redirect("host_detail", pk=host.pk)


def _saved_sentence(host: DockerHost) -> str:
    if host.answering:
        return f"{host.name} saved; it answers (Docker {host.engine_version}, {host.latency_ms} ms)."
    return f"{host.name} saved, but it does not answer: {host.health_detail}"


@login_required
@require_POST
def host_check(request, pk):
    _admin_only(request)
    host = get_object_or_404(DockerHost, pk=pk)
    host_health.check_host(host)
    audit.record(action="host.check", target=f"host {host.name}", request=request,
                 detail="answering" if host.answering else host.health_detail)
    if host.answering:
        messages.success(request, f"{host.name} answers: Docker {host.engine_version} in {host.latency_ms} ms.")
    else:
        messages.error(request, f"{host.name} does not answer: {host.health_detail}")
    return redirect("host_detail", pk=host.pk)


@login_required
@require_POST
def host_copy_images(request, pk):
    _admin_only(request)
    host = get_object_or_404(DockerHost, pk=pk)
    try:
        with audit.audited(action="host.images", target=f"host {host.name}", request=request):
            copied = host_services.host_copy_images(host=host)
    except REFUSED as exc:
        messages.error(request, str(exc))
        return _detail_page(request, host, status=http_status(exc))
    messages.success(request, f"Copied {', '.join(copied)}." if copied else f"{host.name} has every image already.")
    return redirect("host_detail", pk=host.pk)


@login_required
@require_POST
def host_remove(request, pk):
    _admin_only(request)
    host = get_object_or_404(DockerHost, pk=pk)
    try:
        with audit.audited(action="host.change", target=f"host {host.name} removed", request=request):
            host_services.host_remove(host=host)
    except REFUSED as exc:
        messages.error(request, str(exc))
        return _detail_page(request, host, status=http_status(exc))
    messages.success(request, f"{host.name} removed.")
    return redirect("host_list")


@login_required
@require_POST
def environment_move(request, pk):
    """Move a stopped environment (pk) to the host named in the form."""
    _admin_only(request)
    environment = get_object_or_404(Environment.objects.select_related("host", "owner"), pk=pk)
    source = environment.host
    try:
        with audit.audited(action="environment.move", target=str(environment), request=request):
            target = DockerHost.objects.filter(pk=_number(request.POST.get("target"))).first()
            if target is None:
                raise InvalidRequest("Choose the Docker host to move the environment to.")
            host_services.environment_move(environment=environment, target=target)
    except REFUSED as exc:
        messages.error(request, str(exc))
        return _detail_page(request, source, status=http_status(exc))
    messages.success(request, f"{environment} moved to {target.name}; its owner can start it there.")
    return redirect("host_detail", pk=source.pk)


def _number(text) -> int | None:
    return int(text) if isinstance(text, str) and text.isdigit() and len(text) < 12 else None
