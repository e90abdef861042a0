"""People whose data the platform holds, and the requests they make about it."""

from __future__ import annotations

import calendar
import datetime as dt
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.history import AuditedHistory
from dsar.deadlines import Deadline, on_working_day
from residency.models import Account

e164_validator = RegexValidator(r"^\+[1-9]\d{6,14}$", "Enter a phone number in E.164 form, e.g. +46701234567.")


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar months; a day the target month lacks becomes its last day.

    31 January + 1 month is 28 February (29 in a leap year), not 2 or 3 March: a "calendar month"
    in GDPR Art. 12(3) is counted by the calendar (Regulation 1182/71, Art. 3(2)(c)).
    """
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class PersonQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> PersonQuerySet:
        return self.filter(account=account)

    def marketable(self) -> PersonQuerySet:
        """People who may be used for marketing: everyone who has not objected."""
        return self.filter(objected_to_marketing_at__isnull=True)

    def matching(self, *, account: Account, email: str = "", phone: str = "") -> PersonQuerySet:
        """The account's people with this email (case-insensitive) or, failing an email, this phone."""
        if email:
            return self.filter(account=account, email__iexact=email)
        if phone:
            return self.filter(account=account, phone=phone)
        return self.none()


class Person(models.Model):
    """An end user or agent of a customer account.

    While a legal hold freezes the person (a hold on them, on a ticket they requested or on their whole account,
    learnt through the data sources: :mod:`dsar.people`), ``HELD_FIELDS`` stay as they are and the person is
    deleted by no path. Who they are (name, email, phone, their id in the support product, end user or agent)
    is what the held records are evidence of; the account is how an account hold reaches them, and moving them
    to another account would take them out from under it. Their objection to marketing stays theirs to make:
    it rewrites nothing a hold keeps.
    """

    HELD_FIELDS: tuple[str, ...] = ("account", "kind", "name", "email", "phone", "external_id")

    class Kind(models.TextChoices):
        END_USER = "end_user", "End user"
        AGENT = "agent", "Agent"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="people")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.END_USER)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(
        max_length=16, blank=True, validators=[e164_validator], help_text="E.164, e.g. +46701234567."
    )
    external_id = models.CharField(max_length=100, blank=True, help_text="The person's id in the support product.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by_intake = models.BooleanField(
        default=False, editable=False, help_text="Created when a request came in from someone not yet known."
    )
    objected_to_marketing_at = models.DateTimeField(null=True, blank=True)
    objection_request = models.ForeignKey(
        "dsar.Request",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The objection request that excluded the person from marketing.",
    )
    history = AuditedHistory()

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = "people"
        indexes = [models.Index(fields=["account", "email"]), models.Index(fields=["account", "phone"])]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"], condition=~Q(external_id=""), name="person_unique_external_id"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"person {self.pk}"


