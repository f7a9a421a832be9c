"""The test suite's settings: the real ones, with the suite's own engine label and database."""

import os

from dindweb.settings import *  # noqa: F403
from dindweb.settings import DATABASES, STATE_DIR

# Engine objects the suite makes carry this instance label; the suite removes its own
# leftovers at start and never touches a running dashboard's environments. Two suites
# may run at once on one engine when each has a label of its own (DINDWEB_TEST_INSTANCE).
DINDWEB_INSTANCE = os.getenv("DINDWEB_TEST_INSTANCE", "test")
if "sqlite" in DATABASES["default"]["ENGINE"]:
    DATABASES["default"]["TEST"] = {"NAME": STATE_DIR / f"{DINDWEB_INSTANCE}-dindweb.sqlite3"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins
DINDWEB_READY_TIMEOUT = 45
# The suite makes many environments for few users; tests of the limits lower these.
DINDWEB_CREATE_RATE = "10000/min"
AXES_ENABLED = False  # Client.login() sends no request; test_security.py turns it on
