from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One thing someone did or tried: who, what, on what, how it went, from where.

    The user name is kept as text beside the link to the user, so the row still says who
    it was after the account is deleted (the link then becomes empty). Rows are written by
    environments.audit.record() and never changed.
    """

    class Outcome(models.TextChoices):
        OK = "ok", "ok"
        REFUSED = "refused", "refused"  # not allowed, or the request was not valid
        FAILED = "failed", "failed"     # allowed, but it did not work (e.g. the engine failed)

    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    # The actor's user name; for a failed login, the name that was tried.
    username = models.CharField(max_length=150, blank=True, db_index=True)
    action = models.CharField(max_length=40, db_index=True, help_text="e.g. environment.create, login.failed")
    target = models.CharField(max_length=200, blank=True, help_text="e.g. alice/sandbox, token cli")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OK)
    detail = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name="IP address")

    class Meta:
        ordering = ["-timestamp", "-id"]
        verbose_name = "audit event"

    def __str__(self):
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action} {self.outcome}"
