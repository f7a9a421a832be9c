"""Dashboard pages (htmx). Thin: each view asks a selector who may see what, calls a
service for any change, and turns a refusal into a message with a 4xx status."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from . import audit, ports, quotas, selectors, services
from .engine import EngineError
from .errors import DindwebError, InvalidRequest, http_status
from .forms import SIZES, EnvironmentForm
from .models import NESTED_CONTAINER_PATTERN
from .throttles import check_create_rate


def _form_context(form: EnvironmentForm) -> dict:
    chosen = form.data.getlist("preload") if form.is_bound else services.default_preloads()
    return {"form": form, "sizes": SIZES, "images": services.allowed_images(), "chosen": chosen}


@login_required
@require_GET
def environment_list(request):
    # A trainer's classroom seats live on the classroom pages, not in this list.
    environments = list(selectors.environments_visible_to(request.user).personal().filter(owner=request.user))
    context = {"environments": environments, "any_busy": any(e.is_busy for e in environments),
               "seats": request.user.seats.select_related("classroom"),
               **_form_context(EnvironmentForm())}
    if request.htmx and request.GET.get("fragment") == "rows":
        return render(request, "environments/list.html#rows", context)
    return render(request, "environments/list.html", context)


@login_required
@require_POST
def environment_create(request):
    form = EnvironmentForm(request.POST)
    error, status = None, 400
    if form.is_valid():
        arguments = form.service_arguments()
        try:
            with audit.audited(action="environment.create", request=request,
                               target=f"{request.user.username}/{arguments['name']}"):
                check_create_rate(request)
                environment = services.environment_create(owner=request.user, **arguments)
        except (DindwebError, EngineError) as exc:
            error, status = str(exc), http_status(exc)
        else:
            messages.success(request, f"Creating {environment.name}: it will be ready in a few seconds.")
            url = reverse("environment_detail", args=[environment.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    else:
        error = form.first_error()
    context = {"error": error, **_form_context(form)}
    template = "environments/list.html#create-form" if request.htmx else "environments/create_failed.html"
    return render(request, template, context, status=status)


@login_required
@require_GET
def environment_detail(request, pk):
    environment = selectors.environment_for_user(request.user, pk)
    if request.htmx and request.GET.get("fragment") == "console":
        return render(request, "environments/detail.html#console", {"environment": environment})
    return render(request, "environments/detail.html",
                  {"environment": environment, "disk_warning": quotas.disk_warning(environment)})


@login_required
@require_GET
def environment_status(request, pk):
    """The status panel alone; the page polls it while background work is under way."""
    environment = selectors.environment_for_user(request.user, pk)
    response = render(request, "environments/detail.html#status", {"environment": environment})
    if request.GET.get("was") != environment.status:
        # Tell the rest of the page (the "Inside" panel) to load again.
        trigger_client_event(response, "status-changed")
    return response


@login_required
@require_GET
def environment_inside(request, pk):
    """Nested containers and images, loaded after the page so that a slow or stopped
    engine never holds the page itself."""
    environment = selectors.environment_for_user(request.user, pk)
    context = {"environment": environment, "loaded": True}
    try:
        context["containers"] = selectors.nested_containers(environment)
        context["ports"] = ports.published_ports(context["containers"])
        context["images"] = selectors.nested_images(environment)
    except (DindwebError, EngineError) as exc:
        context["inside_error"] = str(exc)
    return render(request, "environments/detail.html#inside", context)


ACTIONS = {
    "start": (services.environment_start, "Starting {name}."),
    "stop": (services.environment_stop, "Stopping {name}."),
    "restart": (services.environment_restart, "Restarting {name}."),
    "delete": (services.environment_delete, "Deleting {name}."),
}


def _act(request, environment, *, action: str, call, done, after: str | None = None):
    """Run a change a page's form asked for: audit it, say how it went as a message, and
    answer with its status (a refusal keeps its 4xx). `done()` is the success sentence;
    `after` the page to go to when it worked (the environment's page otherwise)."""
    try:
        with audit.audited(action=f"environment.{action}", target=str(environment), request=request):
            call()
    except (DindwebError, EngineError) as exc:
        messages.error(request, str(exc))
        status = http_status(exc)
    else:
        messages.success(request, done())
        status = 200
    url = after if after and status == 200 else reverse("environment_detail", args=[environment.pk])
    if request.htmx:
        # htmx follows HX-Redirect whatever the status.
        response = HttpResponseClientRedirect(url)
        response.status_code = status
        return response
    if status != 200:
        # A plain form post that was refused: show the page again with the message.
        return render(request, "environments/detail.html", {"environment": environment}, status=status)
    return redirect(url)


@login_required
@require_POST
def environment_action(request, pk, action):
    environment = selectors.environment_to_manage(request.user, pk)
    service, done = ACTIONS[action]
    return _act(request, environment, action=action, call=lambda: service(environment=environment),
                done=lambda: done.format(name=environment.name),
                after=reverse("environment_list") if action == "delete" else None)


def _nested_reference(request) -> str | None:
    """The ?container= of a log page: a nested container's id or name, or None for the
    environment's own daemon log. Anything else is refused before reaching the engine."""
    reference = request.GET.get("container") or None
    if reference is not None and not re.fullmatch(NESTED_CONTAINER_PATTERN, reference):
        raise InvalidRequest("That is not a container name or id.")
    return reference


@login_required
@require_GET
def environment_logs(request, pk):
    environment = selectors.environment_for_user(request.user, pk)
    try:
        container = _nested_reference(request)
    except InvalidRequest as exc:
        return render(request, "environments/logs.html", {"environment": environment, "error": str(exc)},
                      status=400)
    return render(request, "environments/logs.html", {"environment": environment, "container": container})


@login_required
@require_GET
def environment_logs_download(request, pk):
    """The whole log as a text file, streamed (it can be far larger than the viewer keeps)."""
    environment = selectors.environment_for_user(request.user, pk)
    try:
        container = _nested_reference(request)
        text = selectors.log_download(environment, container)
    except (DindwebError, EngineError) as exc:
        return HttpResponse(str(exc), status=http_status(exc), content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(text, content_type="text/plain; charset=utf-8")
    name = f"{environment.name}-{container or 'docker-daemon'}.log"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def nested_container_shell(request, pk, cid):
    environment = selectors.environment_for_user(request.user, pk)
    return render(request, "environments/container_shell.html", {"environment": environment, "container": cid})


@login_required
@require_POST
def environment_extend(request, pk):
    environment = selectors.environment_to_manage(request.user, pk)
    return _act(request, environment, action="extend",
                call=lambda: services.environment_extend(environment=environment,
                                                         minutes=request.POST.get("minutes")),
                done=lambda: f"{environment.name} now lives until {environment.expires_at:%Y-%m-%d %H:%M} UTC.")
