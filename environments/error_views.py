"""What Django itself answers when no view did: JSON for the API, a page for people."""

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render


def _answer(request, status: int, sentence: str):
    if request.path.startswith("/api/"):
        return JsonResponse({"error": sentence}, status=status)
    return render(request, "error.html", {"sentence": sentence, "status": status}, status=status)


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return _answer(request, 400, "The request is too large.")
    return _answer(request, 400, "The request was not understood.")


def permission_denied(request, exception=None):
    sentence = str(exception) if exception and str(exception) else "You are not allowed to do that."
    return _answer(request, 403, sentence)


def not_found(request, exception=None):
    return _answer(request, 404, "There is no such page.")


def server_error(request):
    return _answer(request, 500, "Something went wrong on our side; it has been logged.")