class Jurisdiction(models.Model):
    """A law that gives people rights over their data, and how long a controller has to answer.

    Seeded by a data migration and editable in the admin: a period is either whole calendar months or
    days, and so is its extension (zero: the law allows none).
    """

    class Unit(models.TextChoices):
        DAYS = "days", "Days"
        MONTHS = "months", "Calendar months"

    code = models.SlugField(max_length=32, unique=True, help_text="What the API sends, e.g. gdpr.")
    name = models.CharField(max_length=100)
    period = models.PositiveSmallIntegerField(help_text="Time to answer, counted from receipt.")
    period_unit = models.CharField(max_length=6, choices=Unit.choices)
    extension = models.PositiveSmallIntegerField(default=0, help_text="How much longer an extension gives; 0: none.")
    extension_unit = models.CharField(max_length=6, choices=Unit.choices, default=Unit.DAYS)
    note = models.TextField(blank=True, help_text="The legal source of the periods.")
    moves_to_working_day = models.BooleanField(
        default=False,
        help_text="A deadline falling on a Saturday, Sunday or public holiday of the account's country moves to "
        "the next working day (GDPR: Regulation 1182/71, Art. 3(4)).",
    )
    history = AuditedHistory()

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(period__gt=0), name="jurisdiction_period_positive")]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def _add(day: dt.date, amount: int, unit: str) -> dt.date:
        return add_months(day, amount) if unit == Jurisdiction.Unit.MONTHS else day + dt.timedelta(days=amount)

    def due_date(self, received: dt.date) -> dt.date:
        """The plain count: the period added to ``received`` (the day of receipt is day zero), before any
        move to a working day (see ``deadline``)."""
        return self._add(received, self.period, self.period_unit)

    def extended_due_date(self, received: dt.date) -> dt.date | None:
        """The plain count once the one extension the law allows is taken; None when it allows none.

        Counted from receipt as one period (one month + two months = three calendar months, so 31 January
        gives 30 April, not 28 February + 2 months = 28 April); mixed units add the extension to the first
        deadline.
        """
        if not self.extension:
            return None
        if self.extension_unit == self.period_unit:
            return self._add(received, self.period + self.extension, self.period_unit)
        return self._add(self.due_date(received), self.extension, self.extension_unit)

    def deadline(self, received: dt.date, *, country: str) -> Deadline:
        """The last day to answer a request received on ``received`` by an account in ``country`` (ISO 3166;
        "": none): the plain count, moved to the next working day there when this law says so, with why."""
        return self._working_day(self.due_date(received), country)

    def extended_deadline(self, received: dt.date, *, country: str) -> Deadline | None:
        """``deadline`` once the extension is taken, counted from receipt and moved the same way; None when
        the law allows no extension."""
        day = self.extended_due_date(received)
        return None if day is None else self._working_day(day, country)

    def deadline_for(self, account: Account, received_at: dt.datetime) -> Deadline:
        """``deadline`` for a request ``account`` received at ``received_at``: day zero is the day of receipt where
        the account works, not where the server runs, and the holidays are its country's."""
        return self.deadline(account.local_date(received_at), country=account.country_code())

    def _working_day(self, day: dt.date, country: str) -> Deadline:
        return on_working_day(day, country=country) if self.moves_to_working_day else Deadline(day=day)


#: The furthest ahead anyone asks what is due (ten years): a bound for user input, far inside date arithmetic.
MAX_DUE_WITHIN_DAYS = 3650


class RequestQuerySet(models.QuerySet):
    def for_account(self, account: Account | None) -> RequestQuerySet:
        """The account's requests; every request when ``account`` is None (staff)."""
        return self if account is None else self.filter(account=account)

    def open(self) -> RequestQuerySet:
        return self.exclude(status__in=Request.CLOSED)

    def overdue(self, today: dt.date) -> RequestQuerySet:
        """Open requests whose last day to answer is before ``today``."""
        return self.open().filter(due_at__lt=today)

    def siblings_of(self, request: Request, person_id: int | None = None) -> RequestQuerySet:
        """The other open requests of ``request``'s person (``person_id`` once the person row is gone), soonest due
        first; none for a request without a person."""
        person_id = person_id or request.person_id
        if person_id is None:
            return self.none()
        return self.open().filter(person_id=person_id).exclude(pk=request.pk).order_by("due_at", "pk")

    def with_duplicate_of(self) -> RequestQuerySet:
        """Each request with ``duplicate_of``: the earliest other open request of the same person and type made
        before it (a possible duplicate, for staff to check; nothing is linked), or None."""
        earlier = (
            Request.objects.open()
            .filter(person=models.OuterRef("person"), type=models.OuterRef("type"), pk__lt=models.OuterRef("pk"))
            .order_by("pk")
            .values("pk")[:1]
        )
        return self.annotate(duplicate_of=models.Subquery(earlier))

    def open_same_ask(self, *, person: Person, type: str, since: dt.datetime) -> RequestQuerySet:
        """The person's open requests of ``type`` received since ``since``, earliest first: what a new submission
        of theirs is a duplicate of (their account's, as the person is)."""
        return (
            self.open()
            .filter(account_id=person.account_id, person=person, type=type, received_at__gte=since)
            .order_by("received_at", "pk")
        )

    def due_within(self, today: dt.date, days: int) -> RequestQuerySet:
        """Open requests not yet overdue whose last day falls within ``days`` days of ``today`` (inclusive)."""
        return self.open().filter(due_at__gte=today, due_at__lte=today + dt.timedelta(days=days))

    def with_undeclared_hits(self) -> RequestQuerySet:
        """Waiting erasures whose last verification scan found the person's data where no source declared it kept."""
        return self.filter(type=Request.Type.ERASURE, status=Request.Status.WAITING, scan__undeclared__gt=0)

    def with_archive_unfinished(self) -> RequestQuerySet:
        """Requests with a portability archive still being built, or whose archive failed."""
        return self.filter(exports__status__in=[Export.Status.PENDING, Export.Status.FAILED]).distinct()


