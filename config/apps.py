from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks


class PrivacyAdminConfig(SimpleAdminConfig):
    """The admin, with the console's own site (config/admin_site.py); and the deployment's checks.

    The apps' admin modules are loaded with the URLs (config/urls.py), not at start-up: they import most of
    the console's pages and services, which commands never use."""

    default_site = "config.admin_site.PrivacyAdminSite"

    def ready(self) -> None:
        # SimpleAdminConfig.ready() registers these two; the admin's own check here first loads every admin
        # module, so that `manage.py check` still checks every ModelAdmin when nothing has loaded the URLs.
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_every_model_admin, checks.Tags.admin)
        from config import checks as deployment_checks  # noqa: F401  (registers them)


def check_every_model_admin(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Django's checks of every registered ModelAdmin, once every app's admin module is loaded."""
    admin.autodiscover()
    return check_admin_app(app_configs, **kwargs)
