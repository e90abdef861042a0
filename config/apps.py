from django.contrib.admin.apps import AdminConfig


class PrivacyAdminConfig(AdminConfig):
    """The admin, with the console's own site (config/admin_site.py)."""

    default_site = "config.admin_site.PrivacyAdminSite"
