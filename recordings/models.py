"""The telephony product's records: lines, tickets, calls, recordings, monitoring, texts, analytics, holds.

Deleting a recording never goes through ``Model.delete()``: every path (admin, API, purge, erasure) goes
through :mod:`recordings.services`, which writes the audit entry and the provider deletion with it.
The audit log of deleted recordings *is* the recordings' history: each deletion writes one ``-`` row in
``HistoricalRecording`` carrying who (``history_username``, kept as text), from where
(``history_origin``), when (``history_date``), the ticket (``ticket_id``) and why (``deletion_reason``,
``deletion_detail``). :class:`RecordingDeletion` is that log seen from the admin.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from core.history import AuditedHistory, AuditFields
from dsar.models import Person, e164_validator
from residency.models import Account

# The auto-delete presets the telephony product offers per line (days); "never" is stored as NULL.
AUTO_DELETE_PRESETS: tuple[int, ...] = (1, 7, 14, 30, 60, 90, 180, 365)

# The telephony guide: a deleted ticket is deleted permanently, with its recordings, 7 days later.
TICKET_PURGE_AFTER = timedelta(days=7)


class DeletionReason(models.TextChoices):
    MANUAL = "manual", "Deleted by hand"
    AUTO_DELETE = "auto_delete", "Line auto-delete window"
    TICKET_DELETED = "ticket_deleted", "Ticket deleted"
    ERASURE = "erasure", "Data subject erasure"


class DeletionAuditFields(models.Model):
    """Why a recording was deleted; filled only on the ``-`` history row its deletion writes."""

    deletion_reason = models.CharField(max_length=20, choices=DeletionReason.choices, blank=True, default="")
    deletion_detail = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        abstract = True


class PhoneLineQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> PhoneLineQuerySet:
        return self.filter(account=account)

    def ids_by_window(self) -> dict[int, list[int]]:
        """Ids of the lines with an auto-delete window, by its days (lines that keep their recordings: left out)."""
        lines: dict[int, list[int]] = defaultdict(list)
        for pk, days in self.filter(auto_delete_days__isnull=False).order_by("pk").values_list("pk", "auto_delete_days"):
            lines[days].append(pk)
        return dict(lines)


class PhoneLine(models.Model):
    AUTO_DELETE_CHOICES = [(None, "Never")] + [(days, f"After {days} day{'s' if days > 1 else ''}") for days in AUTO_DELETE_PRESETS]

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="phone_lines")
    number = models.CharField(max_length=16, validators=[e164_validator], help_text="E.164, e.g. +46701234567.")
    name = models.CharField(max_length=200)
    auto_delete_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=AUTO_DELETE_CHOICES,
        help_text="Call recordings and voicemails older than this are deleted by the purge; empty: never.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    history = AuditedHistory()

    objects = PhoneLineQuerySet.as_manager()

    class Meta:
        ordering = ["account__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="phone_line_unique_number"),
            models.CheckConstraint(
                condition=Q(auto_delete_days__isnull=True) | Q(auto_delete_days__in=AUTO_DELETE_PRESETS),
                name="phone_line_auto_delete_preset",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"

    @property
    def auto_delete_label(self) -> str:
        """``never`` or ``N days``, as the audit log names the window."""
        return "never" if self.auto_delete_days is None else f"{self.auto_delete_days} days"


class TicketQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> TicketQuerySet:
        return self.filter(account=account)

    def live(self) -> TicketQuerySet:
        return self.filter(deleted_at__isnull=True)

    def soft_deleted(self) -> TicketQuerySet:
        return self.filter(deleted_at__isnull=False)

    def due_for_purge(self, now: datetime) -> TicketQuerySet:
        """Tickets soft-deleted at least 7 days before ``now`` (held ones included; see ``not_held``)."""
        return self.filter(deleted_at__lte=now - TICKET_PURGE_AFTER)

    def held(self, released: Iterable[int] = ()) -> TicketQuerySet:
        """Under an active hold; ``released``: hold ids read as released (what a release would leave held)."""
        return self.filter(_ticket_hold_q(released))

    def not_held(self, released: Iterable[int] = ()) -> TicketQuerySet:
        return self.exclude(_ticket_hold_q(released))


class Ticket(models.Model):
    """A telephony ticket: who asked (the requester), what they said (subject and description), for which account.

    Under a legal hold (on the ticket, its requester or its account) ``HELD_FIELDS`` stay as they are, by every
    path (:func:`recordings.holds.hold_check_change`): the account and the requester because a hold reaches the
    ticket through them (moving the ticket to another account, or blanking its requester, takes it out from
    under an account or person hold, and the purge then deletes it), the subject and description because they
    are what was said, the evidence itself, and the creation time because it dates it. The status stays
    editable: working a ticket to its end changes nothing it says, and its history keeps each step.
    """

    HELD_FIELDS: tuple[str, ...] = ("account", "requester", "subject", "description", "created_at")

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="telephony_tickets")
    requester = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="telephony_tickets")
    subject = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Soft deletion: purged for good 7 days later.")
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_constraint=False
    )
    # Kept as text so the audit entries of the ticket's recordings still name the admin after their login is gone.
    deleted_by_name = models.CharField(max_length=150, blank=True, default="")
    history = AuditedHistory()

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["deleted_at"]), models.Index(fields=["created_at", "id"], name="ticket_newest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True, deleted_by_name="") | Q(deleted_at__isnull=False),
                name="ticket_deleted_by_only_when_deleted",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class CallQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> CallQuerySet:
        return self.filter(account=account)

    def in_progress(self) -> CallQuerySet:
        return self.filter(ended__isnull=True)

    def started_between(self, start: datetime, end: datetime) -> CallQuerySet:
        """Calls started in ``[start, end)``."""
        return self.filter(started__gte=start, started__lt=end)

    def held(self) -> CallQuerySet:
        return self.filter(_call_hold_q())

    def involving(self, *, person_id: int, phones: Iterable[str] = ()) -> CallQuerySet:
        """Calls the person took part in: as end user or agent, or from or to one of their numbers."""
        phones = [phone for phone in phones if phone]
        q = Q(end_user_id=person_id) | Q(agent_id=person_id)
        if phones:
            q |= Q(from_number__in=phones) | Q(to_number__in=phones)
        return self.filter(q)


class Call(models.Model):
    """One row of the call history.

    Every field is evidence of the call (who, on which line, which ticket, from and to which number, when), so
    none is edited through the product: the console shows calls read-only, the API has no write. Only the
    erasure changes a call (it unlinks a person and blanks their number) and it leaves alone the calls a hold
    keeps (:class:`recordings.sources.Frozen`); the purge unlinks a call from a ticket it deletes, and it
    deletes no held ticket.
    """

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="calls")
    line = models.ForeignKey(PhoneLine, on_delete=models.PROTECT, related_name="calls")
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls")
    end_user = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    agent = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    from_number = models.CharField(max_length=16, blank=True)
    to_number = models.CharField(max_length=16, blank=True)
    started = models.DateTimeField()
    ended = models.DateTimeField(null=True, blank=True, help_text="Empty while the call is live.")
    duration_seconds = models.PositiveIntegerField(default=0)
    ivr_external = models.BooleanField(default=False, help_text="An IVR option routed the call to an external number.")
    transferred_external = models.BooleanField(default=False, help_text="The call was transferred to an external number.")
    history = AuditedHistory()

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-started", "-pk"]
        # The second serves the newest-first lists (console, API) of the whole table, read backwards.
        indexes = [models.Index(fields=["account", "started"]), models.Index(fields=["started", "id"], name="call_newest")]
        constraints = [
            models.CheckConstraint(condition=Q(ended__isnull=True) | Q(ended__gte=models.F("started")), name="call_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"call {self.pk} {self.from_number} → {self.to_number}"


def _hold_exists(released: Iterable[int] = (), **filters: object) -> Exists:
    """An active hold matching ``filters``; ``released`` names holds to read as released already (what a release
    would leave held, for its confirmation page)."""
    holds = LegalHold.objects.active().filter(**filters)
    if released:
        holds = holds.exclude(pk__in=list(released))
    return Exists(holds)


def _ticket_hold_q(released: Iterable[int] = ()) -> Q:
    hold = partial(_hold_exists, released)
    return Q(hold(scope=LegalHold.Scope.ACCOUNT, account_id=OuterRef("account_id"))) | Q(
        hold(scope=LegalHold.Scope.TICKET, ticket_id=OuterRef("pk"))
    ) | Q(hold(scope=LegalHold.Scope.PERSON, person_id=OuterRef("requester_id")))


def _call_hold_q() -> Q:
    """A call is held by a hold on its account, its ticket, the ticket's requester, or its caller or agent."""
    return (
        Q(_hold_exists(scope=LegalHold.Scope.ACCOUNT, account_id=OuterRef("account_id")))
        | Q(_hold_exists(scope=LegalHold.Scope.TICKET, ticket_id=OuterRef("ticket_id")))
        | Q(_hold_exists(scope=LegalHold.Scope.PERSON, person_id=OuterRef("ticket__requester_id")))
        | Q(_hold_exists(scope=LegalHold.Scope.PERSON, person_id=OuterRef("end_user_id")))
        | Q(_hold_exists(scope=LegalHold.Scope.PERSON, person_id=OuterRef("agent_id")))
    )


