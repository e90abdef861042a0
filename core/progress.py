"""The one answer a long operation's status URL gives the console (core/static/core/progress.js)."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers


def progress_response(*, state: str, text: str, done: bool, link: tuple[str, str] | None = None) -> JsonResponse:
    """``state`` as stored, ``text`` as shown, ``done`` when it will not change again; ``link`` (href, label)."""
    response = JsonResponse(
        {"state": state, "text": text, "done": done, "link": {"href": link[0], "label": link[1]} if link else None}
    )
    add_never_cache_headers(response)
    return response
