"""Erasure: preview, the three ordered steps across every data source, the verification scan and the
certificate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from core.audit import Action, Record, audit_append, audit_redact
from core.history import history_context
from dsar.letters import categories_of, category_named, day, region_name, send_letter, speaking_to, words
from dsar.lifecycle import request_complete
from dsar.matching import Matcher
from dsar.models import (
    ErasureProgress,
    Request,
    RequestEvent,
)
from dsar.scan import Declared, ScanResult, scan_for_subject
from dsar.sources import (
    DataSource,
    ErasureStep,
    Retention,
    Subject,
    catalog_category,
    registered_sources,
)
from dsar.words import counts_in_words
from dsar.workflow import (
    User,
    actor_label,
    add_event,
    raise_first,
    record_history,
    request_subject,
    require_verified,
    transition,
)
from residency.engine import account_residency_report
from residency.models import Account, Region

#: The identifiers a verification scan finds, as a letter names them ("your email address…").
IDENTIFIER_WORDS = {
    "email": gettext_lazy("email address"),
    "phone": gettext_lazy("phone number"),
    "name": gettext_lazy("name"),
}

#: The count a source reports for mail it cancelled because it was addressed to the person.
CANCELLED_MAIL = "history-exports-cancelled"

# --- erasure -------------------------------------------------------------------------------------


@dataclass
class SourcePreview:
    key: str
    label: str
    counts: dict[str, int]
    retained: list[dict[str, Any]]
    blockers: list[str]


@dataclass
class ErasurePreview:
    sources: list[SourcePreview] = field(default_factory=list)
    #: Copies of the account's data the erasure cannot reach (backups, log copies): see outliving_copies().
    outlives: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blockers(self) -> list[str]:
        return [blocker for source in self.sources for blocker in source.blockers]

    @property
    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for source in self.sources:
            for category, count in source.counts.items():
                totals[category] = totals.get(category, 0) + count
        return totals

    def as_dict(self) -> dict[str, Any]:
        return {
            "sources": [asdict(source) for source in self.sources],
            "totals": self.totals,
            "blockers": self.blockers,
            "outlives": self.outlives,
        }


def _retention_dict(source: DataSource, retention: Retention) -> dict[str, Any]:
    kept = {
        "source": source.key,
        "data_category": retention.data_category,
        "description": retention.description,
        "reason": retention.reason,
        "count": retention.count,
    }
    if retention.hold is not None:
        kept["hold"] = retention.hold
    return kept


def erasure_preview(*, subject: Subject) -> ErasurePreview:
    """What each source would erase (counts by category), what it keeps and why, and what blocks it now."""
    preview = ErasurePreview()
    for source in registered_sources():
        preview.sources.append(
            SourcePreview(
                key=source.key,
                label=source.label,
                counts=dict(source.locate(subject)),
                retained=[_retention_dict(source, retention) for retention in source.retained(subject)],
                blockers=list(source.blockers(subject)),
            )
        )
    return preview


def outliving_copies(
    *, account: Account, erased_on: dt.date, kept: list[tuple[DataSource, Retention]] = ()
) -> list[dict[str, Any]]:
    """The copies of the account's data that an erasure cannot reach, from the residency engine: backups in
    each region they are kept in (until they rotate: the catalog states no period), and each copy of the
    logs with its region, how many days it lasts and the last day it can hold data erased on ``erased_on``;
    then what sources keep on purpose (``kept``, e.g. analytics numbers kept unlinked), in the regions
    the account stores that category.

    Each item says it in a sentence for the person (``statement``) and names the products concerned.
    """
    products: dict[tuple[str, str | None, int | None], set[str]] = {}
    entries = account_residency_report(account=account).entries
    for entry in entries:
        for kind, hops in (("backup", entry.backups), ("log", entry.logs)):
            for hop in hops:
                products.setdefault((kind, hop.region, hop.days), set()).add(entry.product_name)
    copies = []
    for (kind, region, days), names in sorted(products.items(), key=lambda item: (item[0][0], str(item[0][1]), item[0][2] or 0)):
        until = (erased_on + dt.timedelta(days=days)).isoformat() if days else None
        where = region or "a region the source does not state"
        if kind == "backup":
            statement = f"Backups in {where}" + (f" for {days} days, until {until}." if days else ", until they rotate.")
        else:
            statement = f"Logs in {where}" + (f" for {days} days, until {until}." if days else "; the source states no period.")
        copies.append(
            {"kind": kind, "region": region, "days": days, "until": until, "products": sorted(names), "statement": statement}
        )
    for source, retention in kept:
        category = catalog_category(source, retention.data_category)
        stored = [entry for entry in entries if entry.data_category == category]
        if not retention.count or not stored:
            continue  # nothing kept, or not data the account's products hold (the request's own proof)
        regions = sorted({entry.stored_in or "a region the source does not state" for entry in stored})
        copies.append(
            {
                "kind": "kept",
                "data_category": category,
                "region": ", ".join(regions),
                "days": None,
                "until": None,
                "products": sorted({entry.product_name for entry in stored}),
                "statement": f"{retention.description} They stay in {' and '.join(regions)}, as long as the account "
                f"keeps them ({retention.reason.rstrip('.')}; no period is stated).",
            }
        )
    return copies


def _kept(subject: Subject) -> list[tuple[DataSource, Retention]]:
    return [(source, retention) for source in registered_sources() for retention in source.retained(subject)]


def _erasure_subject(request: Request) -> Subject:
    subject = request_subject(request)
    if subject is None:
        raise ValidationError({"person": "The request has no person and no stored subject to erase."})
    return subject


@transaction.atomic
def request_erasure_preview(*, request: Request, actor: User = None) -> ErasurePreview:
    if request.type != Request.Type.ERASURE:
        raise ValidationError({"type": "Only an erasure request has an erasure preview."})
    subject = _erasure_subject(request)
    preview = erasure_preview(subject=subject)
    preview.outlives = outliving_copies(account=request.account, erased_on=timezone.localdate(), kept=_kept(subject))
    totals = counts_in_words(preview.totals, "nothing found")
    add_event(
        request,
        RequestEvent.Kind.PREVIEWED,
        f"Erasure previewed: {totals}; {len(preview.blockers)} blocker(s).",
        actor=actor,
    )
    return preview


@dataclass
class ErasureOutcome:
    blocked: list[str] = field(default_factory=list)
    ran: list[tuple[int, str, dict[str, int]]] = field(default_factory=list)  # (step, source, counts) run now
    skipped: int = 0  # steps already finished by an earlier run
    scan: ScanResult | None = None

    @property
    def erased(self) -> int:
        return sum(sum(counts.values()) for _, _, counts in self.ran)


Progress = Callable[[int, str, dict[str, int]], None]


def grace_blockers(request: Request) -> dict[str, str]:
    """Why an erasure cannot be executed yet: the person may still withdraw it (the privacy center's grace
    period, ``Request.grace_ends_at``); empty once that has passed, or when there is none."""
    if request.grace_ends_at is not None and timezone.now() < request.grace_ends_at:
        return {
            "status": f"The person may withdraw this erasure until {request.grace_ends_at:%Y-%m-%d %H:%M} UTC; "
            "it cannot be executed before then."
        }
    return {}


def request_execute_erasure(
    *, request: Request, actor: User = None, progress: Progress | None = None, resumed: str = ""
) -> ErasureOutcome:
    """Erase the person's data, source by source, in the three steps of :mod:`dsar.sources`.

    Each (source, step) commits with its progress row, so a run killed anywhere resumes where it stopped,
    and a finished erasure run again changes nothing. A source that reports a blocker (the person is on a
    call) stops it before anything is erased, and the request waits with that reason. Ends with the
    verification scan and the certificate. ``resumed`` is what the timeline says when a waiting erasure goes
    back to work (by default, that nothing blocks it any more).
    """
    if request.type != Request.Type.ERASURE:
        raise ValidationError({"type": "Only an erasure request can be executed as an erasure."})
    require_verified(request)
    if request.status == Request.Status.COMPLETED and request.executed_at is not None:
        # Finished and closed: running it again changes nothing, and says every step was already done.
        return ErasureOutcome(skipped=len(ErasureStep) * len(registered_sources()))
    if request.status not in (Request.Status.IN_PROGRESS, Request.Status.WAITING):
        raise ValidationError({"status": f"The request is {request.get_status_display().lower()}."})
    raise_first(grace_blockers(request))
    with transaction.atomic():
        if not request.subject:
            # The snapshot outlives the Person row, which step 2 deletes; sources and the scan use it.
            subject = _erasure_subject(request)
            Request.objects.filter(pk=request.pk, subject__isnull=True).update(subject=asdict(subject))
            request.refresh_from_db()
        subject = request_subject(request)
    sources = registered_sources()
    outcome = ErasureOutcome()
    done = set(ErasureProgress.objects.filter(request=request).values_list("source", "step"))
    pending = [(step, source) for step in ErasureStep for source in sources if (source.key, int(step)) not in done]
    outcome.skipped = len(ErasureStep) * len(sources) - len(pending)
    if pending:
        blockers = [blocker for source in sources for blocker in source.blockers(subject)]
        if blockers:
            reason = "; ".join(blockers)
            if request.status == Request.Status.WAITING and request.status_reason == reason:
                outcome.blocked = blockers  # still waiting for the same thing: nothing new to say
                return outcome
            with transaction.atomic():
                transition(
                    request,
                    allowed=(Request.Status.IN_PROGRESS, Request.Status.WAITING),
                    actor=actor,
                    status=Request.Status.WAITING,
                    status_reason=reason,
                )
                add_event(request, RequestEvent.Kind.BLOCKED, f"Erasure refused: {reason}", actor=actor)
            outcome.blocked = blockers
            return outcome
    if request.status == Request.Status.WAITING:
        with transaction.atomic():
            transition(
                request,
                allowed=(Request.Status.WAITING,),
                actor=actor,
                status=Request.Status.IN_PROGRESS,
                status_reason="",
            )
            add_event(
                request, RequestEvent.Kind.EXECUTED, resumed or "Nothing blocks the erasure any more; it resumes.", actor=actor
            )
    for step, source in pending:
        with transaction.atomic(), erasure_context(request, actor):
            counts = {category: int(count) for category, count in source.erase(subject, step).items() if count}
            ErasureProgress.objects.create(request=request, source=source.key, step=int(step), counts=counts)
            _audit_step(request, actor, {"step": int(step), "source": source.key, "counts": counts})
            add_event(
                request,
                RequestEvent.Kind.STEP_DONE,
                f"Step {int(step)} ({step.name.lower()}), {source.label}: {counts_in_words(counts, 'nothing to erase')}.",
                actor=actor,
            )
            if counts.get(CANCELLED_MAIL):
                add_event(
                    request,
                    RequestEvent.Kind.STEP_DONE,
                    f"{counts[CANCELLED_MAIL]} export(s) not yet mailed to the person's address were cancelled: "
                    "nothing more is sent to an erased address.",
                    actor=actor,
                )
        outcome.ran.append((int(step), source.key, counts))
        if progress:
            progress(int(step), source.key, counts)
    # Run on every pass, not only after a step: a run killed between the last step and this redaction
    # finishes it when resumed (it changes nothing once done).
    redact_audit_entries(request=request, subject=subject)
    with transaction.atomic():
        held = [
            {"hold": retention.hold, "description": retention.description, "count": retention.count, "ids": retention.ids}
            for _, retention in _kept(subject)
            if retention.hold is not None
        ]
        first_finish = Request.objects.filter(pk=request.pk, executed_at__isnull=True).update(
            executed_at=timezone.now(), held=held
        )
        request.refresh_from_db()
        if first_finish:
            record_history(request, actor=actor, reason="erasure executed")
            add_event(request, RequestEvent.Kind.EXECUTED, "Erasure executed in every source.", actor=actor)
            for item in held:
                add_event(
                    request,
                    RequestEvent.Kind.BLOCKED,
                    f"Kept under legal hold #{item['hold']} until it is released: {item['description']}",
                    actor=actor,
                )
    outcome.scan = request_verify_erasure(request=request, actor=actor)
    return outcome


def erasure_context(request: Request, actor: User) -> AbstractContextManager[None]:
    """What every source writes for the erasure is attributed to the one who ran it (the officer, or the command
    or schedule that resumed it) and names the request it answers, in its history and its audit log."""
    return history_context(user=actor, actor=actor_label(actor), reason=f"erasure request #{request.pk}")


def _audit_step(request: Request, actor: User, data: dict[str, Any]) -> None:
    """Chain what one step of the request's erasure did (counts, never values)."""
    audit_append(
        Record(
            action=Action.ERASURE_STEP,
            object_type="dsar.request",
            object_id=request.pk,
            account_id=request.account_id,
            actor=actor_label(actor),
            data=data,
        )
    )


