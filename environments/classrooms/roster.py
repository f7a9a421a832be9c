"""Seats from a roster the trainer pastes: one user name or email per line.

Every line is checked first and every problem reported with its line number; only a
roster without problems creates anything (accounts, one-time passwords, seats), in one
transaction, so a bad line never leaves half a class behind.
"""

import csv
import io
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from ..errors import InvalidRequest
from ..models import Classroom, OneTimePassword
from .classrooms import MAX_SEATS, add_seats
from .seats import seat_provision


class RosterError(InvalidRequest):
    """Problems found in a roster, one sentence per bad line."""

    def __init__(self, problems: list[str]):
        super().__init__(f"The roster has {len(problems)} problem{'s' if len(problems) > 1 else ''};"
                         " nothing was created.")
        self.problems = problems


@dataclass
class RosterLine:
    number: int
    text: str
    user: object = None  # the account, when it exists already


def _find_user(text: str):
    User = get_user_model()
    if "@" in text:
        return (User.objects.filter(email__iexact=text).first()
                or User.objects.filter(username__iexact=text).first())
    return User.objects.filter(username__iexact=text).first()


def check_roster(classroom: Classroom, text: str) -> list[RosterLine]:
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest("Paste at least one user name or email, one per line.")
    lines, problems, seen, accounts = [], [], {}, {}
    seated = set(classroom.seats.filter(student__isnull=False).values_list("student_id", flat=True))
    for number, raw in enumerate(text.splitlines(), start=1):
        entry = raw.strip().strip(",;")
        if not entry:
            continue
        key = entry.lower()
        if key in seen:
            problems.append(f"Line {number}: {entry} is already on line {seen[key]}.")
            continue
        seen[key] = number
        try:
            if len(entry) > 150:  # the longest user name (an email becomes one)
                raise ValidationError("too long")
            if "@" in entry:
                validate_email(entry)
            else:
                UnicodeUsernameValidator()(entry)
        except ValidationError:
            kind = "an email address" if "@" in entry else "a user name"
            problems.append(f"Line {number}: {entry} is not {kind}.")
            continue
        user = _find_user(entry)
        if user is not None and user.pk in seated:
            problems.append(f"Line {number}: {entry} already has a seat in this class.")
            continue
        if user is not None and user.pk == classroom.trainer_id:
            problems.append(f"Line {number}: {entry} is the class's trainer.")
            continue
        if user is not None and user.pk in accounts:
            problems.append(f"Line {number}: {entry} is the same account as line {accounts[user.pk]}.")
            continue
        if user is not None:
            accounts[user.pk] = number
        lines.append(RosterLine(number, entry, user))
    if len(lines) > MAX_SEATS:
        problems.append(f"A roster has at most {MAX_SEATS} students.")
    if problems:
        raise RosterError(problems)
    return lines


def roster_import(*, classroom: Classroom, text: str) -> list:
    """Accounts for new students (with one-time passwords) and a seat for each student;
    seats are provisioned at once if the class already was."""
    if classroom.has_ended:
        raise InvalidRequest("The class has ended.")
    lines = check_roster(classroom, text)
    User = get_user_model()
    with transaction.atomic():
        students = []
        for line in lines:
            user = line.user
            if user is None:
                email = line.text if "@" in line.text else ""
                password = secrets.token_urlsafe(9)
                user = User.objects.create_user(username=line.text.lower() if email else line.text,
                                                email=email, password=password)
                OneTimePassword.objects.create(user=user, classroom=classroom, password=password)
            students.append(user)
        seats = add_seats(classroom, len(students), students)
        if classroom.provisioned_at is not None and classroom.template is not None:
            spec = classroom.template.spec()
            for seat in seats:
                seat.spec = spec
                seat_provision(seat=seat)
    return seats


def passwords_csv(classroom: Classroom) -> str:
    """The one-time passwords not yet used, for the trainer to hand out."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["user name", "email", "one-time password", "seat"])
    seats = dict(classroom.seats.filter(student__isnull=False).values_list("student_id", "number"))
    for otp in classroom.one_time_passwords.filter(used_at__isnull=True).select_related("user"):
        writer.writerow([otp.user.get_username(), otp.user.email, otp.password, seats.get(otp.user_id, "")])
    return out.getvalue()


def one_time_password_used(user) -> bool:
    """At every sign-in until the student has chosen their own password: forget the
    one-time password's text (the CSV no longer shows it); True while they must choose."""
    OneTimePassword.objects.filter(user=user, used_at__isnull=True).update(used_at=timezone.now(), password="")
    return OneTimePassword.objects.filter(user=user).exists()


def password_chosen(user) -> None:
    OneTimePassword.objects.filter(user=user).delete()