def _recording_hold_q(released: Iterable[int] = ()) -> Q:
    """A recording is held by a hold on its account, its ticket, the ticket's requester or a caller/agent."""
    hold = partial(_hold_exists, released)
    return (
        Q(hold(scope=LegalHold.Scope.ACCOUNT, account_id=OuterRef("account_id")))
        | Q(hold(scope=LegalHold.Scope.TICKET, ticket_id=OuterRef("ticket_id")))
        | Q(hold(scope=LegalHold.Scope.PERSON, person_id=OuterRef("ticket__requester_id")))
        | Q(hold(scope=LegalHold.Scope.PERSON, person_id=OuterRef("call__end_user_id")))
        | Q(hold(scope=LegalHold.Scope.PERSON, person_id=OuterRef("call__agent_id")))
    )


def _past_window_q(now: datetime, windows: dict[int, int | None] | None = None) -> Q:
    """Older than the line's auto-delete window. One OR branch per preset keeps the query portable (no date
    arithmetic in SQL) and lets each branch use the (line, created_at) index. ``windows`` (line id → days, None:
    never) reads those lines as if their window were already that: what a change of window would select."""
    windows = windows or {}
    q = Q(pk__in=[])
    for days in AUTO_DELETE_PRESETS:
        q |= Q(line__auto_delete_days=days, created_at__lte=now - timedelta(days=days))
    if windows:
        q &= ~Q(line_id__in=list(windows))
    for line_id, days in windows.items():
        if days is not None:
            q |= Q(line_id=line_id, created_at__lte=now - timedelta(days=days))
    return q


class RecordingQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> RecordingQuerySet:
        return self.filter(account=account)

    def past_auto_delete_window(self, now: datetime) -> RecordingQuerySet:
        """Recordings older than their line's auto-delete window (lines set to never: none)."""
        return self.filter(_past_window_q(now))

    def of_purged_tickets(self, now: datetime) -> RecordingQuerySet:
        """Recordings on tickets soft-deleted at least 7 days before ``now``."""
        return self.filter(ticket__deleted_at__lte=now - TICKET_PURGE_AFTER)

    def due_for_purge(self, now: datetime, windows: dict[int, int | None] | None = None) -> RecordingQuerySet:
        """Everything the purge deletes at ``now``, held or not (combine with ``not_held``/``held``); with
        ``windows`` (line id → days or None), as if those lines had those windows (a change's confirmation page).

        One condition on the row and its line and ticket, no subquery over the table: read in primary-key
        order from where the last batch stopped, each batch costs the same however large the table."""
        return self.filter(_past_window_q(now, windows) | Q(ticket__deleted_at__lte=now - TICKET_PURGE_AFTER))

    def purged_within(self, now: datetime, days: int) -> RecordingQuerySet:
        """What the purge will delete from ``now`` to ``days`` days after it, if nothing changes: due by then and not
        held (a hold placed or released meanwhile changes it). The rows of ``due_for_purge(…).not_held()``, asked
        for a page rather than a deletion: the lines' windows and the holds are read first (two small queries), so
        that the table is read through its (line, created_at) index and its own columns, with no join and no
        subquery per row (see ``not_held_by``)."""
        at = now + timedelta(days=days)
        past_window = Q(pk__in=[])
        for window, lines in PhoneLine.objects.ids_by_window().items():
            past_window |= Q(line_id__in=lines, created_at__lte=at - timedelta(days=window))
        on_purged_tickets = Q(ticket_id__in=Ticket.objects.due_for_purge(at).values("pk"))
        return self.filter(past_window | on_purged_tickets).not_held_by(LegalHold.objects.active().targets())

    def held(self, released: Iterable[int] = ()) -> RecordingQuerySet:
        """Under an active hold; ``released``: hold ids read as released (what a release would leave held)."""
        return self.filter(_recording_hold_q(released))

    def not_held(self, released: Iterable[int] = ()) -> RecordingQuerySet:
        return self.exclude(_recording_hold_q(released))

    def not_held_by(self, held: HeldTargets) -> RecordingQuerySet:
        """Not covered by the holds ``held`` (read beforehand with ``LegalHold.objects.active().targets()``): the
        rows of ``not_held()`` while those holds stay as read, by the same rule (``_recording_hold_q``). Holds are
        few, so their ids go into the query as they are, and the calls and tickets of held people as subqueries
        only when some person is held. A deletion filtered this way must make sure no hold was placed before it
        commits (the purge: :class:`recordings.holds.HoldsAsRead`); the others use ``not_held()``."""
        covered = Q()
        if held.accounts:
            covered |= Q(account_id__in=sorted(held.accounts))
        if held.tickets:
            covered |= Q(ticket_id__in=sorted(held.tickets))
        if held.people:
            people = sorted(held.people)
            covered |= Q(ticket_id__in=Ticket.objects.filter(requester_id__in=people).values("pk"))
            covered |= Q(call_id__in=Call.objects.filter(Q(end_user_id__in=people) | Q(agent_id__in=people)).values("pk"))
        return self.exclude(covered) if covered else self

    def with_auto_delete_at(self) -> RecordingQuerySet:
        """Annotate ``auto_delete_at``: when the recording passes its line's window (None: the line keeps them),
        the moment the purge's ``past_auto_delete_window`` starts selecting it. One branch per preset, as there."""
        return self.annotate(
            auto_delete_at=Case(
                *(When(line__auto_delete_days=days, then=F("created_at") + Value(timedelta(days=days)))
                  for days in AUTO_DELETE_PRESETS),
                default=None,
                output_field=models.DateTimeField(),
            )
        )

    def with_first_hold(self) -> RecordingQuerySet:
        """Annotate ``first_hold_id``: the oldest active hold covering the recording (None: not held), read in the
        page's own query."""
        return self.annotate(first_hold_id=Subquery(LegalHold.objects.active().covering_outer_recording().order_by("pk").values("pk")[:1]))

    def of_person(self, *, person_id: int, phones: Iterable[str] = ()) -> RecordingQuerySet:
        """Recordings of calls the person took part in, and on tickets they requested."""
        return self.filter(
            Q(call__in=Call.objects.involving(person_id=person_id, phones=phones).values("pk"))
            | Q(ticket__requester_id=person_id)
        )