def redact_audit_entries(*, request: Request, subject: Subject) -> int:
    """Null the fields of the account's audit entries that hold the subject's identifiers, in any written
    form, through the chain's one sanctioned path (the digests stay, a redaction entry is appended, and the
    chain still verifies: core/audit.py). Idempotent."""
    matcher = Matcher(subject)
    if not matcher:
        return 0
    return audit_redact(
        account_id=subject.account_id,
        pattern=matcher.db_json_pattern,
        mentions=lambda value: bool(matcher.value_kinds(value)),
        request_id=request.pk,
    )


def _declared(request: Request, kept: list[tuple[DataSource, Retention]]) -> list[Declared]:
    """What is kept on purpose: what the sources declare (their rows), and the rows staff declared for this
    request."""
    declared = [
        Declared(location, retention.reason, rows=retention.rows.get(location.split(".")[0]))
        for _, retention in kept
        for location in retention.locations
    ]
    for declaration in request.declarations:
        rows = declaration.get("rows")
        declared.append(
            Declared(
                declaration["location"],
                f"{declaration['reason']} (declared by {declaration['by']})",
                # Declarations made before hits were kept per row name the column only.
                keys=frozenset(rows) if isinstance(rows, list) else None,
            )
        )
    return declared


@transaction.atomic
def request_verify_erasure(*, request: Request, actor: User = None) -> ScanResult:
    """Scan every text column of every table for the person's email, phone and name; store the result and
    refresh the certificate. Zero undeclared hits is the goal."""
    if request.type != Request.Type.ERASURE or request.executed_at is None:
        raise ValidationError({"status": "Only an executed erasure can be verified."})
    if not request.subject:
        raise ValidationError(
            {"status": "The request is closed; its identifiers are gone, so it cannot be scanned again."}
        )
    subject = request_subject(request)
    kept = _kept(subject)  # what the sources keep: the scan's declarations and the certificate's "kept"
    result = scan_for_subject(subject, declared=_declared(request, kept))
    now = timezone.now()
    scan = {"at": now.isoformat(), **result.as_dict()}
    Request.objects.filter(pk=request.pk).update(scan=scan, certificate=_certificate(request, kept, scan, actor))
    record_history(request, actor=actor, reason="verification scan")
    add_event(
        request,
        RequestEvent.Kind.SCANNED,
        f"Verification scan of {result.tables} tables, {result.columns} text columns: "
        f"{result.undeclared} undeclared hit(s), {result.declared} declared retention hit(s).",
        actor=actor,
    )
    _settle_after_scan(request, subject=subject, result=result, actor=actor)
    return result


