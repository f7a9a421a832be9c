from django.apps import AppConfig


class EnvironmentsConfig(AppConfig):
    name = "environments"
    verbose_name = "Environments"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
        from . import audit  # noqa: F401  (records logins, failed logins and logouts)
