"""The app's models, one module per area."""

from .audit import AuditEvent
from .classroom import Classroom, LabTemplate, OneTimePassword, Seat
from .environment import (NAME_VALIDATOR, NESTED_CONTAINER_PATTERN, AllowedImage, DockerHost,
                          Environment)
from .quota import PeriodicJob, Quota
from .token import ApiToken

__all__ = ["NAME_VALIDATOR", "NESTED_CONTAINER_PATTERN", "AllowedImage", "ApiToken", "AuditEvent",
           "Classroom", "DockerHost", "Environment", "LabTemplate", "OneTimePassword", "PeriodicJob",
           "Quota", "Seat"]
