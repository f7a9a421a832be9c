"""The audit log: logins, failed logins, logouts and tokens recorded with who and from
where; record() never breaks the action; admins browse, filter and export it."""

import csv
import io
import logging
from datetime import datetime, timedelta, timezone

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse

from environments import audit, roles
from environments.models import AuditEvent

from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


def logged_in(user) -> Client:
    client = Client(REMOTE_ADDR=IP)
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def admin(django_user_model):
    """An admin by role (the admin group), not a superuser."""
    user = make_user(django_user_model, "root")
    user.groups.add(Group.objects.get_or_create(name=roles.ADMIN)[0])
    return user


@pytest.fixture
def admin_pages(admin):
    pages = logged_in(admin)
    AuditEvent.objects.all().delete()  # the login above; each test writes the rows it reads
    return pages


def only(**filters) -> AuditEvent:
    return AuditEvent.objects.get(**filters)


# --- What is recorded ----------------------------------------------------------------

def test_a_login_and_a_logout_are_recorded_with_the_ip(alice):
    browser = Client(REMOTE_ADDR=IP)
    response = browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    login = only(action="login")
    assert (login.actor, login.username, login.outcome, login.ip) == (alice, "alice", "ok", IP)

    assert browser.post("/accounts/logout/").status_code == 302
    logout = only(action="logout")
    assert (logout.actor, logout.username, logout.ip) == (alice, "alice", IP)


@pytest.mark.parametrize("name", ["alice", "mallory"])
def test_a_failed_login_is_recorded_with_the_name_tried(alice, name):
    response = Client(REMOTE_ADDR=IP).post("/accounts/login/", {"username": name, "password": "wrong"})
    assert response.status_code == 200
    failed = only(action="login.failed")
    assert failed.actor is None and failed.username == name and failed.target == f"user {name}"
    assert failed.outcome == "refused" and failed.ip == IP
    assert "wrong" not in failed.detail  # the password tried is never kept
    assert not AuditEvent.objects.filter(action="login").exists()


def test_making_and_revoking_a_token_is_recorded(alice):
    pages = logged_in(alice)
    pages.post(reverse("token_create"), {"name": "laptop"})
    token = alice.api_tokens.get()
    made = only(action="token.create")
    assert (made.actor, made.target, made.outcome, made.ip) == (alice, "token laptop", "ok", IP)
    assert token.prefix in made.detail

    pages.post(reverse("token_revoke", args=[token.pk]))
    revoked = only(action="token.revoke")
    assert (revoked.actor, revoked.target, revoked.ip) == (alice, "token laptop", IP)


def test_a_row_survives_its_users_deletion(alice):
    audit.record(action="environment.create", actor=alice, target="alice/sandbox")
    alice.delete()
    event = only(action="environment.create")
    assert event.actor is None and event.username == "alice" and event.target == "alice/sandbox"


# --- record() --------------------------------------------------------------------------

def test_record_takes_the_user_and_ip_from_a_request(alice):
    request = RequestFactory().post("/", REMOTE_ADDR="2001:db8::1")
    request.user = alice
    event = audit.record(action="environment.exec", target="alice/sandbox", outcome="failed",
                         detail="The engine did not answer.", request=request)
    event.refresh_from_db()
    assert (event.actor, event.username, event.ip, event.outcome) == (alice, "alice", "2001:db8::1", "failed")
    assert audit.record(action="shell.open", actor=alice, ip="198.51.100.2").ip == "198.51.100.2"


def test_record_fits_what_it_is_given_to_the_columns(db):
    event = audit.record(action="a" * 100, target="t" * 500, detail="d" * 1000, ip="not an address")
    event.refresh_from_db()
    assert len(event.action) == 40 and len(event.target) == 200 and len(event.detail) == 500
    assert event.ip is None and event.actor is None


def test_record_never_raises_and_logs_instead(db, monkeypatch, caplog):
    def broken_insert(self, *args, **kwargs):
        with connection.cursor() as cursor:  # a real database error, inside record()'s savepoint
            cursor.execute("INSERT INTO no_such_table VALUES (1)")

    monkeypatch.setattr(AuditEvent, "save", broken_insert)
    with caplog.at_level(logging.ERROR, logger="environments.audit"):
        with transaction.atomic():
            assert audit.record(action="environment.create", target="alice/sandbox") is None
            # The caller's transaction carries on: its own writes still work.
            Group.objects.create(name="still-fine")
    assert Group.objects.filter(name="still-fine").exists()
    assert "Could not record the audit event environment.create" in caplog.text


# --- The audit page --------------------------------------------------------------------

def at(day: int, hour: int = 12) -> datetime:
    return datetime(2030, 1, day, hour, tzinfo=timezone.utc)


@pytest.fixture
def some_events(admin_pages):
    rows = [
        ("alice", "login", "ok", at(1)),
        ("alice", "environment.create", "ok", at(2)),
        ("alice", "environment.create", "refused", at(3)),
        ("bob", "environment.exec", "failed", at(3, 23)),
        ("bob", "login.failed", "refused", at(4)),
    ]
    for username, action, outcome, when in rows:
        AuditEvent.objects.create(username=username, action=action, outcome=outcome, timestamp=when,
                                  target=f"{username}/sandbox", ip="192.0.2.1")
    return rows


