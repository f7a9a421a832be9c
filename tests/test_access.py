"""Every endpoint, tried as the owner, as another user and anonymously.

The table names every route the project declares (Django's own admin and login views
aside): a new route without a row here fails `test_every_route_has_a_row`.
"""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from environments import tokens
from environments.models import Environment

from .conftest import PASSWORD, api_client_for, wait_for
from .test_classroom_access import CLASSROOM_ROUTES

pytestmark = pytest.mark.django_db(transaction=True)

LOGIN = "/accounts/login/"

# name: (method, kwargs needed, owner's status, another user's status, anonymous status)
# The owner's environment is running; "start" on it is refused with 409, which shows
# the owner got past the check of who is asking.
ROUTES = {
    "environment_list": ("get", False, 200, 200, LOGIN),
    "environment_create": ("post", False, 400, 400, LOGIN),
    "environment_detail": ("get", True, 200, 404, LOGIN),
    "environment_status": ("get", True, 200, 404, LOGIN),
    "environment_inside": ("get", True, 200, 404, LOGIN),
    "environment_action:start": ("post", True, 409, 404, LOGIN),
    "environment_action:stop": ("post", True, 409, 404, LOGIN),  # tried after the stop below
    "environment_action:restart": ("post", True, 409, 404, LOGIN),
    "environment_action:delete": ("post", True, 302, 404, LOGIN),
    "environment_logs": ("get", True, 200, 404, LOGIN),
    "environment_logs_download": ("get", True, 200, 404, LOGIN),
    "nested_container_shell": ("get", True, 200, 404, LOGIN),
    # Ports and files. Nothing listens on the owner's port 8080: the proxy lets them through
    # to the page that says so (502); port_open with ?port=8080 goes there (302).
    "port_open": ("get", True, 302, 404, LOGIN),
    "port_proxy": ("get", True, 502, 404, LOGIN),
    "file_browser": ("get", True, 200, 404, LOGIN),
    "file_upload": ("post", True, 400, 404, LOGIN),  # no files sent
    "file_download": ("get", True, 200, 404, LOGIN),
    "api_environment_files": ("get", True, 200, 404, 401),
    "api_environment_files:post": ("post", True, 400, 404, 401),  # no files sent
    "api_environment_files_download": ("get", True, 200, 404, 401),
    "api_environments": ("get", False, 200, 200, 401),
    "api_environments:post": ("post", False, 400, 400, 401),
    "api_environment": ("get", True, 200, 404, 401),
    "api_environment:delete": ("delete", True, 409, 404, 401),  # owner: already deleting
    "api_environment_exec": ("post", True, 200, 404, 401),
    "api_environment_containers": ("get", True, 200, 404, 401),
    "api_environment_start": ("post", True, 409, 404, 401),
    "api_environment_stop": ("post", True, 202, 404, 401),
    "api_environment_restart": ("post", True, 409, 404, 401),
    "api_schema": ("get", False, 200, 200, 401),
    # One's own tokens: the owner revokes a token of theirs; another user's is not found.
    "token_list": ("get", False, 200, 200, LOGIN),
    "token_create": ("post", False, 400, 400, LOGIN),  # no name given
    "token_revoke": ("post", True, 302, 404, LOGIN),
    # Admins only (both users here are developers; test_audit.py shows an admin gets in).
    "audit_log": ("get", False, 404, 404, LOGIN),
    "audit_export": ("get", False, 404, 404, LOGIN),
    # Lifetime and size: the owner's empty form or body is refused with a sentence (400).
    "environment_extend": ("post", True, 400, 404, LOGIN),
    "api_environment_extend": ("post", True, 400, 404, 401),
    "api_environment_resize": ("post", True, 200, 404, 401),  # no body: the same size again
    # Everyone's own usage; quotas are for admins (test_quota_pages.py shows one gets in).
    "usage": ("get", False, 200, 200, LOGIN),
    "quota_list": ("get", False, 404, 404, LOGIN),
    "quota_overview": ("get", False, 404, 404, LOGIN),
    "quota_create": ("post", False, 404, 404, LOGIN),
    "quota_save": ("post", True, 404, 404, LOGIN),
    "quota_delete": ("post", True, 404, 404, LOGIN),
    # Docker hosts: admins only (test_hosts.py shows one gets in); pk is the environment's host.
    "host_list": ("get", False, 404, 404, LOGIN),
    "host_create": ("post", False, 404, 404, LOGIN),
    "host_detail": ("get", True, 404, 404, LOGIN),
    "host_save": ("post", True, 404, 404, LOGIN),
    "host_check": ("post", True, 404, 404, LOGIN),
    "host_copy_images": ("post", True, 404, 404, LOGIN),
    "host_remove": ("post", True, 404, 404, LOGIN),
    "environment_move": ("post", True, 404, 404, LOGIN),
}
# Run in this order for the owner: reads first, then stop, then what a stopped
# environment refuses, and the delete last.
OWNER_ORDER = [
    "environment_list", "environment_create", "environment_detail", "environment_status",
    "environment_inside", "environment_logs", "environment_logs_download", "nested_container_shell",
    "port_open", "port_proxy", "file_browser", "file_upload", "file_download", "api_environment_files",
    "api_environment_files:post", "api_environment_files_download",
    "api_environments", "api_environments:post", "api_environment",
    "api_environment_exec", "api_environment_containers", "api_environment_start",
    "environment_action:start", "api_environment_stop", "environment_action:stop",
    "api_environment_restart", "environment_action:restart", "api_schema",
    "token_list", "token_create", "token_revoke", "audit_log", "audit_export",
    "environment_extend", "api_environment_extend", "api_environment_resize", "usage", "quota_list",
    "quota_overview", "quota_create", "quota_save", "quota_delete",
    "host_list", "host_create", "host_detail", "host_save", "host_check", "host_copy_images", "host_remove",
    "environment_move", "environment_action:delete", "api_environment:delete",
]
DJANGO_OWN = {"login", "logout", "password_change", "password_change_done", "password_reset",
              "password_reset_done", "password_reset_confirm", "password_reset_complete"}


