"""The Data Rights Protocol's endpoints (dsar/drp.py): each checks the caller and the signed message, calls the
service and answers JSON; a refusal answers the protocol's error shape (section 3.06).

Agents are programs, not browsers: no session, no CSRF token; the bearer token and the signature are the proof.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from dsar import drp

View = Callable[..., HttpResponse]


def protocol_errors(view: View) -> View:
    """Answers a :class:`~dsar.drp.DrpError` in the protocol's shape, with ``Retry-After`` when it says when."""

    @wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except drp.DrpError as error:
            response = JsonResponse(error.body(), status=error.status)
            if error.retry_after is not None:
                response["Retry-After"] = str(error.retry_after)
            return response

    return answer


@require_GET
def discovery(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/data-rights.json``: where the API is and which actions it takes."""
    return JsonResponse(drp.discovery_document())


@csrf_exempt
@require_http_methods(["GET", "POST"])
@protocol_errors
def agent(request: HttpRequest, agent_id: str) -> HttpResponse:
    """``POST /v1/agent/{agent-id}``: a new bearer token for the agent whose key signed the body (any failure answers
    403 without a body, as section 2.05.1 says). ``GET``: whether the bearer token is still this agent's (2.06)."""
    if request.method == "POST":
        try:
            registered, token = drp.drp_agent_register(agent_id=agent_id, body=request.body)
        except drp.DrpError:
            return HttpResponse(status=403)
        return JsonResponse({"agent-id": registered.agent_id, "token": token})
    if drp.agent_for_token(request.headers.get("Authorization", "")).agent_id != agent_id:
        raise drp.DrpError(403, "The bearer token is another agent's.")
    return JsonResponse({})


@csrf_exempt
@require_http_methods(["POST"])
@protocol_errors
def request_create(request: HttpRequest) -> HttpResponse:
    """``POST /v1/data-rights-request``: file the signed request; answers its status (``open``: the person is
    asked to confirm it)."""
    caller = drp.agent_for_token(request.headers.get("Authorization", ""))
    submission = drp.drp_request_submit(agent=caller, body=request.body)
    return JsonResponse(drp.drp_status(submission))


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
@protocol_errors
def request_detail(request: HttpRequest, request_id: str) -> HttpResponse:
    """``GET /v1/data-rights-request/{request_id}``: its status. ``DELETE``: revoke it (the signed body gives the
    reason); answers the new status, ``revoked``."""
    caller = drp.agent_for_token(request.headers.get("Authorization", ""))
    submission = drp.agents_submission(agent=caller, request_id=request_id)
    if request.method == "DELETE":
        submission = drp.drp_request_cancel(agent=caller, submission=submission, body=request.body)
    return JsonResponse(drp.drp_status(submission))