def _settle_after_scan(request: Request, *, subject: Subject, result: ScanResult, actor: User) -> None:
    """After a verification scan: undeclared hits put the request in ``waiting`` with where they are (never
    what they are); a clean scan sends a waiting request back to work and, unless
    ``DSAR_ERASURE_FINALIZATION`` is ``manual``, completes it and tells the person."""
    request.refresh_from_db()
    if request.status in Request.CLOSED:
        return  # a closed request scanned again (after a hold ended) keeps its status; its timeline says why
    if result.undeclared:
        places = sorted({f"{hit.table}.{hit.column} ({hit.identifier})" for hit in result.hits if not hit.declared})
        reason = (
            f"The verification scan found {result.undeclared} undeclared hit(s) in {', '.join(places)}: "
            "redact them or declare them retained, then scan again."
        )
        if request.status != Request.Status.WAITING or request.status_reason != reason:
            transition(
                request,
                allowed=(Request.Status.IN_PROGRESS, Request.Status.WAITING),
                actor=actor,
                status=Request.Status.WAITING,
                status_reason=reason,
            )
            add_event(request, RequestEvent.Kind.BLOCKED, reason, actor=actor)
        return
    if request.status == Request.Status.WAITING:
        transition(
            request, allowed=(Request.Status.WAITING,), actor=actor, status=Request.Status.IN_PROGRESS, status_reason=""
        )
    if settings.DSAR_ERASURE_FINALIZATION == "manual":
        return
    certificate = request.certificate or {}
    request_complete(request=request, actor=actor)
    if request.held:
        # What a hold keeps is erased when it ends (erasures_resume): until then its identifiers are needed.
        Request.objects.filter(pk=request.pk).update(subject=asdict(subject))
    _tell_person(request, subject=subject, letter="erased", context=_completion_letter(request, certificate), actor=actor)


