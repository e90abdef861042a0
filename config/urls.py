from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views import defaults
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.api.permissions import DocsAccess

# The admin is the SimpleAdminConfig (config/apps.py): its modules load here, with the URLs, not at start-up.
admin.autodiscover()

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("", include("dsar.drp_urls")),
    path("api/v1/dsar/", include("dsar.api.urls")),
    # The privacy center: the pages people (and their agents) use, and its language switcher.
    path("privacy/", include("dsar.center.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("residency.api.urls")),
    path("api/v1/", include("recordings.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[DocsAccess]), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script for the CSP to allow.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[DocsAccess]),
        name="api-docs",
    ),
]


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Under /api/ a URL that matches no route (``/api/v1/recordings/abc/``) answers in the API's error shape."""
    if request.path.startswith("/api/"):
        body = {"type": "client_error", "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}]}
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)  # type: ignore[arg-type]


handler404: Any = not_found