def shown(pages, **query) -> list[tuple]:
    response = pages.get(reverse("audit_log"), query)
    assert response.status_code == 200, response.content[:500]
    return [(e.username, e.action, e.outcome) for e in response.context["page"].object_list]


def test_an_admin_sees_the_log_newest_first(admin_pages, some_events):
    response = admin_pages.get(reverse("audit_log"))
    assert response.status_code == 200
    assert "Audit log" in response.content.decode()
    assert shown(admin_pages) == [(u, a, o) for u, a, o, _ in reversed(some_events)]


@pytest.mark.parametrize(("query", "expected"), [
    ({"user": "ALICE"}, [("alice", "environment.create", "refused"), ("alice", "environment.create", "ok"),
                         ("alice", "login", "ok")]),
    ({"action": "environment.create"}, [("alice", "environment.create", "refused"),
                                        ("alice", "environment.create", "ok")]),
    ({"outcome": "refused"}, [("bob", "login.failed", "refused"), ("alice", "environment.create", "refused")]),
    ({"date_from": "2030-01-03", "date_to": "2030-01-03"}, [("bob", "environment.exec", "failed"),
                                                           ("alice", "environment.create", "refused")]),
    ({"user": "bob", "date_from": "2030-01-04"}, [("bob", "login.failed", "refused")]),
    ({"user": "carol"}, []),
])
def test_the_filters(admin_pages, some_events, query, expected):
    assert shown(admin_pages, **query) == expected


@pytest.mark.parametrize(("query", "sentence"), [
    ({"date_from": "yesterday"}, "Give dates as YYYY-MM-DD."),
    ({"date_from": "2030-01-05", "date_to": "2030-01-01"}, "The start date is after the end date."),
    ({"outcome": "maybe"}, "Choose one of the outcomes offered."),
])
def test_bad_filters_are_refused_with_a_sentence(admin_pages, query, sentence):
    response = admin_pages.get(reverse("audit_log"), query)
    assert response.status_code == 400 and sentence in response.content.decode()
    export = admin_pages.get(reverse("audit_export"), query)
    assert export.status_code == 400 and export.content.decode() == sentence


def test_pages_of_fifty_keep_the_filters(admin_pages):
    AuditEvent.objects.bulk_create([AuditEvent(username="alice", action="environment.exec",
                                               timestamp=at(1) + timedelta(minutes=n)) for n in range(120)]
                                   + [AuditEvent(username="bob", action="environment.exec")])
    first = admin_pages.get(reverse("audit_log"), {"user": "alice"})
    page = first.context["page"]
    assert (page.number, page.paginator.num_pages, page.paginator.count, len(page.object_list)) == (1, 3, 120, 50)
    assert "?user=alice&amp;page=2" in first.content.decode()  # "Older" keeps the filter

    last = admin_pages.get(reverse("audit_log"), {"user": "alice", "page": 3}).context["page"]
    assert len(last.object_list) == 20
    assert list(last.object_list)[-1].timestamp == at(1)  # the oldest comes last
    # A page number that is not one gives the nearest page, not an error.
    assert admin_pages.get(reverse("audit_log"), {"user": "alice", "page": 99}).context["page"].number == 3
    assert admin_pages.get(reverse("audit_log"), {"page": "x"}).context["page"].number == 1


def test_the_export_is_the_filtered_rows_as_csv(admin_pages, some_events):
    AuditEvent.objects.create(username="=HYPERLINK(\"http://evil\")", action="login.failed", outcome="refused",
                              target="user =cmd", detail="Wrong user name or password.", timestamp=at(5))
    response = admin_pages.get(reverse("audit_export"), {"outcome": "refused"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="dindweb-audit-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["timestamp", "user", "action", "target", "outcome", "detail", "ip"],
        # A spreadsheet must not take a name someone typed for a formula.
        ["2030-01-05T12:00:00+00:00", "'=HYPERLINK(\"http://evil\")", "login.failed", "user =cmd", "refused",
         "Wrong user name or password.", ""],
        ["2030-01-04T12:00:00+00:00", "bob", "login.failed", "bob/sandbox", "refused", "", "192.0.2.1"],
        ["2030-01-03T12:00:00+00:00", "alice", "environment.create", "alice/sandbox", "refused", "", "192.0.2.1"],
    ]


def test_the_page_links_to_the_export_with_the_same_filters(admin_pages, some_events):
    body = admin_pages.get(reverse("audit_log"), {"user": "bob", "page": "1"}).content.decode()
    assert f'href="{reverse("audit_export")}?user=bob"' in body


# --- Who may see it --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["audit_log", "audit_export"])
def test_only_admins_get_in(admin, alice, django_user_model, name):
    superuser = django_user_model.objects.create_superuser("boss", "", PASSWORD)
    assert logged_in(admin).get(reverse(name)).status_code == 200
    assert logged_in(superuser).get(reverse(name)).status_code == 200
    assert logged_in(alice).get(reverse(name)).status_code == 404
    anonymous = Client().get(reverse(name))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_the_navigation_shows_the_audit_log_to_admins_only(admin, alice):
    for_admin = logged_in(admin).get(reverse("environment_list")).content.decode()
    for_developer = logged_in(alice).get(reverse("environment_list")).content.decode()
    assert f'href="{reverse("audit_log")}"' in for_admin
    assert f'href="{reverse("audit_log")}"' not in for_developer
    assert f'href="{reverse("token_list")}"' in for_admin and f'href="{reverse("token_list")}"' in for_developer
