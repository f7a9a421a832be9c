"""Classroom labs: a trainer's lab templates, the classrooms made from them, their seats."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


def new_join_code() -> str:
    # No 0/O or 1/I/L: students type it from a projector.
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


class LabTemplate(models.Model):
    """What every seat of a class gets: resources, images, a setup script, instructions."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="lab_templates")
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    instructions = models.TextField(blank=True, help_text="Markdown, shown beside the student's terminal.")
    cpus = models.DecimalField(max_digits=4, decimal_places=2, default=1,
                               validators=[MinValueValidator(0.1), MaxValueValidator(64)])
    memory_mb = models.PositiveIntegerField(default=1024, validators=[MinValueValidator(256)])
    preload = models.JSONField(default=list, blank=True, help_text="Host images loaded into every seat.")
    setup_script = models.TextField(blank=True, help_text="Run by bash in the environment once its daemon answers.")
    # Each item: the arguments of one `docker run -d` inside the environment.
    run_containers = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_lab_template_name_per_owner"),
        ]

    def __str__(self):
        return self.name

    def spec(self) -> dict:
        """A copy of what seats are made from: editing the template later leaves seats alone."""
        return {"template": self.name, "instructions": self.instructions, "cpus": str(self.cpus),
                "memory_mb": self.memory_mb, "preload": list(self.preload),
                "setup_script": self.setup_script, "run_containers": list(self.run_containers)}


class Classroom(models.Model):
    trainer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="classrooms")
    template = models.ForeignKey(LabTemplate, null=True, on_delete=models.SET_NULL,
                                 related_name="classrooms")
    title = models.CharField(max_length=120)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Seats are provisioned at this time (ahead of the class, so it is warm), or on demand.
    provision_at = models.DateTimeField(null=True, blank=True)
    provisioned_at = models.DateTimeField(null=True, blank=True)
    grace_minutes = models.PositiveIntegerField(
        default=60, validators=[MaxValueValidator(60 * 24 * 30)],
        help_text="After the end, seats stay (stopped) this long, then are deleted.")
    join_code = models.CharField(max_length=12, unique=True, default=new_join_code)
    ended_at = models.DateTimeField(null=True, blank=True)
    host = models.ForeignKey("DockerHost", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="classrooms", help_text="Pin every seat to this host.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self):
        return self.title

    @property
    def has_ended(self) -> bool:
        return self.ended_at is not None

    @property
    def delete_at(self):
        return self.ended_at + timezone.timedelta(minutes=self.grace_minutes) if self.ended_at else None


class Seat(models.Model):
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="seats")
    number = models.PositiveIntegerField()
    student = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="seats")
    claimed_at = models.DateTimeField(null=True, blank=True)
    environment = models.OneToOneField("Environment", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="seat")
    # What the seat was made from (LabTemplate.spec()), kept for resets and instructions.
    spec = models.JSONField(default=dict, blank=True)
    # Bumped by every reset, so the new environment's name differs from the old one's.
    generation = models.PositiveIntegerField(default=0)
    # Trainers' terminals open on this seat now (watching or helping): the student is told.
    watchers = models.PositiveIntegerField(default=0)
    last_check_command = models.CharField(max_length=500, blank=True)
    last_check_exit_code = models.IntegerField(null=True, blank=True)
    last_check_output = models.TextField(blank=True)
    last_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["classroom", "number"]
        constraints = [
            models.UniqueConstraint(fields=["classroom", "number"], name="unique_seat_number"),
            models.UniqueConstraint(fields=["classroom", "student"], name="one_seat_per_student"),
        ]

    def __str__(self):
        return f"{self.classroom} seat {self.number}"


class OneTimePassword(models.Model):
    """The first password of an account a trainer's roster created; shown to the trainer
    (CSV) until the student signs in, who must then choose their own."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="one_time_password")
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="one_time_passwords")
    password = models.CharField(max_length=64, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"one-time password of {self.user}"
