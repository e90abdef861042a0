"""The services of people and requests, by capability, in one place for their callers (the admin, the API,
the commands and the tasks): people (and what a legal hold freezes of them), intake, identity, lifecycle
(deadlines and closing), rectification, objection, erasure, portability (dsar.exports) and access
(dsar.report). This module only gathers them and dispatches ``request_execute`` to the one the request's type needs; none of them imports it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from dsar.erasure import (  # noqa: F401 (re-exported)
    ErasureOutcome,
    ErasurePreview,
    Progress,
    SourcePreview,
    erasure_preview,
    grace_blockers,
    request_erasure_preview,
    request_execute_erasure,
    request_verify_erasure,
)
from dsar.exports import export_create
from dsar.identity import (  # noqa: F401 (re-exported)
    mark_verified,
    request_send_code,
    request_send_code_blockers,
    request_verify_blockers,
    request_verify_code,
    request_verify_manually,
)
from dsar.intake import request_create  # noqa: F401 (re-exported)
from dsar.lifecycle import (  # noqa: F401
    close_after_erasure,
    request_assign,
    request_complete,
    request_complete_blockers,
    request_extend,
    request_extend_blockers,
    request_reject,
    request_reject_blockers,
)
from dsar.models import Request, RequestEvent
from dsar.objection import person_object
from dsar.people import (  # noqa: F401 (re-exported)
    PersonHeld,
    people_held,
    person_check_change,
    person_check_delete,
    person_hold_notice,
    person_holds,
    person_update,
    person_validate_change,
)
from dsar.rectification import RECTIFIABLE_FIELDS, person_rectify, person_send_data  # noqa: F401
from dsar.report import request_access_report
from dsar.resolution import erasure_hit_declare, erasure_hit_redact  # noqa: F401 (re-exported)
from dsar.workflow import (  # noqa: F401
    SYSTEM,
    User,
    add_event,
    open_blockers,
    request_subject,
    require_verified,
    subject_of,
)

# --- execute, whatever the type -------------------------------------------------------------------


def request_execute_blockers(request: Request) -> dict[str, str]:
    """Why the request cannot be executed now (field → why); empty when it can (an erasure's own blockers, such
    as an active call, are in its preview)."""
    blockers = open_blockers(request)
    if not blockers and not request.is_verified:
        blockers["status"] = "The requester's identity is not verified yet."
    if not blockers and request.type == Request.Type.RECTIFICATION:
        blockers["type"] = "A rectification is done by correcting the person's data from the request."
    if not blockers and request.type == Request.Type.ERASURE:
        blockers = grace_blockers(request)
    return blockers



def request_execute(*, request: Request, actor: User = None, progress: Progress | None = None) -> ErasureOutcome | None:
    """Do what the request asks: erase, record the objection, build the export, or produce the access report."""
    require_verified(request)
    if request.type == Request.Type.ERASURE:
        return request_execute_erasure(request=request, actor=actor, progress=progress)
    if request.type == Request.Type.OBJECTION:
        person_object(request=request, actor=actor)
        request_complete(request=request, actor=actor)
        return None
    if request.type == Request.Type.PORTABILITY:
        export_create(request=request, actor=actor)
        return None
    if request.type == Request.Type.ACCESS:
        report = request_access_report(request=request)
        with transaction.atomic():
            Request.objects.filter(pk=request.pk, executed_at__isnull=True).update(executed_at=timezone.now())
            request.refresh_from_db()
            add_event(
                request,
                RequestEvent.Kind.REPORT,
                f"Access report produced: {report['total']} record(s) in {len(report['categories'])} categor(ies), "
                f"residency from catalog {report['catalog_version'] or '(none loaded)'}.",
                actor=actor,
            )
        return None
    raise ValidationError({"type": "A rectification is done by correcting the person's data from the request."})