class Request(models.Model):
    """A data subject request: who asked, for what, under which law, by when, and what was done."""

    class Type(models.TextChoices):
        ACCESS = "access", "Access"
        RECTIFICATION = "rectification", "Rectification"
        ERASURE = "erasure", "Erasure"
        PORTABILITY = "portability", "Portability"
        OBJECTION = "objection", "Objection"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        VERIFYING = "verifying", "Verifying identity"
        IN_PROGRESS = "in_progress", "In progress"
        WAITING = "waiting", "Waiting"
        COMPLETED = "completed", "Completed"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn by the person"

    class DenialReason(models.TextChoices):
        """Why a request was refused: the Data Rights Protocol's reasons (v0.9, section 3.04), which staff,
        the privacy center and DRP agents all read; ``status_reason`` says the rest in words."""

        SUSPECTED_FRAUD = "suspected_fraud", "Suspected fraud"
        INSUF_VERIFICATION = "insuf_verification", "Identity could not be verified"
        NO_MATCH = "no_match", "No data found for the person"
        CLAIM_NOT_COVERED = "claim_not_covered", "The right claimed is not covered"
        OUTSIDE_JURISDICTION = "outside_jurisdiction", "Outside the law's jurisdiction"
        TOO_MANY_REQUESTS = "too_many_requests", "Too many requests"
        OTHER = "other", "Other"

    class Channel(models.TextChoices):
        API = "api", "API (integration)"
        EMAIL = "email", "Email"
        WEB_FORM = "web_form", "Privacy center"
        AGENT = "agent", "Authorized agent (privacy center)"
        DRP = "drp", "Data Rights Protocol"
        PHONE = "phone", "Phone"
        MAIL = "mail", "Post"
        ADMIN = "admin", "Entered by staff"

    class Language(models.TextChoices):
        """The languages the person's letters are written in (``LANGUAGES`` in settings, ``locale/``)."""

        ENGLISH = "en", "English"
        SWEDISH = "sv", "Swedish"
        FRENCH = "fr", "French"

    CLOSED = (Status.COMPLETED, Status.REJECTED, Status.WITHDRAWN)

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="dsar_requests")
    person = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
        help_text="Empty once the person is erased.",
    )
    type = models.CharField(max_length=16, choices=Type.choices)
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="requests")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.API)
    received_at = models.DateTimeField()
    due_at = models.DateField(help_text="The last day to answer (inclusive), extension included.")
    first_due_at = models.DateField(help_text="The deadline before any extension.")
    due_note = models.CharField(
        max_length=200, blank=True, help_text="Why the deadline is not the plain count (a weekend or a holiday)."
    )
    extended_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    extension_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person was told of the extension; empty: tell them another way."
    )
    language = models.CharField(
        max_length=8,
        choices=Language.choices,
        default=Language.ENGLISH,
        help_text="What the person is written to in: every email, the access report and the archive's README.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    status_reason = models.TextField(blank=True, help_text="Why the request waits or was rejected.")
    denial_reason = models.CharField(
        max_length=24, choices=DenialReason.choices, blank=True, help_text="Why the request was rejected (DRP's reasons)."
    )
    is_test = models.BooleanField(
        default=False, help_text="Filed by staff to try the workflow: left out of the yearly metrics."
    )
    grace_ends_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="An erasure is not executed before this moment: until then the person may withdraw it "
        "(the privacy center's erasure_grace_days).",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="dsar_requests"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_method = models.CharField(max_length=16, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The identifiers an erasure needs after the Person row is gone (sources, verification scan).
    # Personal data: kept out of history, and cleared when the request is completed.
    subject = models.JSONField(null=True, blank=True, editable=False)
    #: The name, email and phone the requester typed, as received (normalised): identifiers an erasure also
    #: looks for, and proof of who asked, removed by ``forget_requesters`` after the retention period.
    received_with = models.JSONField(null=True, blank=True, editable=False)
    certificate = models.JSONField(
        null=True, blank=True, editable=False, help_text="Proof of erasure, without personal data."
    )
    scan = models.JSONField(null=True, blank=True, editable=False, help_text="The last verification scan's result.")
    declarations = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="Scan hits staff declared retained: where, why, for how long, by whom and when.",
    )
    held = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="What an erasure left under someone else's legal hold (by hold), erased when the hold ends.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    history = AuditedHistory(excluded_fields=["subject", "received_with"])

    objects = RequestQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            # The API's pages (cursor on deadline then id), for staff and for one account's key.
            models.Index(fields=["due_at", "id"], name="dsar_request_due_id"),
            models.Index(fields=["account", "due_at", "id"], name="dsar_request_account_due_id"),
        ]
        # The dangerous operations, each its own permission (see core/roles.py).
        permissions = [
            ("verify_identity", "Can verify a requester's identity"),
            ("execute_erasure", "Can preview and execute erasures"),
            ("execute_request", "Can execute access, portability and objection requests"),
            ("download_export", "Can open access reports and download personal data"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_at__gte=models.F("first_due_at")), name="request_due_not_before_first"
            ),
            models.CheckConstraint(
                condition=Q(extended_at__isnull=True) | ~Q(extension_reason=""), name="request_extension_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(denial_reason=""), name="request_rejection_has_denial_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_type_display()}"

    @property
    def received_on(self) -> dt.date:
        """The day of receipt in the account's time zone: day zero of the deadline."""
        return self.account.local_date(self.received_at)

    def days_left(self, today: dt.date) -> int:
        """Days from ``today`` to the last day to answer: 0 on that day, negative once overdue."""
        return (self.due_at - today).days

    def is_overdue(self, today: dt.date) -> bool:
        return self.status not in self.CLOSED and self.days_left(today) < 0

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class RequestEvent(models.Model):
    """One line of a request's timeline. Never holds personal data, so it survives an erasure as proof."""

    class Kind(models.TextChoices):
        RECEIVED = "received", "Received"
        CODE_SENT = "code_sent", "Verification code sent"
        CODE_FAILED = "code_failed", "Verification code refused"
        CODE_HELD = "code_held", "Verification code not sent (hourly limit)"
        VERIFIED = "verified", "Identity verified"
        EXTENDED = "extended", "Deadline extended"
        PREVIEWED = "previewed", "Erasure previewed"
        BLOCKED = "blocked", "Blocked"
        STEP_DONE = "step_done", "Erasure step done"
        EXECUTED = "executed", "Executed"
        SCANNED = "scanned", "Verification scan"
        RECTIFIED = "rectified", "Data corrected"
        DATA_SENT = "data_sent", "Data sent to the person"
        REPORT = "report", "Access report produced"
        EXPORT = "export", "Export"
        OBJECTION = "objection", "Objection recorded"
        ASSIGNED = "assigned", "Assigned"
        COMPLETED = "completed", "Completed"
        REJECTED = "rejected", "Rejected"
        SUBMITTED = "submitted", "Submitted"
        DUPLICATE = "duplicate", "Duplicate submission linked"
        WITHDRAWN = "withdrawn", "Withdrawn"

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.CharField(max_length=150, blank=True, help_text="Who did it: a login, an API key, or 'system'.")
    message = models.TextField(blank=True)

    #: What an erasure or the requester retention may scrub in a timeline line (a note naming the person);
    #: the runtime database login scrubs nothing else here (core/database_logins.py).
    scrubbable_fields = ("message",)
    history = AuditedHistory()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class VerificationCode(models.Model):
    """A one-time code emailed to the person's address on record; only its keyed digest is stored."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Replaced by a newer code.")
    history = AuditedHistory(excluded_fields=["digest"])

    class Meta:
        ordering = ["-created_at", "-pk"]


class ErasureProgress(models.Model):
    """One source's finished step of one erasure: what makes an interrupted erasure resume where it stopped."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="erasure_progress")
    source = models.CharField(max_length=64)
    step = models.PositiveSmallIntegerField()
    counts = models.JSONField(default=dict, help_text="Records erased by data category.")
    finished_at = models.DateTimeField(default=timezone.now)
    history = AuditedHistory()

    class Meta:
        ordering = ["step", "finished_at", "pk"]
        verbose_name_plural = "erasure progress"
        constraints = [
            models.UniqueConstraint(fields=["request", "source", "step"], name="erasure_progress_once_per_step"),
            models.CheckConstraint(condition=Q(step__in=[1, 2, 3]), name="erasure_progress_known_step"),
        ]

    def __str__(self) -> str:
        return f"step {self.step} · {self.source}"