def _tell_person(request: Request, *, subject: Subject, letter: str, context: dict[str, Any], actor: User) -> None:
    """Email the person at the address the erasure started with, once the transaction commits; a person with
    no address gets a timeline note that they could not be told, so that staff tell them another way."""
    if not subject.email:
        add_event(
            request,
            RequestEvent.Kind.DATA_SENT,
            "The person has no email address on record and could not be told: tell them another way "
            "(the certificate says what to tell them).",
            actor=actor,
        )
        return
    with speaking_to(request):
        told = send_letter(request, letter, to=subject.email, number=str(request.pk), **context)
    add_event(request, RequestEvent.Kind.DATA_SENT, f"The person was told by email: {told}.", actor=actor)


# --- blockers that clear, holds that end --------------------------------------------------------


@dataclass
class ResumeSummary:
    resumed: list[int] = field(default_factory=list)  # erasures a cleared blocker let run
    still_blocked: int = 0
    released: list[int] = field(default_factory=list)  # erasures a released hold let finish


def erasures_resume(*, actor: User = None) -> ResumeSummary:
    """What the schedule runs: erasures waiting on a blocker that has cleared (the call ended, the hold on the
    person was released) resume by themselves; erasures part of which someone else's hold kept finish that
    part once the hold is released. A request whose blocker still holds is left as it is, with nothing new in
    its timeline."""
    summary = ResumeSummary()
    waiting = Request.objects.filter(
        type=Request.Type.ERASURE, status=Request.Status.WAITING, executed_at__isnull=True, verified_at__isnull=False
    )
    for request in waiting.select_related("account", "person"):
        subject = request_subject(request)
        if subject is None:
            continue
        if any(source.blockers(subject) for source in registered_sources()):
            summary.still_blocked += 1
            continue
        request_execute_erasure(
            request=request,
            actor=actor,
            resumed=f"What blocked the erasure has cleared ({request.status_reason.rstrip('.')}); it resumes by itself.",
        )
        summary.resumed.append(request.pk)
    keeping = Request.objects.filter(type=Request.Type.ERASURE, subject__isnull=False, executed_at__isnull=False)
    for request in keeping.select_related("account"):
        if request.held and request_release_held(request=request, actor=actor):
            summary.released.append(request.pk)
    return summary


