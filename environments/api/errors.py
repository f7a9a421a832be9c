"""Every API error is {"error": "one sentence"} with a 4xx or 503 status."""

from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from ..engine import EngineError
from ..errors import DindwebError, http_status

SENTENCES = {
    exceptions.NotAuthenticated: "Log in, or send an API token as 'Authorization: Token KEY'.",
    exceptions.AuthenticationFailed: "That API token is not valid.",
    exceptions.PermissionDenied: "You are not allowed to do that.",
    exceptions.ParseError: "The request body is not valid JSON.",
    exceptions.UnsupportedMediaType: "Send the request body as JSON (Content-Type: application/json).",
    exceptions.NotAcceptable: "This API answers in JSON only.",
}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        field, value = next(iter(detail.items()))
        message = _first_message(value)
        return message if field == "non_field_errors" else f"{field}: {message}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, (DindwebError, EngineError)):
        return Response({"error": str(exc)}, status=http_status(exc))
    if isinstance(exc, (Http404, exceptions.NotFound)):
        return Response({"error": "No such environment."}, status=404)
    if isinstance(exc, exceptions.APIException):
        sentence = next((text for kind, text in SENTENCES.items() if isinstance(exc, kind)), None)
        if isinstance(exc, exceptions.MethodNotAllowed):
            sentence = f"The method {context['request'].method} is not allowed here."
        response = Response({"error": sentence or _first_message(exc.detail)}, status=exc.status_code)
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        elif isinstance(exc, exceptions.NotAuthenticated):
            response["WWW-Authenticate"] = "Token"
        if isinstance(exc, exceptions.Throttled) and exc.wait:
            response["Retry-After"] = str(int(exc.wait))
        return response
    return None
