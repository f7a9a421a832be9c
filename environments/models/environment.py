from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from .. import profiles

NAME_VALIDATOR = RegexValidator(
    r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$",
    "Names use lowercase letters, digits and hyphens, start and end with a letter or"
    " digit, and have at most 40 characters.",
)


# A nested container's id or name, as Docker allows them (used in URLs and routes).
NESTED_CONTAINER_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}"


class DockerHost(models.Model):
    """A Docker engine that environments run on."""

    name = models.CharField(max_length=60, unique=True)
    engine_url = models.CharField(
        max_length=255, help_text="unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host"
    )
    tls_ca = models.TextField(blank=True, help_text="PEM: the CA that signed the engine's certificate.")
    tls_cert = models.TextField(blank=True, help_text="PEM: our client certificate.")
    tls_key = models.TextField(blank=True, help_text="PEM: our client key.")
    profile = models.CharField(max_length=20, choices=profiles.CHOICES, default=profiles.HARDENED)
    enabled = models.BooleanField(default=True)
    # A draining host keeps what runs on it but takes no new environments.
    draining = models.BooleanField(default=False)

    # What the host may give out; 0 means no limit (the local host of a small install).
    max_environments = models.PositiveIntegerField(default=0)
    max_cpus = models.DecimalField(max_digits=6, decimal_places=2, default=0,
                                   validators=[MinValueValidator(0)])
    max_memory_mb = models.PositiveIntegerField(default=0)

    # Health, written by the periodic host check (environments/host_health.py).
    answering = models.BooleanField(default=True)
    engine_version = models.CharField(max_length=40, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # What the machine has, as the engine reports it: placement's yardstick when no
    # capacity is set.
    total_cpus = models.PositiveIntegerField(null=True, blank=True)
    total_memory_mb = models.PositiveIntegerField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    down_since = models.DateTimeField(null=True, blank=True)
    health_detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class AllowedImage(models.Model):
    """A host image that users may preload into their environments (admin-kept)."""

    reference = models.CharField(max_length=255, unique=True, help_text="e.g. dindweb/busybox:latest")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["reference"]

    def __str__(self):
        return self.reference


class EnvironmentQuerySet(models.QuerySet):
    def personal(self):
        """Not classroom seats: those belong to their class (its quota, its lifetime, its pages)."""
        return self.filter(seat__isnull=True)


class Environment(models.Model):
    class Status(models.TextChoices):
        CREATING = "creating"
        STARTING = "starting"
        RUNNING = "running"
        STOPPING = "stopping"
        STOPPED = "stopped"
        ERROR = "error"
        DELETING = "deleting"

    # Statuses during which background work is under way: pages keep polling.
    BUSY = (Status.CREATING, Status.STARTING, Status.STOPPING, Status.DELETING)

    objects = EnvironmentQuerySet.as_manager()

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="environments")
    host = models.ForeignKey(DockerHost, on_delete=models.PROTECT, related_name="environments")
    # While an admin moves it (host_services.environment_move): the host its data goes to.
    # It cannot start meanwhile, and reconcile there leaves the arriving data alone.
    moving_to = models.ForeignKey(DockerHost, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="arriving")
    name = models.CharField(max_length=40, validators=[NAME_VALIDATOR])
    # Random, so engine object names never collide with leftovers of another database.
    key = models.CharField(max_length=16, unique=True, editable=False)

    cpus = models.DecimalField(max_digits=4, decimal_places=2, default=1,
                               validators=[MinValueValidator(0.1), MaxValueValidator(64)])
    memory_mb = models.PositiveIntegerField(default=1024, validators=[MinValueValidator(256)])
    pids_limit = models.PositiveIntegerField(default=2048, validators=[MinValueValidator(128)])
    preload = models.JSONField(default=list, blank=True)
    # Run once the nested daemon answers (classroom seats get them from their lab template):
    # a bash script, then `docker run -d` argument lists. The script's result is kept.
    setup_script = models.TextField(blank=True)
    run_containers = models.JSONField(default=list, blank=True)
    setup_exit_code = models.IntegerField(null=True, blank=True)
    setup_output = models.TextField(blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CREATING)
    status_detail = models.CharField(max_length=500, blank=True)
    # The provisioning steps and how each went, shown live on the page.
    steps = models.JSONField(default=list, blank=True)
    daemon_version = models.CharField(max_length=40, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    # Activity, for idle culling: when a user last did something in it, how many shells and
    # log viewers are attached now, and the CPU its nested containers had used by then.
    last_activity_at = models.DateTimeField(null=True, blank=True)
    attached = models.PositiveIntegerField(default=0)
    cpu_seen_ns = models.BigIntegerField(default=0)
    cpu_seen_at = models.DateTimeField(null=True, blank=True)
    disk_used_mb = models.PositiveIntegerField(null=True, blank=True)
    # Resource use at the last look (classroom seats are measured for the trainer's grid).
    memory_used_mb = models.PositiveIntegerField(null=True, blank=True)
    cpu_percent = models.FloatField(null=True, blank=True)

    container_id = models.CharField(max_length=80, blank=True)
    network_id = models.CharField(max_length=80, blank=True)
    volume_name = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_environment_name_per_owner"),
        ]

    def __str__(self):
        return f"{self.owner}/{self.name}"

    @property
    def engine_name(self) -> str:
        """The name of the container and network on the engine."""
        return f"dindweb-{self.key}"

    @property
    def expires_soon(self) -> bool:
        """Within the last quarter hour of its lifetime: pages warn the owner."""
        return bool(self.expires_at) and self.expires_at - timezone.now() < timedelta(minutes=15)

    @property
    def is_busy(self) -> bool:
        return self.status in self.BUSY
