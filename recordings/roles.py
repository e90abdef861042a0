"""What each role may do with telephony records, and the API key scopes for them (see core/roles.py).

Besides Django's own, ``recordings.place_hold`` and ``recordings.release_hold`` (on ``LegalHold``) and
``recordings.download_export`` (call- and monitoring-history CSVs, on ``HistoryExport``) are declared on the
models. Manual deletion of a recording is Django's own ``recordings.delete_recording``; soft deletion and
restoring of a ticket is ``recordings.delete_ticket``.
"""

from core.roles import AUDITOR, PRIVACY_OFFICER, SUPPORT_ADMIN

GRANTS: dict[str, tuple[str, ...]] = {
    PRIVACY_OFFICER: (
        "recordings.view_*",
        "recordings.place_hold",
        "recordings.release_hold",
        "recordings.add_historyexport",
        "recordings.download_export",
    ),
    SUPPORT_ADMIN: (
        "recordings.view_*",
        "recordings.add_phoneline",
        "recordings.change_phoneline",
        "recordings.add_ticket",
        "recordings.change_ticket",
        "recordings.delete_ticket",
        "recordings.delete_recording",
        "recordings.add_historyexport",
        "recordings.download_export",
        "recordings.change_providerdeletion",
    ),
    AUDITOR: ("recordings.view_*",),
}

SCOPES: dict[str, str] = {
    "history:read": "Read call, monitoring and text history (people's numbers).",
    "recordings:read": "Read recordings.",
    "recordings:delete": "Delete recordings permanently.",
    "tickets:read": "Read telephony tickets.",
    "tickets:delete": "Delete (soft) and restore telephony tickets.",
    "exports:create": "Queue call- and monitoring-history exports.",
    "exports:read": "Read the state of history exports.",
}