@transaction.atomic
def request_release_held(*, request: Request, actor: User = None) -> bool:
    """Erase what a released hold kept of the person: every source's steps run again (they touch only what
    is still the person's), the audit entries are redacted, the scan runs, and the certificate gets an
    addendum; the person is told. The identifiers go once no hold keeps anything. Returns whether a hold
    had ended.

    One transaction, on the locked request: killed anywhere, it leaves the request as it was and the next run
    does it all; two runs at once release once."""
    request = Request.objects.select_for_update().get(pk=request.pk)
    if not request.held or not request.subject:
        return False
    subject = request_subject(request)
    active = {retention.hold for _, retention in _kept(subject) if retention.hold is not None}
    released = [item for item in request.held if item["hold"] not in active]
    if not released:
        return False
    holds = ", ".join(f"#{item['hold']}" for item in released)
    counts: dict[str, int] = {}
    with erasure_context(request, actor):
        for step in ErasureStep:
            for source in registered_sources():
                for category, count in source.erase(subject, step).items():
                    if count:
                        counts[category] = counts.get(category, 0) + int(count)
    _audit_step(request, actor, {"addendum": True, "holds": [item["hold"] for item in released], "counts": counts})
    add_event(
        request,
        RequestEvent.Kind.STEP_DONE,
        f"Legal hold {holds} released: what it kept was erased: {counts_in_words(counts, 'nothing left to erase')}.",
        actor=actor,
    )
    redact_audit_entries(request=request, subject=subject)
    remaining = [item for item in request.held if item["hold"] in active]
    addendum = {"at": timezone.now().isoformat(), "holds": [item["hold"] for item in released], "counts": counts}
    certificate = {**(request.certificate or {}), "addenda": [*(request.certificate or {}).get("addenda", []), addendum]}
    Request.objects.filter(pk=request.pk).update(held=remaining, certificate=certificate)
    request.refresh_from_db()
    scan = request_verify_erasure(request=request, actor=actor)
    request.refresh_from_db()
    if scan.undeclared:
        add_event(
            request,
            RequestEvent.Kind.BLOCKED,
            f"After hold {holds} ended the scan still finds {scan.undeclared} undeclared hit(s).",
            actor=actor,
        )
    if not remaining and request.status in Request.CLOSED and not scan.undeclared:
        Request.objects.filter(pk=request.pk).update(subject=None)
    with speaking_to(request):
        erased, copies = categories_of([(None, counts)])
    _tell_person(request, subject=subject, letter="erased_rest", context={"erased": erased, "copies": copies}, actor=actor)
    return True


