"""The student's side: join a class by its code (signing in or up), then the seat page:
instructions beside the terminal, nested containers and logs."""

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import audit
from .classrooms import access
from .classrooms.classrooms import seat_state, warning_for
from .classrooms.lab_templates import instructions_html
from .classrooms.seats import seat_claim
from .errors import DindwebError, http_status
from .models import Classroom
from .throttles import check_signup_rate


def _classroom_by_code(code: str):
    code = (code or "").strip().upper().replace(" ", "").replace("-", "")
    return Classroom.objects.filter(join_code=code).select_related("trainer").first() if code else None


@require_http_methods(["GET", "POST"])
def join(request):
    """The join-code form: a student types the code shown by the trainer."""
    if request.method == "POST":
        classroom = _classroom_by_code(request.POST.get("code", ""))
        if classroom is None:
            return render(request, "classrooms/join.html",
                          {"error": "There is no class with that code: check it with your trainer."}, status=404)
        return redirect("join_class", code=classroom.join_code)
    return render(request, "classrooms/join.html", {})


@require_http_methods(["GET", "POST"])
def join_class(request, code):
    """GET: what the class is, and sign in / sign up when needed. POST: claim a seat."""
    classroom = _classroom_by_code(code)
    if classroom is None:
        return render(request, "classrooms/join.html",
                      {"error": "There is no class with that code: check it with your trainer."}, status=404)
    if request.method == "GET" or not request.user.is_authenticated:
        return render(request, "classrooms/join_class.html",
                      {"classroom": classroom, "signup": UserCreationForm(),
                       "mine": classroom.seats.filter(student=request.user).first()
                       if request.user.is_authenticated else None},
                      status=200 if request.method == "GET" else 403)
    return _claim(request, classroom)


def _claim(request, classroom):
    try:
        with audit.audited(action="seat.claim", request=request, target=str(classroom)):
            seat = seat_claim(classroom=classroom, student=request.user)
    except DindwebError as exc:
        return render(request, "classrooms/join_class.html",
                      {"classroom": classroom, "error": str(exc)}, status=http_status(exc))
    return redirect("seat_detail", pk=seat.pk)


@require_POST
def join_signup(request, code):
    """A new account, signed in, and a seat claimed, in one go."""
    classroom = _classroom_by_code(code)
    if classroom is None:
        return render(request, "classrooms/join.html",
                      {"error": "There is no class with that code: check it with your trainer."}, status=404)
    form = UserCreationForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return render(request, "classrooms/join_class.html",
                      {"classroom": classroom, "signup": form, "signup_error": first}, status=400)
    # An account only comes with a seat: a full or ended class makes none.
    try:
        check_signup_rate(request)
        with transaction.atomic():
            user = form.save()
            seat = seat_claim(classroom=classroom, student=user)
    except DindwebError as exc:
        return render(request, "classrooms/join_class.html", {"classroom": classroom, "error": str(exc)},
                      status=http_status(exc))
    audit.record(action="account.signup", actor=user, request=request, target=str(classroom))
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("seat_detail", pk=seat.pk)


def _seat_context(request, seat) -> dict:
    environment = seat.environment
    return {"seat": seat, "classroom": seat.classroom, "environment": environment,
            "state": seat_state(seat), "warning": warning_for(seat.classroom),
            "is_trainer": access.runs_class_of(request.user, seat.classroom),
            "is_student": seat.student_id == request.user.pk}


@login_required
@require_GET
def seat_detail(request, pk):
    seat = access.seat_for_user(request.user, pk)
    context = _seat_context(request, seat)
    context["instructions"] = instructions_html(seat.spec.get("instructions", "") if seat.spec else (
        seat.classroom.template.instructions if seat.classroom.template else ""))
    context["mode"] = request.GET.get("mode", "watch") if context["is_trainer"] else "student"
    return render(request, "classrooms/seat.html", context)


@login_required
@require_GET
def seat_panel(request, pk):
    """The seat's status line and banners (trainer watching, class ending), polled."""
    seat = access.seat_for_user(request.user, pk)
    response = render(request, "classrooms/seat.html#panel", _seat_context(request, seat))
    if request.GET.get("was") != (seat.environment.status if seat.environment else "none"):
        response["HX-Trigger"] = "seat-changed"
    return response
