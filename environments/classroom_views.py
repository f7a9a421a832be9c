"""The trainer's classroom pages: the list, one class's grid of seats, and its actions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from . import audit
from .classrooms import access
from .classrooms.classrooms import (classroom_broadcast, classroom_create, classroom_end,
                                    classroom_provision, classroom_results_csv, classrooms_of,
                                    seat_state, seats_in_use)
from .classrooms.roster import passwords_csv, roster_import
from .classrooms.seats import seat_reset
from .engine import EngineError
from .errors import DindwebError, http_status
from .models import DockerHost
from .quotas import limits_for


def _list_context(request, **extra) -> dict:
    return {"classrooms": classrooms_of(request.user).select_related("template"),
            "templates": access.templates_visible_to(request.user),
            "hosts": DockerHost.objects.filter(enabled=True),
            "seats_used": seats_in_use(request.user),
            "seats_limit": limits_for(request.user).max_classroom_seats, **extra}


@login_required
@require_GET
def classroom_list(request):
    access.require_trainer(request.user)
    return render(request, "classrooms/list.html", _list_context(request))


@login_required
@require_POST
def classroom_create_view(request):
    access.require_trainer(request.user)
    post = request.POST
    try:
        template = access.template_for_user(request.user, post.get("template") or 0)
    except Http404:
        return render(request, "classrooms/list.html",
                      _list_context(request, error="Choose one of your lab templates.", values=post), status=400)
    chosen = post.get("host", "")
    host = DockerHost.objects.filter(pk=int(chosen), enabled=True).first() if chosen.isdigit() else None
    try:
        with audit.audited(action="classroom.create", request=request, target=post.get("title", "")):
            classroom = classroom_create(
                trainer=request.user, template=template, title=post.get("title"),
                starts_at=post.get("starts_at"), ends_at=post.get("ends_at"), seats=post.get("seats") or 0,
                provision_at=post.get("provision_at") or None, grace_minutes=post.get("grace_minutes"),
                host=host)
    except (DindwebError, EngineError) as exc:
        return render(request, "classrooms/list.html", _list_context(request, error=str(exc), values=post),
                      status=http_status(exc))
    messages.success(request, f"Class {classroom.title} created. Share its join code {classroom.join_code}.")
    return redirect("classroom_detail", pk=classroom.pk)


def _detail(request, classroom, template="classrooms/detail.html", status=200, **extra):
    """The class's page (or its grid alone), also when it answers a refused action."""
    seats = classroom.seats.select_related("student", "environment")
    context = {"classroom": classroom, "rows": [{"seat": seat, "state": seat_state(seat)} for seat in seats],
               "join_url": request.build_absolute_uri(reverse("join_class", args=[classroom.join_code])),
               "pending_passwords": classroom.one_time_passwords.filter(used_at__isnull=True).exists(),
               **extra}
    return render(request, template, context, status=status)


@login_required
@require_GET
def classroom_detail(request, pk):
    classroom = access.classroom_for_user(request.user, pk)
    if request.htmx and request.GET.get("fragment") == "grid":
        return _detail(request, classroom, "classrooms/detail.html#grid")
    return _detail(request, classroom)


def _act(request, classroom, action: str, call, done: str):
    """A trainer's button: audited, said as a message, refusals keep their 4xx."""
    try:
        with audit.audited(action=f"classroom.{action}", request=request, target=str(classroom)):
            result = call()
    except (DindwebError, EngineError) as exc:
        messages.error(request, str(exc))
        return _detail(request, classroom, status=http_status(exc))
    messages.success(request, done.format(result=result))
    return redirect("classroom_detail", pk=classroom.pk)


@login_required
@require_POST
def classroom_provision_view(request, pk):
    classroom = access.classroom_for_user(request.user, pk)
    return _act(request, classroom, "provision", lambda: classroom_provision(classroom=classroom),
                "Provisioning {result} seats: watch them come up below.")


@login_required
@require_POST
def classroom_end_view(request, pk):
    classroom = access.classroom_for_user(request.user, pk)
    return _act(request, classroom, "end", lambda: classroom_end(classroom=classroom),
                "The class has ended: {result} seats stopped; they are deleted after the grace period.")


@login_required
@require_POST
def classroom_roster(request, pk):
    classroom = access.classroom_for_user(request.user, pk)
    try:
        with audit.audited(action="classroom.roster", request=request, target=str(classroom)):
            seats = roster_import(classroom=classroom, text=request.POST.get("roster", ""))
    except (DindwebError, EngineError) as exc:
        # A RosterError also lists its problems, one sentence per line of the roster.
        return _detail(request, classroom, status=http_status(exc), roster_error=str(exc),
                       roster_problems=getattr(exc, "problems", []), roster_text=request.POST.get("roster", ""))
    messages.success(request, f"{len(seats)} seats added. Download the one-time passwords of new accounts.")
    return redirect("classroom_detail", pk=classroom.pk)


@login_required
@require_POST
def classroom_broadcast_view(request, pk):
    classroom = access.classroom_for_user(request.user, pk)
    command = request.POST.get("command", "")
    try:
        with audit.audited(action="classroom.broadcast", request=request,
                           target=f"{classroom}: {command[:200]}"):
            results = classroom_broadcast(classroom=classroom, command=command,
                                          timeout=request.POST.get("timeout") or 60)
    except (DindwebError, EngineError) as exc:
        return render(request, "classrooms/_broadcast.html", {"error": str(exc), "command": command},
                      status=http_status(exc))
    return render(request, "classrooms/_broadcast.html", {"results": results, "command": command})


def _csv(text: str, name: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def classroom_results(request, pk):
    classroom = access.classroom_for_user(request.user, pk)
    return _csv(classroom_results_csv(classroom), f"class-{classroom.pk}-results.csv")


@login_required
@require_GET
def classroom_passwords(request, pk):
    classroom = access.classroom_for_user(request.user, pk)
    audit.record(action="classroom.passwords", request=request, target=str(classroom))
    return _csv(passwords_csv(classroom), f"class-{classroom.pk}-passwords.csv")


@login_required
@require_POST
def seat_reset_view(request, pk):
    seat = access.seat_for_user(request.user, pk)
    if not access.runs_class_of(request.user, seat.classroom):
        raise PermissionDenied("Only the class's trainer resets a seat.")
    try:
        with audit.audited(action="seat.reset", request=request, target=str(seat)):
            seat_reset(seat=seat)
    except (DindwebError, EngineError) as exc:
        messages.error(request, str(exc))
        return redirect("classroom_detail", pk=seat.classroom_id)
    messages.success(request, f"Seat {seat.number} is being made again from the lab.")
    return redirect("classroom_detail", pk=seat.classroom_id)