class Export(models.Model):
    """A portability archive: built in the background, downloadable through a signed link until it expires."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being built"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        DELETED = "deleted", "Deleted by erasure"

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="exports")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(max_length=200, blank=True, editable=False, help_text="Inside DSAR_EXPORT_ROOT.")
    size = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict, help_text="Records by data category.")
    error = models.TextField(blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.get_status_display()})"


class ExportDownload(models.Model):
    """One download of an export through its link (no address or agent is kept: that is personal data too)."""

    export = models.ForeignKey(Export, on_delete=models.CASCADE, related_name="downloads")
    at = models.DateTimeField(default=timezone.now)
    history = AuditedHistory()

    class Meta:
        ordering = ["-at"]


class PrivacyCenter(models.Model):
    """An account's privacy center: the page at ``/privacy/<slug>/`` where its people, and agents they
    authorize, file requests and follow them; and the account's rules for those requests."""

    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="privacy_center")
    slug = models.SlugField(max_length=64, unique=True, help_text="The page's address: /privacy/<slug>/.")
    is_open = models.BooleanField(default=True, help_text="Closed: the page says so and takes no request.")
    default_jurisdiction = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The law of a person who lives where none of the product's laws applies.",
    )
    erasure_grace_days = models.PositiveSmallIntegerField(
        default=0,
        help_text="Days a verified erasure waits before it may be executed, during which the person may withdraw "
        "it from their status page; 0: none.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    history = AuditedHistory()

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(condition=Q(erasure_grace_days__lte=90), name="privacy_center_grace_at_most_90"),
        ]

    def __str__(self) -> str:
        return f"/privacy/{self.slug}/"


