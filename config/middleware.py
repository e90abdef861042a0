"""The console's own middleware: request bodies over the upload limit refused before anything reads them (413,
not a server error), and no answer kept by a cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers


class RequestBodyLimitMiddleware:
    """A declared ``Content-Length`` over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` answers 413 at once (JSON in the
    API's error shape under /api/). Django itself would raise while parsing, deep inside a view.

    A view that takes a file (the privacy center's agent form) names its own limit, ``view.body_limit()``, and
    the page that refuses a body over it, ``view.body_too_large(request, **kwargs)`` (naming the field and the
    limit in the person's language); the refusal still comes before anything reads the body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            own = _own_limit(request)
            if own is not None:
                view, kwargs = own
                if length <= view.body_limit():
                    return self.get_response(request)
                return view.body_too_large(request, **kwargs)
            detail = f"The request body is larger than the {limit} bytes allowed."
            if request.path.startswith("/api/"):
                body = {"type": "client_error", "errors": [{"code": "request_too_large", "detail": detail, "attr": None}]}
                return JsonResponse(body, status=413)
            return HttpResponse(detail, status=413, content_type="text/plain")
        return self.get_response(request)


def _own_limit(request: HttpRequest) -> tuple[Any, dict[str, Any]] | None:
    """The view behind the request and its URL's arguments, when it names its own body limit."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return (match.func, match.kwargs) if hasattr(match.func, "body_limit") else None


class NoStoreMiddleware:
    """Every answer carries ``Cache-Control: no-store`` (and ``private``, ``no-cache``, an expiry in the past):
    the console's pages and the API's bodies name people, their requests, calls and recordings, and neither
    a browser's cache nor a proxy may keep a copy. Static files are served before any middleware runs (by the
    web server, or by runserver's static handler) and stay cacheable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response
