from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A key a user gives API and websocket clients (`Authorization: Token KEY`).

    Only the key's sha256 is stored, so a copy of the database does not hand out working
    keys; the first characters are kept in clear for people to tell their tokens apart.
    A revoked token stays (with when it was revoked) but is refused.
    """

    PREFIX_LENGTH = 8

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(max_length=60, help_text="What the token is for, e.g. 'laptop' or 'ci'.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, help_text="The key's first characters.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self):
        return f"token {self.name} of {self.user} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
