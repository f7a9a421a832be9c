"""What the port proxy passes back from an app: found by review, each a way for a nested
app to act as whoever views it."""

import httpx

from environments.proxy import SANDBOX, response_headers


def passed(*headers):
    return response_headers(httpx.Headers(list(headers)), origin="http://10.0.0.2:8080",
                            prefix="/environments/1/ports/8080", sandbox=True)


def test_the_apps_own_policy_cannot_lift_the_sandbox():
    kept = dict(passed(("content-security-policy", "sandbox allow-scripts allow-same-origin")))
    # Two policies (comma): browsers enforce both, so ours holds whatever the app's says.
    assert kept["content-security-policy"] == f"sandbox allow-scripts allow-same-origin, {SANDBOX}"
    assert dict(passed())["content-security-policy"] == SANDBOX


def test_an_app_cannot_set_our_cookies_however_it_writes_them():
    for value in ("sessionid=evil; Path=/", "x=1; sessionid=evil; Path=/", "sessionid =evil",
                  "csrftoken=evil", "a=1, sessionid=evil"):
        assert ("set-cookie", value) not in passed(("set-cookie", value)), value
    assert ("set-cookie", "theme=dark; Path=/") in passed(("set-cookie", "theme=dark; Path=/"))


def test_another_sites_request_never_reaches_the_app(db, alice):
    from django.test import Client

    from environments.hosts import default_host
    from environments.models import Environment

    environment = Environment.objects.create(owner=alice, host=default_host(), name="web", key="k-origin",
                                             status="running")
    client = Client()
    client.force_login(alice)
    url = f"/environments/{environment.pk}/ports/8080/form"
    refused = client.post(url, {"a": "1"}, HTTP_ORIGIN="http://8080-9.ports.evil.example")
    assert refused.status_code == 403 and "Requests from other sites" in refused.content.decode()
