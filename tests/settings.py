"""The test suite's settings: the real ones, with the suite's own engine label."""

from dindweb.settings import *  # noqa: F403

# Engine objects the suite makes carry this instance label; the suite removes its own
# leftovers at start and never touches a running dashboard's environments.
DINDWEB_INSTANCE = "test"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins
DINDWEB_READY_TIMEOUT = 45
