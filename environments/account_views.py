"""Pages of one's account: API tokens; and, for admins, the audit log.

Thin like views.py: services in tokens.py change things, audit.py reads the log.
"""

import csv
from datetime import UTC, datetime
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from . import audit, roles, tokens
from .errors import DindwebError, http_status
from .models import AuditEvent

AUDIT_PAGE_SIZE = 50


# --- API tokens ----------------------------------------------------------------------

def _tokens_page(request, *, status=200, **context):
    """The tokens page, or only its #tokens part for htmx (the form and the list)."""
    context = {"tokens": tokens.tokens_of(request.user), **context}
    template = "accounts/tokens.html#tokens" if request.htmx else "accounts/tokens.html"
    return render(request, template, context, status=status)


@login_required
@require_GET
def token_list(request):
    return _tokens_page(request)


@login_required
@require_POST
@never_cache  # the answer carries the new key: no cache may keep it
def token_create(request):
    name = request.POST.get("name", "")
    try:
        token, key = tokens.token_create(user=request.user, name=name, ip=audit.client_ip(request))
    except DindwebError as exc:
        return _tokens_page(request, error=str(exc), name=name, status=http_status(exc))
    # Shown here, once; no redirect, as the key would have to be kept somewhere to show it.
    return _tokens_page(request, new_token=token, new_key=key)


@login_required
@require_POST
def token_revoke(request, pk):
    # Only one's own tokens: another user's is "not found", as for environments.
    token = get_object_or_404(tokens.tokens_of(request.user), pk=pk)
    try:
        tokens.token_revoke(token=token, by=request.user, ip=audit.client_ip(request))
    except DindwebError as exc:
        messages.error(request, str(exc))
        status = http_status(exc)
    else:
        messages.success(request,
                         f"Revoked the token {token.name}: clients that send it are refused from now on.")
        status = 200
    url = reverse("token_list")
    if request.htmx:
        # htmx follows HX-Redirect whatever the status, so a refusal keeps its 4xx.
        response = HttpResponseClientRedirect(url)
        response.status_code = status
        return response
    if status != 200:
        return _tokens_page(request, status=status)
    return redirect(url)


# --- Audit log (admins) --------------------------------------------------------------

def admin_only(view):
    """Admins only. Anyone else logged in gets 404, as if the page did not exist (we do not
    reveal what others may reach); anonymous visitors are sent to log in."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if not roles.is_admin(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return login_required(checked)


class AuditFilterForm(forms.Form):
    """The audit page's filters, from the query string; each left empty does not filter."""

    user = forms.CharField(required=False, max_length=150, strip=True)
    action = forms.CharField(required=False, max_length=40, strip=True)
    outcome = forms.ChoiceField(required=False, choices=[("", "any")] + AuditEvent.Outcome.choices,
                                error_messages={"invalid_choice": "Choose one of the outcomes offered."})
    date_from = forms.DateField(required=False, error_messages={"invalid": "Give dates as YYYY-MM-DD."})
    date_to = forms.DateField(required=False, error_messages={"invalid": "Give dates as YYYY-MM-DD."})

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned

    def events(self):
        data = self.cleaned_data
        return audit.events(username=data["user"], action=data["action"], outcome=data["outcome"],
                            date_from=data["date_from"], date_to=data["date_to"])

    def first_error(self) -> str:
        for errors in self.errors.values():
            return errors[0]
        return "The filters have an error."


@admin_only
@require_GET
def audit_log(request):
    form = AuditFilterForm(request.GET)
    context = {"form": form, "actions": audit.action_names(), "outcomes": AuditEvent.Outcome.choices}
    if not form.is_valid():
        context["error"] = form.first_error()
        return render(request, "accounts/audit_log.html", context, status=400)
    # get_page turns a page number that is not one into the nearest page, never an error.
    context["page"] = Paginator(form.events(), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/audit_log.html", context)


class _Echo:
    """A file for csv.writer that hands back each line instead of keeping it."""

    def write(self, line):
        return line


# A cell starting with one of these is a formula to a spreadsheet; names and details can
# come from anyone (a failed login's user name), so such cells get a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@admin_only
@require_GET
def audit_export(request):
    """The filtered rows (all pages) as CSV, streamed: the log can be long."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponse(form.first_error(), status=400, content_type="text/plain; charset=utf-8")
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(["timestamp", "user", "action", "target", "outcome", "detail", "ip"])
        for event in form.events().iterator(chunk_size=1000):
            yield writer.writerow([event.timestamp.astimezone(UTC).isoformat(), _cell(event.username),
                                   _cell(event.action), _cell(event.target), event.outcome,
                                   _cell(event.detail), event.ip or ""])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="dindweb-audit-{stamp}.csv"'
    return response