def declared_route_names(patterns=None, namespace=""):
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            names |= declared_route_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names - DJANGO_OWN


def test_every_route_has_a_row():
    covered = {key.split(":")[0] for key in (*ROUTES, *CLASSROOM_ROUTES)}
    assert declared_route_names() - covered == set()


def request(client, key, environment_pk):
    method, needs_pk, *_ = ROUTES[key]
    name, _, variant = key.partition(":")
    kwargs = {"pk": environment_pk} if needs_pk else {}
    if name == "environment_action":
        kwargs["action"] = variant
    if name == "port_proxy":
        kwargs.update(port=8080, path="")
    if name in ("file_download", "api_environment_files_download", "port_open"):
        url = reverse(name, kwargs=kwargs)
        return client.get(url, {"port": 8080} if name == "port_open" else {"path": "/etc/hostname"})
    if name == "nested_container_shell":
        kwargs["cid"] = "web"
    if name == "token_revoke":
        # A token of the environment's owner, made for this try.
        owner = Environment.objects.get(pk=environment_pk).owner
        kwargs["pk"] = tokens.token_create(user=owner, name="access check")[0].pk
    if name.startswith("host_") and needs_pk:
        kwargs["pk"] = Environment.objects.get(pk=environment_pk).host_id
    url = reverse(name, kwargs=kwargs)
    if name == "api_environment_exec":
        return client.post(url, {"cmd": ["true"]}, content_type="application/json")
    if name in ("api_environments",) and method == "post":
        return client.post(url, {"name": "Not A Valid Name"}, content_type="application/json")
    return getattr(client, method)(url)


def check(response, expected):
    if isinstance(expected, str):
        assert response.status_code == 302 and response["Location"].startswith(expected), response
    else:
        assert response.status_code == expected, (response.status_code, response.content[:300])


@pytest.fixture
def running(alice, make_environment):
    return make_environment(alice, name="guarded")


def logged_in_clients(user):
    pages = Client()
    pages.login(username=user.username, password=PASSWORD)
    return pages, api_client_for(user)


@pytest.mark.parametrize("role", ["developer", "trainer"])
def test_another_user_and_anonymous_are_turned_away(running, bob, role):
    """Another developer, or a trainer (classrooms aside, they see no one's environments)."""
    if role == "trainer":
        bob.groups.add(Group.objects.get_or_create(name="trainer")[0])
    other, other_api = logged_in_clients(bob)
    anonymous = Client()
    for key, (_, _, _, as_other, as_anonymous) in ROUTES.items():
        client = other_api if key.startswith("api_") else other
        check(request(client, key, running.pk), as_other)
        check(request(anonymous, key, running.pk), as_anonymous)
    running.refresh_from_db()
    assert running.status == "running"  # nothing they tried changed it


# What an admin gets from every route that only reads: everything, anyone's.
ADMIN_READS = {key: 200 for key, row in ROUTES.items() if row[0] == "get"}
ADMIN_READS.update({"port_open": 302, "port_proxy": 502})  # as for the owner (see ROUTES)


def test_an_admin_reads_every_route(running, django_user_model):
    admin = django_user_model.objects.create_user("ada", password=PASSWORD)
    admin.groups.add(Group.objects.get_or_create(name="admin")[0])
    pages, api = logged_in_clients(admin)
    for key, expected in ADMIN_READS.items():
        check(request(api if key.startswith("api_") else pages, key, running.pk), expected)


def test_the_owner_gets_through(running, alice):
    pages = Client()
    pages.login(username=alice.username, password=PASSWORD)
    api = api_client_for(alice)
    for key in OWNER_ORDER:
        if key == "environment_action:stop":
            wait_for(running, "stopped")
        client = api if key.startswith("api_") else pages
        check(request(client, key, running.pk), ROUTES[key][2])


def test_the_api_answers_anonymous_callers_with_a_sentence(client):
    response = client.get("/api/v1/environments/")
    assert response.status_code == 401
    assert response.json() == {"error": "Log in, or send an API token as 'Authorization: Token KEY'."}


def test_a_bad_token_is_refused(db):
    api = Client(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/v1/environments/")
    assert response.status_code == 401
    assert response.json() == {"error": "That API token is not valid."}


def test_the_admin_is_for_staff_only(alice):
    pages = Client()
    pages.login(username=alice.username, password=PASSWORD)
    response = pages.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
