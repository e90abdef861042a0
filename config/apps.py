from django.contrib.admin.apps import AdminConfig


class PrivacyAdminConfig(AdminConfig):
    """The admin, with the console's own site (config/admin_site.py); and the deployment's checks."""

    default_site = "config.admin_site.PrivacyAdminSite"

    def ready(self) -> None:
        super().ready()
        from config import checks  # noqa: F401  (registers them)
