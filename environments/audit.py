"""The audit log: who did what, to what, how it went and from where.

`record()` writes one row. It never raises: the audit log must not be the reason an
action fails, so a row that cannot be written is logged instead. The receivers below
record logins, failed logins and logouts (Django's auth signals; connected in apps.py).

Action names are `<area>.<verb>`: environment.create, environment.exec, shell.open,
quota.change, token.create, token.revoke; logins are login, login.failed and logout.
"""

import logging
from contextlib import contextmanager

from channels.db import database_sync_to_async
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from .engine import EngineError
from .errors import DindwebError
from .models import AuditEvent

log = logging.getLogger(__name__)

OK, REFUSED, FAILED = AuditEvent.Outcome.OK, AuditEvent.Outcome.REFUSED, AuditEvent.Outcome.FAILED
# Offered in the audit page's action filter (actions seen in the log are offered too).
KNOWN_ACTIONS = ["environment.create", "environment.start", "environment.stop", "environment.restart",
                 "environment.delete", "environment.exec", "environment.extend", "environment.resize", "shell.open", "quota.change",
                 "host.change", "host.check", "host.images", "environment.move",
                 "token.create", "token.revoke", "login", "login.failed", "logout"]


def client_ip(request) -> str | None:
    """The address a request came from, as the server saw it."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def scope_ip(scope) -> str | None:
    """The address a websocket came from (its ASGI scope's client)."""
    client = scope.get("client") or (None,)
    return client[0]


def record(*, action, actor=None, target="", outcome=OK, detail="", request=None, ip=None, username=""):
    """Write one audit row; never raises.

    `actor` is the user who acted (None or anonymous: nobody logged in); when it is None
    and `request` has a logged-in user, that user is the actor. The IP address comes
    from `request` unless `ip` is given (websockets have a scope, not a request).
    `username` is kept only when there is no actor: a failed login's name tried.
    """
    try:
        if actor is None and request is not None:
            actor = getattr(request, "user", None)
        if actor is not None and not actor.is_authenticated:
            actor = None
        if ip is None:
            ip = client_ip(request)
        event = AuditEvent(
            actor=actor, username=actor.get_username() if actor is not None else str(username or ""),
            action=str(action), target=str(target or ""), outcome=str(outcome), detail=str(detail or ""),
            ip=ip or None,
        )
        _fit_to_columns(event)
        # A savepoint: if the insert fails inside the caller's transaction, only the
        # savepoint is rolled back and the caller's own writes carry on.
        with transaction.atomic():
            event.save()
        return event
    except Exception:
        log.exception("Could not record the audit event %s on %r (%s).", action, target, outcome)
        return None


async def arecord(**kwargs):
    """record() for async code (websocket consumers): the database is only reached from a
    thread. Same arguments; pass ip=scope_ip(self.scope) there."""
    return await database_sync_to_async(record)(**kwargs)


def _fit_to_columns(event: AuditEvent) -> None:
    """Cut texts to their columns (PostgreSQL refuses longer ones; the row matters more)."""
    for field in ("username", "action", "target", "detail"):
        limit = AuditEvent._meta.get_field(field).max_length
        value = getattr(event, field)
        if len(value) > limit:
            setattr(event, field, value[: limit - 1] + "…")
    try:
        AuditEvent._meta.get_field("ip").clean(event.ip, event)
    except Exception:
        event.ip = None  # something that is not an address (a proxy's junk): leave it out


def events(*, username="", action="", outcome="", date_from=None, date_to=None):
    """The audit rows matching the filters given (empty ones do not filter), newest first."""
    rows = AuditEvent.objects.all()
    if username:
        rows = rows.filter(username__iexact=username)
    if action:
        rows = rows.filter(action=action)
    if outcome:
        rows = rows.filter(outcome=outcome)
    if date_from:
        rows = rows.filter(timestamp__date__gte=date_from)
    if date_to:
        rows = rows.filter(timestamp__date__lte=date_to)
    return rows


def action_names() -> list[str]:
    seen = AuditEvent.objects.order_by().values_list("action", flat=True).distinct()
    return sorted(set(KNOWN_ACTIONS) | set(seen))


@receiver(user_logged_in, dispatch_uid="audit_login")
def _record_login(sender, request, user, **kwargs):
    record(action="login", actor=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _record_failed_login(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; the name tried stays.
    tried = credentials.get("username", "")
    record(action="login.failed", username=tried, target=f"user {tried}" if tried else "", outcome=REFUSED,
           detail="Wrong user name or password.", request=request)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _record_logout(sender, request, user, **kwargs):
    if user is not None:  # logging out with no one logged in is nothing to record
        record(action="logout", actor=user, request=request)


@contextmanager
def audited(*, action, target="", request=None, actor=None):
    """Record the action wrapped: "ok" when it ends, "refused" (a rule said no) or
    "failed" (the engine did) with the sentence when it raises. The error goes on."""
    try:
        yield
    except DindwebError as exc:
        record(action=action, target=target, outcome=REFUSED, detail=str(exc), request=request, actor=actor)
        raise
    except EngineError as exc:
        record(action=action, target=target, outcome=FAILED, detail=str(exc), request=request, actor=actor)
        raise
    record(action=action, target=target, request=request, actor=actor)
