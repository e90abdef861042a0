"""Objection: excluding the person from every marketing use from now on."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from dsar.models import (
    Person,
    Request,
    RequestEvent,
)
from dsar.workflow import (
    User,
    add_event,
    record_history,
    require_open,
    require_verified,
)

# --- objection -----------------------------------------------------------------------------------


@transaction.atomic
def person_object(*, request: Request, actor: User = None) -> bool:
    """Exclude the person from every marketing use from now on; False if they had already objected."""
    if request.type != Request.Type.OBJECTION:
        raise ValidationError({"type": "Only an objection request records an objection."})
    require_verified(request)
    require_open(request)
    if request.person is None:
        raise ValidationError({"person": "The request has no person."})
    now = timezone.now()
    person = request.person
    changed = Person.objects.filter(pk=person.pk, objected_to_marketing_at__isnull=True).update(
        objected_to_marketing_at=now, objection_request=request
    )
    if changed:
        record_history(person, actor=actor, reason=f"objection, request {request.pk}")
        add_event(request, RequestEvent.Kind.OBJECTION, "The person is excluded from marketing from now on.", actor=actor)
    else:
        add_event(
            request,
            RequestEvent.Kind.OBJECTION,
            "The person had already objected to marketing; nothing changed.",
            actor=actor,
        )
    Request.objects.filter(pk=request.pk, executed_at__isnull=True).update(executed_at=now)
    request.refresh_from_db()
    return bool(changed)