def _completion_letter(request: Request, certificate: dict[str, Any]) -> dict[str, Any]:
    """What the person is told when their erasure is done, each thing once: the categories erased (catalog
    names and purposes, with how many records), what is kept and why (under a legal hold, a rule a source
    declares, or a retention staff declared) with where it stays, and the copies the erasure cannot reach
    (backups, log copies) with where and until when. Rendered in the request's language (``speaking_to``)."""
    with speaking_to(request):
        erased, copies = categories_of((step["source"], step["counts"]) for step in certificate.get("steps", []))
        sources = {source.key: source for source in registered_sources()}
        regions = dict(Region.objects.values_list("code", "name"))
        kept_where = {
            item.get("data_category"): item["region"] for item in certificate.get("outlives", []) if item["kind"] == "kept"
        }
        kept = []
        for item in certificate.get("retained", []):
            if item["source"] == "declared":
                continue  # said below, from the declarations themselves
            if not item.get("count"):
                continue  # nothing of the person's is kept under it (the request's own record is said apart)
            source = sources.get(item["source"])
            named = category_named(item["data_category"], source)
            if item.get("hold") is not None:
                kept.append(
                    ngettext(
                        "%(name)s: %(count)d record kept under a legal hold. It will be erased when the hold "
                        "ends, and we will tell you.",
                        "%(name)s: %(count)d records kept under a legal hold. They will be erased when the hold "
                        "ends, and we will tell you.",
                        item["count"],
                    )
                    % {"name": named.name, "count": item["count"]}
                )
                continue
            stored = kept_where.get(catalog_category(source, item["data_category"]) if source else item["data_category"])
            where = (
                gettext(" They are stored in: %(regions)s.")
                % {"regions": gettext(" and ").join(region_name(code.strip(), regions) for code in stored.split(","))}
                if stored
                else ""
            )
            kept.append(
                gettext("%(name)s: %(what)s Why: %(why)s")
                % {"name": named.name, "what": words(item["description"]), "why": words(item["reason"])}
                + where
            )
        for declaration in request.declarations:
            kept.append(
                gettext("Your %(identifier)s in a record we must keep until %(until)s. Why: %(reason)s")
                % {
                    "identifier": IDENTIFIER_WORDS.get(declaration["identifier"], declaration["identifier"]),
                    "until": day(declaration["until"]),
                    "reason": declaration["reason"],
                }
            )
        outlives = []
        for item in certificate.get("outlives", []):
            if item["kind"] == "kept":
                continue  # said with what is kept, above
            where = region_name(item["region"], regions)
            products = ", ".join(item["products"])
            if item["kind"] == "backup":
                outlives.append(
                    gettext("Backups of %(products)s (%(region)s), until they are replaced in rotation.")
                    % {"region": where, "products": products}
                    if not item["days"]
                    else gettext("Backups of %(products)s (%(region)s), until %(until)s.")
                    % {"region": where, "products": products, "until": day(item["until"])}
                )
            else:
                outlives.append(
                    gettext("Logs of %(products)s (%(region)s), kept %(days)d days, until %(until)s.")
                    % {"region": where, "products": products, "days": item["days"], "until": day(item["until"])}
                    if item["days"]
                    else gettext("Logs of %(products)s (%(region)s); no period is stated for them.")
                    % {"region": where, "products": products}
                )
    return {"erased": erased, "copies": copies, "kept": kept, "outlives": outlives}


