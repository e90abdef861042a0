"""What each role may do with people and their requests, and the API key scopes for them (see core/roles.py).

Besides Django's own, ``dsar.verify_identity``, ``dsar.execute_erasure``, ``dsar.execute_request``,
``dsar.download_export`` (access reports and personal-data downloads) and ``dsar.change_jurisdiction`` are
declared on the models.
"""

from core.roles import AUDITOR, PRIVACY_OFFICER, SUPPORT_ADMIN

GRANTS: dict[str, tuple[str, ...]] = {
    PRIVACY_OFFICER: (
        "dsar.view_*",
        "dsar.add_person",
        "dsar.change_person",
        "dsar.add_request",
        "dsar.change_request",
        "dsar.verify_identity",
        "dsar.execute_erasure",
        "dsar.execute_request",
        "dsar.download_export",
        "dsar.change_jurisdiction",
        # The account's privacy center: its address, open or closed, default law, erasure grace days.
        "dsar.add_privacycenter",
        "dsar.change_privacycenter",
        # The Data Rights Protocol's agents, as the network's directory lists them.
        "dsar.add_drpagent",
        "dsar.change_drpagent",
    ),
    SUPPORT_ADMIN: ("dsar.view_person",),
    AUDITOR: ("dsar.view_*",),
}

SCOPES: dict[str, str] = {
    "requests:create": "Open data subject requests (intake).",
    "requests:read": "Read the account's requests and their timelines.",
    "requests:verify": "Submit the one-time code a requester received.",
    "requests:manage": "Extend deadlines and reject requests.",
    "requests:report": "Read access reports (personal data).",
    "requests:execute": "Preview and execute requests, erasure included.",
}

#: What an intake form needs.
DEFAULT_SCOPES: tuple[str, ...] = ("requests:create", "requests:read", "requests:verify")