class DrpAgent(models.Model):
    """An authorized agent that files requests machine to machine through the Data Rights Protocol, known by
    its DRP id and the Ed25519 key it signs with; the bearer token it is given is kept as a keyed digest."""

    agent_id = models.CharField(max_length=64, unique=True, help_text="The agent's id in the DRP directory.")
    name = models.CharField(max_length=200)
    verify_key = models.CharField(max_length=64, help_text="The agent's Ed25519 public key, base64.")
    token_digest = models.CharField(max_length=64, blank=True, editable=False)
    token_issued_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the agent last registered and got its bearer token."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    history = AuditedHistory(excluded_fields=["token_digest"])

    class Meta:
        ordering = ["name"]
        verbose_name = "DRP agent"

    def __str__(self) -> str:
        return self.name


class SubmissionQuerySet(models.QuerySet):
    def pending(self) -> SubmissionQuerySet:
        return self.filter(status=Submission.Status.PENDING)


class Submission(models.Model):
    """A request as filed from the privacy center (by the person or their authorized agent) or by a DRP agent,
    before and after the person proves they control its email or phone.

    Until then nothing is linked to a person and nothing is shown: the submission holds what was typed, the
    digests of its one-time link and code, and ``trail``, the attempts made on it. Verified, it opens a request
    (dated from the submission: the deadline runs from receipt) or, when the same identity has an open request
    of the same type from the last 365 days, is linked to that one. Unverified, it expires after
    ``DSAR_SUBMISSION_TTL_DAYS`` and its identifiers are cleared.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for verification"
        VERIFIED = "verified", "Verified: request opened"
        LINKED = "linked", "Verified: linked to an open request"
        EXPIRED = "expired", "Expired unverified"
        CANCELLED = "cancelled", "Cancelled before verification"

    class Via(models.TextChoices):
        PERSON = "person", "The person"
        AGENT = "agent", "An authorized agent"
        DRP = "drp", "A DRP agent"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="dsar_submissions")
    type = models.CharField(max_length=16, choices=Request.Type.choices)
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=8, choices=Request.Language.choices, default=Request.Language.ENGLISH)
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.PERSON)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # What was typed: personal data, kept out of history and cleared when the submission expires.
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=16, blank=True)
    details = models.TextField(blank=True, help_text="What the person wrote (e.g. what to correct).")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    link_digest = models.CharField(max_length=64, blank=True, editable=False)
    code_digest = models.CharField(max_length=64, blank=True, editable=False)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    status_digest = models.CharField(max_length=64, blank=True, editable=False)
    request = models.ForeignKey(
        Request, on_delete=models.SET_NULL, null=True, blank=True, related_name="submissions",
        help_text="The request it opened, or the open request it was linked to as a duplicate.",
    )
    agent_name = models.CharField(max_length=200, blank=True)
    agent_email = models.EmailField(blank=True)
    agent_proof = models.CharField(
        max_length=200, blank=True, editable=False, help_text="The signed authorization, inside DSAR_AGENT_PROOF_ROOT."
    )
    agent_proof_type = models.CharField(max_length=100, blank=True, editable=False)
    agent_proof_size = models.PositiveIntegerField(default=0, editable=False)
    drp_agent = models.ForeignKey(
        DrpAgent, on_delete=models.PROTECT, null=True, blank=True, related_name="submissions"
    )
    drp_regime = models.CharField(max_length=16, blank=True, help_text="The regime the DRP agent named.")
    drp_agent_request_id = models.CharField(
        max_length=100, blank=True, help_text="The DRP agent's own id for the request, given back in every status."
    )
    trail = models.JSONField(
        default=list, blank=True, editable=False,
        help_text="Every attempt before a request existed (at, kind, message), copied to its timeline.",
    )
    history = AuditedHistory(
        excluded_fields=["name", "email", "phone", "details", "link_digest", "code_digest", "status_digest", "trail"]
    )

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["verified", "linked"]) | Q(request__isnull=False),
                name="submission_verified_has_request",
            ),
            models.CheckConstraint(
                condition=~Q(via="agent") | (~Q(agent_name="") & ~Q(agent_proof="")),
                name="submission_agent_has_proof",
            ),
            models.CheckConstraint(
                condition=~Q(via="drp") | Q(drp_agent__isnull=False), name="submission_drp_has_agent"
            ),
        ]

    def __str__(self) -> str:
        return f"submission {self.public_id}"
