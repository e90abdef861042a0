"""The services of telephony records, by capability, in one place for their callers (the admin, the API,
the commands, the data source): legal holds, tickets, deletion of recordings, the purge, the provider
outbox, history exports, phone lines and what a change makes the purge delete. This module only gathers them."""

from __future__ import annotations

from recordings.deletion import (  # noqa: F401 (re-exported)
    AuditInfo,
    Deleted,
    RecordingHeld,
    delete_claimed_recordings,
    recording_delete,
    recordings_delete_for_erasure,
)
from recordings.history_exports import (  # noqa: F401 (re-exported)
    CALL_HISTORY_HEADER,
    DOWNLOAD_PERMISSION,
    MONITORING_HISTORY_HEADER,
    export_download_token,
    export_download_url,
    export_from_token,
    export_path,
    export_recipient_login,
    history_export_range,
    history_export_recipient,
    history_export_request,
    history_export_rows,
    history_export_run,
    history_exports_expire,
    month_bounds,
)
from recordings.holds import (  # noqa: F401 (re-exported)
    Held,
    hold_check_change,
    hold_check_delete,
    hold_message,
    hold_notice,
    holds_covering,
    holds_covering_recording,
    legal_hold_place,
    legal_hold_release,
    legal_hold_validate,
)
from recordings.impact import (  # noqa: F401 (re-exported)
    PurgeImpact,
    next_purge_run,
    open_requests_by_recording,
    recordings_per_ticket,
    release_impact,
    window_change_impact,
)
from recordings.lines import REASON_MAX_LENGTH, phone_line_update  # noqa: F401 (re-exported)
from recordings.provider_outbox import (  # noqa: F401 (re-exported)
    RETRY_BASE_SECONDS,
    RETRY_MAX_SECONDS,
    ProviderRunResult,
    provider_deletion_record_outcome,
    provider_deletion_retry_now,
    provider_deletions_process,
    retry_delay,
)
from recordings.purge import (  # noqa: F401 (re-exported)
    PurgeResult,
    purge_workload,
    recordings_purge,
    recordings_purge_batch,
    tickets_purge_batch,
)
from recordings.tickets import TicketHeld, ticket_restore, ticket_soft_delete, ticket_update  # noqa: F401 (re-exported)
