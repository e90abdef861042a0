"""The console's confirmation pages for what cannot be undone on telephony records.

Each destructive step (a recording deleted, a ticket deleted, a hold released, a line's auto-delete window
changed) answers its first request with a page saying what will happen, to how many records, what the purge
will then delete and when, and what cannot be undone, with a required reason; only a POST carrying
``post=yes`` and a reason runs it, through :mod:`recordings.services`. Like Django's own ``delete_selected``: a
GET, or a POST without the confirmation, changes nothing. The page itself is the console's one confirmation page
(:mod:`core.confirmation`); this module says what each page shows. ``recordings.admin`` only wires these pages to
its classes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from core.confirmation import Confirmation, Row, confirmation_page
from recordings import services
from recordings.models import TICKET_PURGE_AFTER, LegalHold, PhoneLine, Recording, Ticket


def _confirmation(**page: Any) -> Confirmation:
    """A page of this module: each asks why (the reason is kept with the change, in the history, and in the audit
    chain for a release or a deletion) and says in full what can and cannot be undone."""
    return Confirmation(
        note="Reason",
        note_field="reason",
        note_help=f"Why, in up to {services.REASON_MAX_LENGTH} characters: kept in the history with your name.",
        note_max_length=services.REASON_MAX_LENGTH,
        note_missing="Reason: say why; it is kept in the history with your name.",
        cannot_be_undone_in_full=True,
        impact_title="What the purge will delete",
        **page,
    )


def _when(moment: datetime | None) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else "—"


def _day(moment: datetime | None) -> str:
    return date_format(timezone.localtime(moment), "DATE_FORMAT") if moment else "—"


def _next_run(impact: services.PurgeImpact) -> str:
    if impact.at is None:
        return "when purge_recordings next runs (it is not in the schedule settings: cron or a timer runs it)"
    return f"at the purge's next run, by {_when(impact.at)} at the latest"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


# --------------------------------------------------------------------------------------------------
# Deleting recordings by hand


def delete_recordings(
    model_admin: admin.ModelAdmin, request: HttpRequest, recordings: list[Recording], *, back_url: str, via: str
) -> HttpResponse | None:
    """Confirm, then delete ``recordings`` (their call, ticket and line loaded) for good. Returns the page, or
    None once done (messages say what happened to each). A recording of a person with an open data subject
    request is named on the page and needs the acknowledgement ticked."""
    requests = services.open_requests_by_recording(recordings)
    holds = {recording.pk: services.holds_covering_recording(recording) for recording in recordings}
    held = sum(1 for recording in recordings if holds[recording.pk])
    confirmation = _confirmation(
        title="Delete recordings permanently?",
        happens=[
            f"Delete {_plural(len(recordings) - held, 'recording')} permanently, here and at the telephony provider."
            + (f" {_plural(held, 'recording')} under a legal hold will not be deleted." if held else "")
        ],
        count=len(recordings) - held,
        cannot_be_undone=(
            "Deleting a recording is permanent and cannot be undone, here or at the provider. It is not written into the ticket's "
            "event log; the audit log of deleted recordings records who deleted it, when, from which ticket, and why."
        ),
        button="Yes, delete permanently",
        back_url=back_url,
        columns=["Ticket", "Line", "Created", "Legal hold", "Open data subject request"],
        rows=[
            Row(recording, [
                f"#{recording.ticket_id}" if recording.ticket_id else "—",
                str(recording.line),
                _when(recording.created_at),
                "; ".join(f"Held: hold #{hold.pk} on {hold.target_label} ({hold.reason}) — will not be deleted"
                          for hold in holds[recording.pk]) or "none",
                "; ".join(f"#{req.pk} {req.get_type_display()}, {req.get_status_display().lower()}"
                          for req in requests.get(recording.pk, [])) or "none",
            ])
            for recording in recordings
        ],
        warnings=[
            f"Recording {recording.provider_sid} is of "
            + "; ".join(f"person {req.person_id} ({req.person}), who has an open {req.get_type_display().lower()} request "
                        f"#{req.pk} ({req.get_status_display().lower()}, due {req.due_at})" for req in requests[recording.pk])
            + ": deleting it removes data that request may be about."
            for recording in recordings if recording.pk in requests
        ],
        acknowledge="I have read the open data subject requests above and delete these recordings anyway.",
    )
    form = confirmation.form(request)
    if form.is_valid():
        for recording in recordings:
            _delete_one(model_admin, request, recording, form.cleaned_data["reason"], via=via)
        return None
    return confirmation_page(model_admin, request, confirmation, form)


def _delete_one(
    model_admin: admin.ModelAdmin, request: HttpRequest, recording: Recording, reason: str, *, via: str
) -> None:
    try:
        services.recording_delete(recording_id=recording.pk, user=request.user, reason=reason, via=via)
    except PermissionDenied as exc:
        model_admin.message_user(request, str(exc), messages.ERROR)
    except ObjectDoesNotExist:
        model_admin.message_user(request, f"Recording {recording.provider_sid} was already deleted.", messages.WARNING)
    else:
        ticket = f"ticket #{recording.ticket_id}" if recording.ticket_id else "no ticket"
        model_admin.message_user(
            request, f"Recording {recording.provider_sid} deleted permanently ({ticket}).", messages.SUCCESS
        )


def delete_recordings_action(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
    recordings = list(queryset.select_related("ticket", "call", "line", "account"))
    return delete_recordings(
        model_admin, request, recordings,
        back_url=reverse("admin:recordings_recording_changelist"),
        via="from the recordings list",
    )


def delete_recording_view(model_admin: admin.ModelAdmin, request: HttpRequest, recording_id: int) -> HttpResponse:
    """One recording, from its ticket's page: confirm, then delete and go back to the ticket."""
    recording = Recording.objects.select_related("ticket", "call", "line", "account").filter(pk=recording_id).first()
    if recording is None:
        model_admin.message_user(request, "That recording no longer exists.", messages.WARNING)
        return HttpResponseRedirect(reverse("admin:recordings_recording_changelist"))
    back = (
        reverse("admin:recordings_ticket_change", args=[recording.ticket_id])
        if recording.ticket_id
        else reverse("admin:recordings_recording_changelist")
    )
    where = f"ticket #{recording.ticket_id}'s page" if recording.ticket_id else "the recording's page"
    page = delete_recordings(model_admin, request, [recording], back_url=back, via=f"from {where}")
    return page if page is not None else HttpResponseRedirect(back)