def _certificate(
    request: Request, kept: list[tuple[DataSource, Retention]], scan: dict[str, Any], actor: User
) -> dict[str, Any]:
    """What was erased, how much, when and by whom; no name, email or phone (nor the person's id in hits)."""
    steps = [
        {"step": row.step, "source": row.source, "counts": row.counts, "finished_at": row.finished_at.isoformat()}
        for row in ErasureProgress.objects.filter(request=request)
    ]
    totals: dict[str, int] = {}
    for row in steps:
        for category, count in row["counts"].items():
            totals[category] = totals.get(category, 0) + count
    retained = [_retention_dict(source, retention) for source, retention in kept]
    retained += [
        {
            "source": "declared",
            "data_category": declaration["identifier"],
            "description": f"What the verification scan found in {declaration['location']}, kept until {declaration['until']}.",
            "reason": declaration["reason"],
            "count": len(declaration["rows"]) if isinstance(declaration.get("rows"), list) else declaration.get("rows", 0),
        }
        for declaration in request.declarations
    ]
    return {
        "request": request.pk,
        "account": request.account_id,
        "jurisdiction": request.jurisdiction.code,
        "received_at": request.received_at.isoformat(),
        "executed_at": request.executed_at.isoformat() if request.executed_at else None,
        "executed_by": sorted(
            set(request.events.filter(kind=RequestEvent.Kind.STEP_DONE).values_list("actor", flat=True))
        ),
        "certified_by": actor_label(actor),
        "steps": steps,
        "totals": totals,
        "retained": retained,
        "outlives": outliving_copies(
            account=request.account,
            erased_on=timezone.localdate(request.executed_at) if request.executed_at else timezone.localdate(),
            kept=kept,
        ),
        "scan": {key: scan[key] for key in ("at", "tables", "columns", "undeclared", "declared")},
        # What ran when a hold that kept part of the erasure was released.
        "addenda": (request.certificate or {}).get("addenda", []),
    }