class Recording(models.Model):
    """A call recording or voicemail, stored at the telephony provider under ``provider_sid``.

    A recording is evidence whole (the audio at the provider, its call, line, ticket and date): it is viewed or
    deleted, never edited (no change form, no API write). A held one is deleted by no path: every deletion
    claims its rows with ``not_held()`` (:mod:`recordings.deletion`).
    """

    class Kind(models.TextChoices):
        CALL = "call", "Call recording"
        VOICEMAIL = "voicemail", "Voicemail"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="recordings")
    line = models.ForeignKey(PhoneLine, on_delete=models.PROTECT, related_name="recordings")
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="recordings")
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, null=True, blank=True, related_name="recordings")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CALL)
    provider_sid = models.CharField(max_length=64, unique=True, help_text="The recording's id at the provider (RE…).")
    duration_seconds = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    history = AuditedHistory(bases=[AuditFields, DeletionAuditFields])

    objects = RecordingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["created_at", "id"], name="recording_newest"),
            models.Index(fields=["line", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.provider_sid}"


HistoricalRecording = Recording.history.model


class RecordingDeletionQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> RecordingDeletionQuerySet:
        return self.filter(account_id=account.pk)


class RecordingDeletionManager(models.Manager.from_queryset(RecordingDeletionQuerySet)):  # type: ignore[misc]
    def get_queryset(self) -> RecordingDeletionQuerySet:
        return super().get_queryset().filter(history_type="-")


class RecordingDeletion(HistoricalRecording):  # type: ignore[misc, valid-type]
    """The audit log of deleted recordings: the ``-`` rows of the recordings' history."""

    objects = RecordingDeletionManager()

    class Meta:
        proxy = True
        ordering = ["-history_date", "-history_id"]
        verbose_name = "recording deletion (audit log)"
        verbose_name_plural = "recording deletions (audit log)"

    def __str__(self) -> str:
        return f"{self.provider_sid} deleted {self.history_date:%Y-%m-%d %H:%M}"


class MonitoringEntry(models.Model):
    """One row of the monitoring history: a supervisor listening to, whispering in or barging into a call."""

    class Mode(models.TextChoices):
        LISTEN = "listen", "Listen"
        WHISPER = "whisper", "Whisper"
        BARGE = "barge", "Barge"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="monitoring_entries")
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="monitoring")
    supervisor = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The monitored caller's number, as the monitoring-history CSV shows it.
    caller_number = models.CharField(max_length=16, blank=True)
    mode = models.CharField(max_length=10, choices=Mode.choices)
    started = models.DateTimeField()
    ended = models.DateTimeField(null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["-started", "-pk"]
        verbose_name_plural = "monitoring history"
        indexes = [models.Index(fields=["account", "started"]), models.Index(fields=["started", "id"], name="monitoring_newest")]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} on call {self.call_id}"


