"""Lab templates: what every seat of a class is made from.

A template is a trainer's own; seats copy it (LabTemplate.spec) when they are made, so
editing a template never changes seats already provisioned.
"""

import shlex

import markdown
import nh3
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.safestring import mark_safe

from .. import services
from ..errors import Conflict, InvalidRequest
from ..hosts import default_engine
from ..models import LabTemplate

MAX_INSTRUCTIONS = 100_000
MAX_SCRIPT = 20_000
MAX_CONTAINERS = 20


def instructions_html(text: str) -> str:
    """Markdown to HTML, then sanitised (nh3's allow-list): a template's author cannot
    run script in a student's page."""
    html = markdown.markdown(text or "", extensions=["fenced_code", "tables", "sane_lists"])
    return mark_safe(nh3.clean(html))  # noqa: S308 - cleaned just above


def parse_run_containers(text: str) -> list[list[str]]:
    """One `docker run -d` per line, as its arguments: `--name web -p 8080:80 nginx`."""
    runs = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("docker run"):
            line = line[len("docker run"):].strip()
        try:
            arguments = shlex.split(line)
        except ValueError as exc:
            raise InvalidRequest(f"Nested containers, line {number}: {exc}.") from None
        if not arguments or all(argument.startswith("-") for argument in arguments):
            raise InvalidRequest(f"Nested containers, line {number}: name an image to run.")
        runs.append(arguments)
    if len(runs) > MAX_CONTAINERS:
        raise InvalidRequest(f"A lab starts at most {MAX_CONTAINERS} nested containers.")
    return runs


def run_containers_text(runs: list[list[str]]) -> str:
    return "\n".join(shlex.join(arguments) for arguments in runs)


def _text(value, *, label: str, high: int, required=False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidRequest(f"{label} must be text.")
    value = value.strip() if high <= 300 else value.replace("\r\n", "\n")
    if required and not value.strip():
        raise InvalidRequest(f"Give the lab template a {label.lower()}.")
    if len(value) > high:
        raise InvalidRequest(f"{label} is too long: use at most {high} characters.")
    return value


def lab_template_save(*, owner, template: LabTemplate | None = None, name=None, description=None,
                      instructions=None, cpus=None, memory_mb=None, preload=None, setup_script=None,
                      run_containers=None) -> LabTemplate:
    """Create a template (template=None) or change one; checked field by field."""
    template = template or LabTemplate(owner=owner)
    template.name = _text(name, label="Name", high=80, required=True)
    template.description = _text(description, label="Description", high=300)
    template.instructions = _text(instructions, label="Instructions", high=MAX_INSTRUCTIONS)
    template.setup_script = _text(setup_script, label="The setup script", high=MAX_SCRIPT)
    template.cpus = services.clean_number(1 if cpus in (None, "") else cpus, label="CPUs", low=0.1,
                                          high=settings.DINDWEB_MAX_CPUS)
    template.memory_mb = services.clean_number(
        1024 if memory_mb in (None, "") else memory_mb, label="Memory (MB)",
        low=settings.DINDWEB_MIN_MEMORY_MB, high=settings.DINDWEB_MAX_MEMORY_MB, kind=int)
    template.preload = services.clean_preload(preload or [], default_engine())
    if isinstance(run_containers, str):
        run_containers = parse_run_containers(run_containers)
    if run_containers is None:
        run_containers = []
    if not isinstance(run_containers, list) or not all(
            isinstance(run, list) and run and all(isinstance(a, str) for a in run) for run in run_containers):
        raise InvalidRequest("Nested containers must be lists of docker run arguments.")
    template.run_containers = run_containers
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise Conflict(f"You already have a lab template named {template.name}.") from None
    return template


def lab_template_duplicate(*, template: LabTemplate, owner) -> LabTemplate:
    """A copy named "NAME (copy)", "NAME (copy 2)"...: the start of a variant."""
    names = set(LabTemplate.objects.filter(owner=owner).values_list("name", flat=True))
    base = f"{template.name[:70]} (copy"
    name, number = base + ")", 1
    while name in names:
        number += 1
        name = f"{base} {number})"
    copy = LabTemplate(owner=owner, name=name, description=template.description,
                       instructions=template.instructions, cpus=template.cpus,
                       memory_mb=template.memory_mb, preload=list(template.preload),
                       setup_script=template.setup_script,
                       run_containers=[list(run) for run in template.run_containers])
    try:
        with transaction.atomic():
            copy.save()
    except IntegrityError:
        raise Conflict(f"A copy named {name} was just made: reload the page.") from None
    return copy
