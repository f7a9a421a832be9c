"""A seat's shared terminal: the trainer watches (read-only) or takes over (typing)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from environments.classrooms.seats import seat_claim
from environments.models import Seat

from .classroom_helpers import make_class, make_lab, make_trainer, provision_and_wait, remove_seat_environments
from .conftest import make_user
from .websockets import open_socket, read_terminal, refusal, token_for, type_line

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seat(workers, django_user_model):
    trainer = make_trainer(django_user_model)
    classroom = make_class(trainer, make_lab(trainer), seats=1)
    provision_and_wait(classroom)
    seat = seat_claim(classroom=classroom, student=make_user(django_user_model, "lena"))
    yield Seat.objects.select_related("environment", "student", "classroom__trainer").get(pk=seat.pk)
    remove_seat_environments(classroom)


async def quiet_for(socket, seconds: float, text: str) -> bool:
    """True when `text` did not show up in what the socket sent for `seconds`."""
    received = b""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining := deadline - loop.time()) > 0:
        if await socket.receive_nothing(timeout=min(remaining, 0.2), interval=0.02):
            continue
        message = await socket.receive_output()
        received += message.get("bytes") or b""
    return text not in received.decode("utf-8", errors="replace")


async def test_watch_mode_sees_the_students_screen_and_cannot_type(seat):
    path = f"/ws/environments/{seat.environment_id}/"
    student_token = await sync_to_async(token_for)(seat.student)
    trainer_token = await sync_to_async(token_for)(seat.classroom.trainer)

    student, connected = await open_socket(path + "shell/", token=student_token)
    assert connected
    await type_line(student, "echo student-$((20+3))")
    await read_terminal(student, "student-23")

    watcher, connected = await open_socket(path + "watch/", token=trainer_token)
    assert connected
    # The same screen: what the student typed before, and what they type now.
    await read_terminal(watcher, "student-23")
    await type_line(student, "echo again-$((30+4))")
    await read_terminal(watcher, "again-34")
    assert (await sync_to_async(Seat.objects.get)(pk=seat.pk)).watchers == 1

    # Keys from a watcher never reach the shell.
    await type_line(watcher, "echo watcher-$((40+5))")
    assert await quiet_for(student, 2, "watcher-45")

    # Taking over is a writable client of the same terminal: the student sees it.
    helper, connected = await open_socket(path + "shell/", token=trainer_token)
    assert connected
    await type_line(helper, "echo helper-$((50+6))")
    await read_terminal(student, "helper-56")
    await read_terminal(watcher, "helper-56")
    assert (await sync_to_async(Seat.objects.get)(pk=seat.pk)).watchers == 2
    page = await sync_to_async(_student_panel)(seat)
    assert "Your trainer is looking at your terminal." in page

    for socket in (helper, watcher):
        await socket.disconnect()
    await asyncio.sleep(0.5)
    assert (await sync_to_async(Seat.objects.get)(pk=seat.pk)).watchers == 0
    # The student's shell lives on, whoever left.
    await type_line(student, "echo still-$((60+7))")
    await read_terminal(student, "still-67")
    await student.disconnect()


def _student_panel(seat) -> str:
    client = Client()
    client.force_login(seat.student)
    return client.get(f"/seats/{seat.pk}/panel/").content.decode()


async def test_only_the_trainer_may_watch(seat, django_user_model):
    path = f"/ws/environments/{seat.environment_id}/watch/"
    stranger = await sync_to_async(make_user)(django_user_model, "mallory")
    for user in (seat.student, stranger):
        socket, _ = await open_socket(path, token=await sync_to_async(token_for)(user))
        assert await refusal(socket) == 4403
    anonymous, _ = await open_socket(path)
    assert await refusal(anonymous) == 4403
    other_trainer = await sync_to_async(make_trainer)(django_user_model, "otto")
    socket, _ = await open_socket(path, token=await sync_to_async(token_for)(other_trainer))
    assert await refusal(socket) == 4403


async def test_a_plain_environment_has_nothing_to_watch(alice, make_environment):
    environment = await sync_to_async(make_environment)(alice, name="not-a-seat")
    socket, _ = await open_socket(f"/ws/environments/{environment.pk}/watch/",
                                  token=await sync_to_async(token_for)(alice))
    assert await refusal(socket) == 4404