class TextMessage(models.Model):
    """One row of the text history."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="text_messages")
    line = models.ForeignKey(PhoneLine, on_delete=models.PROTECT, related_name="text_messages")
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.INBOUND)
    from_number = models.CharField(max_length=16, blank=True)
    to_number = models.CharField(max_length=16, blank=True)
    body = models.TextField(blank=True)
    sent_at = models.DateTimeField()
    history = AuditedHistory()

    class Meta:
        ordering = ["-sent_at", "-pk"]
        verbose_name_plural = "text history"
        indexes = [models.Index(fields=["account", "sent_at"]), models.Index(fields=["sent_at", "id"], name="text_newest")]

    def __str__(self) -> str:
        return f"text {self.pk} {self.from_number} → {self.to_number}"


class AnalyticsRow(models.Model):
    """The per-call facts reporting uses, with the caller's number."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="call_analytics")
    call = models.ForeignKey(Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="analytics")
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    phone_number = models.CharField(max_length=16, blank=True)
    started = models.DateTimeField()
    wait_seconds = models.PositiveIntegerField(default=0)
    talk_seconds = models.PositiveIntegerField(default=0)
    ivr_external = models.BooleanField(default=False)
    transferred_external = models.BooleanField(default=False)
    history = AuditedHistory()

    class Meta:
        ordering = ["-started", "-pk"]
        verbose_name = "analytics row"
        indexes = [models.Index(fields=["account", "started"]), models.Index(fields=["started", "id"], name="analytics_newest")]

    def __str__(self) -> str:
        return f"analytics {self.pk}"


