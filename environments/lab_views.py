"""Lab template pages (trainers): list, create, edit, duplicate, delete."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import audit, services
from .classrooms import access
from .classrooms.lab_templates import (instructions_html, lab_template_duplicate, lab_template_save,
                                       run_containers_text)
from .engine import EngineError
from .errors import DindwebError, http_status
from .models import LabTemplate


def _form(request, template: LabTemplate | None, error: str = "", status: int = 200):
    values = request.POST if request.method == "POST" else None
    context = {
        "template": template, "error": error, "images": services.allowed_images(),
        "values": values,
        "chosen": values.getlist("preload") if values else (template.preload if template else []),
        "run_text": values.get("run_containers", "") if values else (
            run_containers_text(template.run_containers) if template else ""),
        "preview": instructions_html(template.instructions) if template else "",
    }
    return render(request, "classrooms/lab_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def lab_template_edit(request, pk=None):
    """GET: the form; POST: save it (a new template when there is no pk)."""
    access.require_trainer(request.user)
    template = access.template_for_user(request.user, pk) if pk is not None else None
    if request.method == "GET":
        return _form(request, template)
    post = request.POST
    try:
        with audit.audited(action="lab_template.save", request=request, target=post.get("name", "")):
            saved = lab_template_save(
                owner=template.owner if template else request.user, template=template,
                name=post.get("name"), description=post.get("description"),
                instructions=post.get("instructions"), cpus=post.get("cpus"),
                memory_mb=post.get("memory_mb"), preload=post.getlist("preload"),
                setup_script=post.get("setup_script"), run_containers=post.get("run_containers", ""))
    except (DindwebError, EngineError) as exc:
        return _form(request, template, str(exc), http_status(exc))
    messages.success(request, f"Lab template {saved.name} saved. Seats already provisioned keep their copy.")
    return redirect("lab_template_edit", pk=saved.pk)


@login_required
@require_POST
def lab_template_duplicate_view(request, pk):
    access.require_trainer(request.user)
    template = access.template_for_user(request.user, pk)
    copy = lab_template_duplicate(template=template, owner=request.user)
    audit.record(action="lab_template.duplicate", request=request, target=str(template), detail=copy.name)
    messages.success(request, f"Duplicated as {copy.name}.")
    return redirect("lab_template_edit", pk=copy.pk)


@login_required
@require_POST
def lab_template_delete(request, pk):
    access.require_trainer(request.user)
    template = access.template_for_user(request.user, pk)
    audit.record(action="lab_template.delete", request=request, target=str(template))
    template.delete()  # classrooms keep their seats' copies (template set to null)
    messages.success(request, f"Lab template {template.name} deleted.")
    return redirect("classroom_list")


@login_required
@require_GET
def lab_template_preview(request, pk):
    """The instructions as students will see them."""
    access.require_trainer(request.user)
    template = access.template_for_user(request.user, pk)
    return render(request, "classrooms/_instructions.html", {"html": instructions_html(template.instructions)})