# --------------------------------------------------------------------------------------------------
# Deleting tickets (soft deletion, purged 7 days later)


def soft_delete_tickets_action(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
    tickets = list(queryset.filter(deleted_at__isnull=True).select_related("account"))
    recordings = services.recordings_per_ticket(ticket.pk for ticket in tickets)
    held = set(Ticket.objects.filter(pk__in=[ticket.pk for ticket in tickets]).held().values_list("pk", flat=True))
    going = [ticket for ticket in tickets if ticket.pk not in held]
    purge_on = timezone.now() + TICKET_PURGE_AFTER
    confirmation = _confirmation(
        title="Delete tickets?",
        happens=[
            f"Delete {_plural(len(going), 'ticket')}: restorable for 7 days, then the purge deletes "
            f"{'it' if len(going) == 1 else 'them'} for good on {_day(purge_on)} with "
            f"{_plural(sum(recordings.get(ticket.pk, 0) for ticket in going), 'recording')}."
            + (f" {_plural(len(held), 'ticket')} under a legal hold will not be deleted." if held else "")
        ],
        count=len(going),
        cannot_be_undone=(
            "Restorable for 7 days; after that the deletion cannot be undone: the tickets and their recordings are "
            "deleted permanently, here and at the telephony provider."
        ),
        button="Yes, delete",
        back_url=reverse("admin:recordings_ticket_changelist"),
        columns=["Account", "Recordings", "Legal hold"],
        rows=[
            Row(ticket, [str(ticket.account), recordings.get(ticket.pk, 0),
                         "held — will not be deleted" if ticket.pk in held else "none"])
            for ticket in tickets
        ],
    )
    form = confirmation.form(request)
    if form.is_valid():
        done = 0
        for ticket in tickets:
            try:
                done += services.ticket_soft_delete(ticket_id=ticket.pk, user=request.user, reason=form.cleaned_data["reason"])
            except services.TicketHeld as held_ticket:
                model_admin.message_user(request, str(held_ticket), messages.ERROR)
        model_admin.message_user(request, f"{done} ticket(s) deleted; they can be restored for 7 days.", messages.SUCCESS)
        return None
    return confirmation_page(model_admin, request, confirmation, form)


# --------------------------------------------------------------------------------------------------
# Releasing legal holds


def _release_impact_lines(impact: services.PurgeImpact) -> list[str]:
    lines = [
        f"The purge will then delete {_plural(impact.recordings, 'held recording')} due now (past the line's "
        f"window, or on a ticket deleted 7 or more days ago)"
        + (f" (the oldest created {_when(impact.oldest)})" if impact.recordings else "")
        + f", {_next_run(impact)}.",
        f"It will delete {_plural(impact.tickets, 'ticket')} soft-deleted 7 or more days ago, at the same run.",
    ]
    if impact.tickets_later:
        lines.append(
            f"{_plural(impact.tickets_later, 'other ticket')} soft-deleted meanwhile will be deleted when "
            f"{'its' if impact.tickets_later == 1 else 'their'} 7 days are up, the first on {_when(impact.tickets_later_first)}."
        )
    return lines


def release_holds(
    model_admin: admin.ModelAdmin, request: HttpRequest, holds: list[LegalHold], *, back_url: str
) -> HttpResponse | None:
    """Confirm, then release the active ``holds``. Returns the page, or None once done."""
    active = [hold for hold in holds if hold.released_at is None]
    confirmation = _confirmation(
        title="Release legal holds?",
        happens=[
            f"Release {_plural(len(active), 'legal hold')}: what {'it covers' if len(active) == 1 else 'they cover'} "
            "can then be deleted by every path again (the purge, by hand, an erasure)."
        ],
        count=len(active),
        cannot_be_undone=(
            "A release cannot be undone: a new hold can be placed, but not on what the purge has deleted meanwhile, "
            "which is gone for good, here and at the telephony provider."
        ),
        button="Yes, release",
        back_url=back_url,
        impact=_release_impact_lines(services.release_impact(hold_ids=[hold.pk for hold in active], now=timezone.now())),
        columns=["Placed by", "Placed"],
        rows=[
            Row(hold, [hold.placed_by_name or "unknown",
                       _when(hold.placed_at) + ("" if hold.released_at is None else " (already released)")])
            for hold in holds
        ],
    )
    form = confirmation.form(request)
    if form.is_valid():
        done = sum(
            services.legal_hold_release(hold_id=hold.pk, user=request.user, reason=form.cleaned_data["reason"])
            for hold in active
        )
        model_admin.message_user(request, f"{done} hold(s) released.", messages.SUCCESS)
        return None
    return confirmation_page(model_admin, request, confirmation, form)


def release_holds_action(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
    holds = list(queryset.select_related("account"))
    return release_holds(model_admin, request, holds, back_url=reverse("admin:recordings_legalhold_changelist"))


def release_hold_view(model_admin: admin.ModelAdmin, request: HttpRequest, hold_id: int) -> HttpResponse:
    """One hold, from its page: confirm, then release it and go back to it."""
    hold = LegalHold.objects.select_related("account").filter(pk=hold_id).first()
    if hold is None:
        model_admin.message_user(request, "That hold does not exist.", messages.WARNING)
        return HttpResponseRedirect(reverse("admin:recordings_legalhold_changelist"))
    back = reverse("admin:recordings_legalhold_change", args=[hold.pk])
    page = release_holds(model_admin, request, [hold], back_url=back)
    return page if page is not None else HttpResponseRedirect(back)


# --------------------------------------------------------------------------------------------------
# Changing a line's auto-delete window


def _window_label(days: int | None) -> str:
    return "never" if days is None else _plural(days, "day")


def line_window_change(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse | str | None:
    """For a change form's POST of a line: the confirmation page when the auto-delete window changes and the
    POST is not yet confirmed (or lacks its reason); the reason once it is; None for any other change (the form
    is saved as usual, or shows its own errors)."""
    line = PhoneLine.objects.filter(pk=object_id).first()
    if line is None:
        return None
    form = model_admin.get_form(request, line, change=True)(request.POST, request.FILES, instance=PhoneLine.objects.get(pk=line.pk))
    if not form.is_valid() or "auto_delete_days" not in form.changed_data:
        return None
    new = form.cleaned_data["auto_delete_days"]
    impact = services.window_change_impact(windows={line.pk: new}, now=timezone.now())
    shorter = new is not None and (line.auto_delete_days is None or new < line.auto_delete_days)
    impact_lines = [
        f"The purge will delete {_plural(impact.recordings, 'recording')} of this line because of this change"
        + (f" (the oldest created {_when(impact.oldest)})" if impact.recordings else "")
        + f", {_next_run(impact)}.",
    ]
    if new is not None:
        impact_lines.append(f"From then on it deletes each recording of the line {_window_label(new)} after it was made.")
    else:
        impact_lines.append("From then on the purge keeps the line's recordings (only their ticket's deletion removes them).")
    # The change form's own fields are carried back by the page, so its POST saves the same change.
    confirmation = _confirmation(
        title="Change the line's auto-delete window?",
        happens=[f"Change the auto-delete window of {line} from {_window_label(line.auto_delete_days)} to {_window_label(new)}."],
        count=1,
        cannot_be_undone=(
            "What the purge deletes cannot be undone: the recordings are gone for good, here and at the telephony "
            "provider, and setting the window back does not bring them back." if shorter else
            "Nothing is deleted because of this change, and it can be changed back; what the purge deletes later "
            "under the new window cannot be undone."
        ),
        button="Yes, change the window",
        back_url=reverse("admin:recordings_phoneline_change", args=[line.pk]),
        impact=impact_lines,
    )
    confirm = confirmation.form(request)
    if confirm.is_valid():
        return confirm.cleaned_data["reason"]
    return confirmation_page(model_admin, request, confirmation, confirm)
