"""The app's models, one module per area."""

from .environment import (NAME_VALIDATOR, NESTED_CONTAINER_PATTERN, AllowedImage, DockerHost,
                          Environment)
from .quota import PeriodicJob, Quota

__all__ = ["NAME_VALIDATOR", "NESTED_CONTAINER_PATTERN", "AllowedImage", "DockerHost", "Environment",
           "PeriodicJob", "Quota"]
