"""Every classroom route, tried as the class's trainer, as its student, as another trainer,
as a developer, as an admin and anonymously. test_access.py's route check counts these rows."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from environments.classrooms.seats import seat_claim

from .classroom_helpers import make_class, make_lab, make_trainer, provision_and_wait, remove_seat_environments
from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)

LOGIN = "/accounts/login/"

# name: (method, object, trainer, student, another trainer, a developer, anonymous)
# The object the route takes: the class, its lab template, the student's seat, the join
# code, or nothing. Routes that change something run last for the trainer (see ORDER).
CLASSROOM_ROUTES = {
    "classroom_list": ("get", None, 200, 404, 200, 404, LOGIN),
    "classroom_create": ("post", None, 400, 404, 400, 404, LOGIN),  # an empty form
    "classroom_detail": ("get", "class", 200, 404, 404, 404, LOGIN),
    "classroom_provision": ("post", "class", 302, 404, 404, 404, LOGIN),  # nothing left to make
    "classroom_roster": ("post", "class", 400, 404, 404, 404, LOGIN),  # an empty roster
    "classroom_broadcast": ("post", "class", 400, 404, 404, 404, LOGIN),  # no command
    "classroom_results": ("get", "class", 200, 404, 404, 404, LOGIN),
    "classroom_passwords": ("get", "class", 200, 404, 404, 404, LOGIN),
    "lab_template_create": ("get", None, 200, 404, 200, 404, LOGIN),
    "lab_template_edit": ("get", "lab", 200, 404, 404, 404, LOGIN),
    "lab_template_preview": ("get", "lab", 200, 404, 404, 404, LOGIN),
    "lab_template_duplicate": ("post", "lab", 302, 404, 404, 404, LOGIN),
    "seat_detail": ("get", "seat", 200, 200, 404, 404, LOGIN),
    "seat_panel": ("get", "seat", 200, 200, 404, 404, LOGIN),
    "join": ("get", None, 200, 200, 200, 200, 200),
    "join_class": ("get", "code", 200, 200, 200, 200, 200),
    # Claiming: the student has their seat already; the class (one seat) is full for others.
    "join_class:post": ("post", "code", 409, 302, 409, 409, 403),
    "join_signup": ("post", "code", 400, 400, 400, 400, 400),  # an empty sign-up form
    "seat_reset": ("post", "seat", 302, 403, 404, 404, LOGIN),
    "classroom_end": ("post", "class", 302, 404, 404, 404, LOGIN),
    "lab_template_delete": ("post", "lab", 302, 404, 404, 404, LOGIN),
}
ORDER = list(CLASSROOM_ROUTES)  # as written: the changes come last, the end and delete at the very end


@pytest.fixture
def classroom(workers, django_user_model):
    trainer = make_trainer(django_user_model)
    classroom = make_class(trainer, make_lab(trainer), seats=1)
    provision_and_wait(classroom)
    seat_claim(classroom=classroom, student=make_user(django_user_model, "stu"))
    yield classroom
    remove_seat_environments(classroom)


def request(client, key, classroom):
    method, kind, *_ = CLASSROOM_ROUTES[key]
    name = key.partition(":")[0]
    objects = {"class": {"pk": classroom.pk}, "lab": {"pk": classroom.template_id},
               "seat": {"pk": classroom.seats.get().pk}, "code": {"code": classroom.join_code}, None: {}}
    return getattr(client, method)(reverse(name, kwargs=objects[kind]))


def check(response, expected, key, who):
    if isinstance(expected, str):
        assert response.status_code == 302 and response["Location"].startswith(expected), (key, who, response)
    else:
        assert response.status_code == expected, (key, who, response.status_code, response.content[:300])


def client_of(user):
    client = Client()
    if user is not None:
        client.login(username=user.username, password=PASSWORD)
    return client


def test_every_classroom_route_as_everyone(classroom, django_user_model):
    someone = {
        "student": classroom.seats.get().student,
        "another trainer": make_trainer(django_user_model, "otto"),
        "a developer": make_user(django_user_model, "dev"),
        "anonymous": None,
    }
    column = {"student": 3, "another trainer": 4, "a developer": 5, "anonymous": 6}
    for who, user in someone.items():
        client = client_of(user)
        for key in ORDER:
            check(request(client, key, classroom), CLASSROOM_ROUTES[key][column[who]], key, who)
    classroom.refresh_from_db()
    assert classroom.ended_at is None and classroom.template_id  # nothing they tried changed it

    trainer = client_of(classroom.trainer)
    for key in ORDER:
        check(request(trainer, key, classroom), CLASSROOM_ROUTES[key][2], key, "trainer")
    classroom.refresh_from_db()
    assert classroom.ended_at is not None


def test_an_admin_reads_every_classroom_page(classroom, django_user_model):
    admin = django_user_model.objects.create_user("ada", password=PASSWORD)
    admin.groups.add(Group.objects.get_or_create(name="admin")[0])
    client = client_of(admin)
    for key, (method, *_rest) in CLASSROOM_ROUTES.items():
        if method == "get":
            check(request(client, key, classroom), 200, key, "admin")