@dataclass(frozen=True)
class HeldTargets:
    """What a set of holds covers: the ids of the accounts, tickets and people held."""

    accounts: frozenset[int] = frozenset()
    tickets: frozenset[int] = frozenset()
    people: frozenset[int] = frozenset()


class LegalHoldQuerySet(models.QuerySet):
    def active(self) -> LegalHoldQuerySet:
        return self.filter(released_at__isnull=True)

    def targets(self) -> HeldTargets:
        """The accounts, tickets and people these holds cover, in one query (a released hold whose ticket or person
        is gone names nothing)."""
        found: dict[str, set[int]] = {scope: set() for scope in LegalHold.Scope.values}
        for scope, account_id, ticket_id, person_id in self.values_list("scope", "account_id", "ticket_id", "person_id"):
            target = {LegalHold.Scope.ACCOUNT: account_id, LegalHold.Scope.TICKET: ticket_id}.get(scope, person_id)
            if target is not None:
                found[scope].add(target)
        return HeldTargets(
            accounts=frozenset(found[LegalHold.Scope.ACCOUNT]),
            tickets=frozenset(found[LegalHold.Scope.TICKET]),
            people=frozenset(found[LegalHold.Scope.PERSON]),
        )

    def for_account(self, account: Account) -> LegalHoldQuerySet:
        return self.filter(account=account)

    def covering_ticket(self, ticket: Ticket) -> LegalHoldQuerySet:
        """Holds on the ticket's account, the ticket itself, or its requester."""
        q = Q(scope=LegalHold.Scope.ACCOUNT, account_id=ticket.account_id) | Q(
            scope=LegalHold.Scope.TICKET, ticket_id=ticket.pk
        )
        if ticket.requester_id:
            q |= Q(scope=LegalHold.Scope.PERSON, person_id=ticket.requester_id)
        return self.filter(q)

    def covering_people(self, *, person_ids: Iterable[int], account_ids: Iterable[int]) -> LegalHoldQuerySet:
        """Holds that freeze these people: a hold on one of them, on a ticket one of them requested, or on one of
        these accounts (a whole-account hold covers its people). Callers match each hold to its person."""
        person_ids, account_ids = sorted(set(person_ids)), sorted(set(account_ids))
        return self.filter(
            Q(scope=LegalHold.Scope.PERSON, person_id__in=person_ids)
            | Q(scope=LegalHold.Scope.ACCOUNT, account_id__in=account_ids)
            | Q(scope=LegalHold.Scope.TICKET, ticket__requester_id__in=person_ids)
        )

    def covering_outer_recording(self) -> LegalHoldQuerySet:
        """Holds covering the recording of the outer query (``OuterRef``), by the rule ``_recording_hold_q`` applies:
        its account, its ticket, the ticket's requester, or its call's caller or agent."""
        return self.filter(
            Q(scope=LegalHold.Scope.ACCOUNT, account_id=OuterRef("account_id"))
            | Q(scope=LegalHold.Scope.TICKET, ticket_id=OuterRef("ticket_id"))
            | Q(scope=LegalHold.Scope.PERSON, person_id=OuterRef("ticket__requester_id"))
            | Q(scope=LegalHold.Scope.PERSON, person_id=OuterRef("call__end_user_id"))
            | Q(scope=LegalHold.Scope.PERSON, person_id=OuterRef("call__agent_id"))
        )

    def covering_recording(self, recording: Recording) -> LegalHoldQuerySet:
        """Holds on the recording's account, its ticket, the ticket's requester, or the call's caller or agent."""
        people = {recording.call.end_user_id, recording.call.agent_id}
        if recording.ticket_id:
            people.add(recording.ticket.requester_id)
        people.discard(None)
        q = Q(scope=LegalHold.Scope.ACCOUNT, account_id=recording.account_id) | Q(
            scope=LegalHold.Scope.PERSON, person_id__in=people
        )
        if recording.ticket_id:
            q |= Q(scope=LegalHold.Scope.TICKET, ticket_id=recording.ticket_id)
        return self.filter(q)


