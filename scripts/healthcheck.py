"""The container's health check: does daphne answer a page? Asked with a Host the site
accepts (ALLOWED_HOSTS), and without following a redirect to HTTPS, which only the
proxy in front can serve. Exit 0 when healthy."""

import http.client
import os
import sys

host = (os.getenv("ALLOWED_HOSTS", "localhost").split(",")[0].strip() or "localhost").lstrip(".")
host = "localhost" if host == "*" else host
try:
    connection = http.client.HTTPConnection("127.0.0.1", int(os.getenv("PORT", "8000")), timeout=4)
    connection.request("GET", "/accounts/login/", headers={"Host": host, "X-Forwarded-Proto": "https"})
    status = connection.getresponse().status
except OSError as exc:
    sys.exit(f"unhealthy: {exc}")
sys.exit(0 if status < 400 else f"unhealthy: HTTP {status}")
