from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MinValueValidator
from django.db import models


class Quota(models.Model):
    """Limits on what one user may hold. A quota belongs to a user, to a group, or to
    neither (the site default); a user's own quota wins over their groups', and the most
    generous of their groups' over the site default."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.CASCADE, related_name="quota")
    group = models.OneToOneField(Group, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="quota")
    max_environments = models.PositiveIntegerField(default=5, help_text="Environments held at once.")
    max_cpus = models.DecimalField(max_digits=6, decimal_places=2, default=4,
                                   validators=[MinValueValidator(0)],
                                   help_text="CPUs of all running environments together.")
    max_memory_mb = models.PositiveIntegerField(default=8192,
                                                help_text="Memory of all running environments together.")
    pids_per_environment = models.PositiveIntegerField(default=2048, validators=[MinValueValidator(64)])
    max_lifetime_minutes = models.PositiveIntegerField(default=7 * 24 * 60, validators=[MinValueValidator(1)])
    max_idle_minutes = models.PositiveIntegerField(
        default=120, help_text="Stop an environment idle this long (0: never).")
    disk_mb = models.PositiveIntegerField(
        default=20480, help_text="Bound on an environment's /var/lib/docker (0: none).")
    max_classroom_seats = models.PositiveIntegerField(
        default=40, help_text="Seats of all a trainer's classrooms that have not ended, together.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(user__isnull=True) | models.Q(group__isnull=True),
                                   name="quota_for_a_user_or_a_group_not_both"),
        ]

    def __str__(self):
        if self.user_id:
            return f"Quota of {self.user}"
        if self.group_id:
            return f"Quota of group {self.group}"
        return "Site default quota"


class PeriodicJob(models.Model):
    """When a periodic job next runs. A process runs a job only after moving next_run_at
    on in one conditional update, so with several processes each run happens once."""

    name = models.CharField(max_length=60, unique=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name