class LegalHold(models.Model):
    """Stops every deletion path for what it covers (an account, a ticket or a person) until released."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", "Whole account"
        TICKET = "ticket", "One ticket"
        PERSON = "person", "One person"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="legal_holds")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="legal_holds")
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=300)
    placed_at = models.DateTimeField(default=timezone.now)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_constraint=False
    )
    placed_by_name = models.CharField(max_length=150, blank=True, default="")
    released_at = models.DateTimeField(null=True, blank=True)
    released_by_name = models.CharField(max_length=150, blank=True, default="")
    history = AuditedHistory()

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-pk"]
        permissions = [("place_hold", "Can place legal holds"), ("release_hold", "Can release legal holds")]
        constraints = [
            # An active hold always names what it covers; a released one may outlive its ticket or person.
            models.CheckConstraint(
                condition=Q(released_at__isnull=False)
                | Q(scope="account", ticket__isnull=True, person__isnull=True)
                | Q(scope="ticket", ticket__isnull=False, person__isnull=True)
                | Q(scope="person", person__isnull=False, ticket__isnull=True),
                name="legal_hold_scope_matches_target",
            ),
        ]

    def __str__(self) -> str:
        return f"legal hold {self.pk} on {self.target_label} ({self.reason})"

    @property
    def target_label(self) -> str:
        """What the hold covers, e.g. ``ticket #12`` or ``account Acme``."""
        if self.scope == self.Scope.TICKET:
            return f"ticket #{self.ticket_id}"
        if self.scope == self.Scope.PERSON:
            return f"person {self.person_id}"
        return f"account {self.account}"


class ProviderDeletionQuerySet(models.QuerySet):
    def pending(self) -> ProviderDeletionQuerySet:
        return self.filter(done_at__isnull=True)

    def due(self, now: datetime) -> ProviderDeletionQuerySet:
        """Pending deletions whose next attempt is at or before ``now``."""
        return self.pending().filter(next_attempt_at__lte=now)


class ProviderDeletion(models.Model):
    """The outbox of deletions at the telephony provider, written in the transaction that deletes the recording."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    provider_sid = models.CharField(max_length=64, unique=True)
    recording_id = models.BigIntegerField(help_text="The deleted recording's id (the row itself is gone).")
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The provider's last HTTP status.")
    done_at = models.DateTimeField(null=True, blank=True)
    history = AuditedHistory()

    objects = ProviderDeletionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["done_at", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"provider deletion of {self.provider_sid}"

    @property
    def state(self) -> str:
        if self.done_at:
            return "done"
        return "retrying" if self.attempts else "pending"


class HistoryExport(models.Model):
    """A CSV export of an account's call or monitoring history, written in the background."""

    class Kind(models.TextChoices):
        CALL_HISTORY = "call_history", "Call history"
        MONITORING_HISTORY = "monitoring_history", "Monitoring history"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired (file removed)"
        CANCELLED = "cancelled", "Cancelled (its recipient was erased)"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="history_exports")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    start = models.DateField()
    end = models.DateField(help_text="Inclusive.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_constraint=False
    )
    requested_by_name = models.CharField(max_length=150, blank=True, default="")
    email = models.EmailField(help_text="Where the download link is sent.")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True, default="")
    error = models.TextField(blank=True, default="")
    history = AuditedHistory()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(start__lte=models.F("end")), name="history_export_start_before_end")]
        permissions = [("download_export", "Can download call- and monitoring-history exports")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start}…{self.end} for {self.account}"

    @staticmethod
    def read_permission(kind: str) -> str:
        """The permission that reads the history a ``kind`` of export holds: the same as its list's, in the console
        and the API (``recordings.view_call``, ``recordings.view_monitoringentry``)."""
        readers = {
            HistoryExport.Kind.CALL_HISTORY: "recordings.view_call",
            HistoryExport.Kind.MONITORING_HISTORY: "recordings.view_monitoringentry",
        }
        return readers[kind]
