"""What each role may do with the catalog and the accounts, and the API key scope for reading them (see core/roles.py)."""

from core.roles import AUDITOR, PRIVACY_OFFICER, SUPPORT_ADMIN

CATALOG_VIEW = (
    "residency.view_region",
    "residency.view_product",
    "residency.view_datacategory",
    "residency.view_hostingoffer",
    "residency.view_transientroute",
    "residency.view_retentionrule",
    "residency.view_integration",
    "residency.view_subprocessor",
    "residency.view_processingplatform",
    "residency.view_processor",
    "residency.view_catalogload",
    "residency.view_changenotice",
)

GRANTS: dict[str, tuple[str, ...]] = {
    PRIVACY_OFFICER: ("residency.view_*", "residency.add_account", "residency.change_account"),
    SUPPORT_ADMIN: ("residency.view_account", *CATALOG_VIEW),
    AUDITOR: ("residency.view_*",),
}

SCOPES: dict[str, str] = {
    "residency:read": "Read the catalog, the account, its residency report, record of processing and notices.",
}

DEFAULT_SCOPES: tuple[str, ...] = ("residency:read",)
