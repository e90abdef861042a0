"""The privacy center's pages, at ``/privacy/<slug>/``: server-rendered (no script, under the console's CSP), in the
person's language (the switcher's cookie, else ``Accept-Language``), for the person and the agents they authorize.

Each page validates what it is sent, calls :mod:`dsar.submissions` (which applies the rules, throttles, stores and
emails) and says what happened in plain words. Nothing is linked to a person, and nothing about them shown, before
they prove they control the email or phone they gave: the status page is reached only through the link the
verification gives.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from core.client_address import client_address
from dsar import submissions
from dsar.center.forms import TYPE_WORDS, AgentForm, CodeForm, LanguageForm, RequestForm
from dsar.exports import export_link, export_unavailable, latest_archive
from dsar.letters import DENIAL_REASONS, day, moment
from dsar.models import Jurisdiction, PrivacyCenter, Request, RequestEvent, Submission
from dsar.report import access_report_html, request_access_report
from dsar.workflow import add_event

logger = logging.getLogger(__name__)

#: A request's state as the person reads it.
STATES = {
    Request.Status.RECEIVED: gettext_lazy("Received"),
    Request.Status.VERIFYING: gettext_lazy("Checking who you are"),
    Request.Status.IN_PROGRESS: gettext_lazy("In progress"),
    Request.Status.WAITING: gettext_lazy("Waiting"),
    Request.Status.COMPLETED: gettext_lazy("Completed"),
    Request.Status.REJECTED: gettext_lazy("Refused"),
    Request.Status.WITHDRAWN: gettext_lazy("Withdrawn"),
}

View = Callable[..., HttpResponse]


# --- the person's language, and the center behind the address ---------------------------------------------------


def person_language(request: HttpRequest) -> str:
    """The language the switcher chose (its cookie), else the browser's first of ours, else English."""
    return translation.get_language_from_request(request, check_path=False)


def in_their_language(view: View) -> View:
    """Run and render ``view`` in the person's language, and say so to caches. Only the privacy center does this:
    the console and the API stay in English."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with translation.override(person_language(request)):
            response = view(request, *args, **kwargs)
            response["Content-Language"] = translation.get_language()
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response

    return wrapped


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """A page of the center, rendered now (in the language active now)."""
    return render(
        request,
        f"dsar/center/{template}",
        {"language_form": LanguageForm(initial={"language": translation.get_language()}), **context},
        status=status,
    )


def message(
    request: HttpRequest, *, title: str, text: str, status: int, center: PrivacyCenter | None = None, **context: Any
) -> HttpResponse:
    return page(request, "message.html", {"title": title, "text": text, "center": center, **context}, status=status)


def not_found(request: HttpRequest) -> HttpResponse:
    return message(
        request,
        title=_("Privacy center not found"),
        text=_(
            "There is no privacy center at this address. Check the link you followed, or ask the company for the "
            "address of its privacy center."
        ),
        status=404,
    )


def center_or_none(slug: str) -> PrivacyCenter | None:
    return PrivacyCenter.objects.select_related("account", "default_jurisdiction").filter(slug=slug).first()


def at_center(view: View) -> View:
    """Call ``view`` with the privacy center the URL's slug names instead of the slug; a page in words (404) when
    there is none."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, slug: str, **kwargs: Any) -> HttpResponse:
        center = center_or_none(slug)
        if center is None:
            return not_found(request)
        return view(request, center, **kwargs)

    return wrapped


def at_status(view: View) -> View:
    """Call ``view`` with the center and the verified submission whose status link carries the URL's token; a page
    in words (404) for a link that is not one."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, slug: str, token: str) -> HttpResponse:
        center = center_or_none(slug)
        if center is None:
            return not_found(request)
        submission = submission_for_status(center, token)
        if submission is None:
            return status_unknown(request, center)
        return view(request, center, submission, token)

    return wrapped


def closed(request: HttpRequest, center: PrivacyCenter) -> HttpResponse:
    return message(
        request,
        title=_("This privacy center is closed"),
        text=_("It does not take requests at the moment. Contact the company directly to make a request."),
        status=404,
        center=center,
    )


def throttled(request: HttpRequest, center: PrivacyCenter, refused: submissions.Throttled) -> HttpResponse:
    """Too many submissions from this address or for this identity: nothing was stored; when to try again."""
    response = message(request, title=_("Too many requests"), text=str(refused.message), status=429, center=center)
    response["Retry-After"] = str(refused.retry_after)
    return response


def add_errors(form: Any, error: ValidationError) -> None:
    """The service's refusals beside the fields they name (the rest at the top of the form)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def honeypot_filled(request: HttpRequest, center: PrivacyCenter) -> bool:
    if not request.POST.get("website"):
        return False
    # Nothing is stored and the sender is answered as a person would be: software learns nothing.
    logger.info("Privacy center %s: a submission with its hidden field filled in was dropped.", center.slug)
    return True


def to_sent_page(center: PrivacyCenter, public_id: uuid.UUID) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("privacy:sent", kwargs={"slug": center.slug, "public_id": public_id}))


def promises(center: PrivacyCenter) -> list[tuple[str, list[str]]]:
    """Each answer a request may get (the law and its time), with the places whose residents get it (one query)."""
    codes = {code: submissions.law_code_for(code) for code, _label in submissions.RESIDENCES}
    laws = {law.code: law for law in Jurisdiction.objects.filter(code__in={c for c in codes.values() if c})}
    grouped: dict[str, list[str]] = {}
    for code, label in submissions.RESIDENCES:
        law = laws.get(codes[code] or "", center.default_jurisdiction)
        grouped.setdefault(submissions.answer_time(law), []).append(str(label))
    return list(grouped.items())


# --- the form ---------------------------------------------------------------------------------------------------


@in_their_language
@require_http_methods(["GET", "POST"])
@at_center
def center_view(request: HttpRequest, center: PrivacyCenter) -> HttpResponse:
    """The person's own request, in two steps without a script: the form, then what will be sent with the law that
    follows from where they live and its answer time; sending it from there."""
    if not center.is_open:
        return closed(request, center)
    if request.method == "GET":
        return page(request, "form.html", {"center": center, "form": RequestForm()})
    if honeypot_filled(request, center):
        return to_sent_page(center, uuid.uuid4())
    form = RequestForm(request.POST)
    step = request.POST.get("step", "check")
    if step == "edit" or not form.is_valid():
        return page(request, "form.html", {"center": center, "form": form})
    data = form.cleaned_data
    jurisdiction = submissions.jurisdiction_for(center=center, residence=data["residence"])
    if step != "submit":
        return page(
            request,
            "check.html",
            {
                "center": center,
                "form": form,
                "type_words": TYPE_WORDS[data["type"]],
                "residence_words": dict(form.fields["residence"].choices)[data["residence"]],
                "promise": submissions.answer_time(jurisdiction),
            },
        )
    try:
        submission = submissions.submission_create(
            account=center.account,
            type=data["type"],
            jurisdiction=jurisdiction,
            language=translation.get_language(),
            email=data["email"],
            phone=data["phone"],
            name=data["name"],
            details=data["details"] if data["type"] == Request.Type.RECTIFICATION else "",
            client_address=client_address(request) or "",
        )
    except submissions.Throttled as refused:
        return throttled(request, center, refused)
    except ValidationError as error:
        add_errors(form, error)
        return page(request, "form.html", {"center": center, "form": form})
    return to_sent_page(center, submission.public_id)


def agent_body_limit() -> int:
    """The largest body the agent form reads: the authorization at its limit, and the form's other fields."""
    return settings.DSAR_AGENT_PROOF_MAX_BYTES + (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)


@in_their_language
@at_center
def agent_body_too_large(request: HttpRequest, center: PrivacyCenter) -> HttpResponse:
    """Refused before the body is read (config.middleware.RequestBodyLimitMiddleware): nothing was stored."""
    return message(
        request,
        title=_("The file is too large"),
        text=_("Signed authorization: the file is larger than the %(limit)s accepted. Nothing was sent.")
        % {"limit": filesizeformat(settings.DSAR_AGENT_PROOF_MAX_BYTES)},
        status=413,
        center=center,
        again=reverse("privacy:agent", kwargs={"slug": center.slug}),
        # Answered before the CSRF middleware ran: no form on this page (its token would not match).
        language_form=None,
    )


@in_their_language
@require_http_methods(["GET", "POST"])
@at_center
def agent_view(request: HttpRequest, center: PrivacyCenter) -> HttpResponse:
    """An authorized agent's request for someone (CCPA), with the authorization the person signed. The person is
    then asked by email (or text message) to confirm it; nothing happens before they do."""
    if not center.is_open:
        return closed(request, center)
    context = {"center": center, "promises": promises(center)}
    if request.method == "GET":
        return page(request, "agent.html", {**context, "form": AgentForm()})
    if honeypot_filled(request, center):
        return to_sent_page(center, uuid.uuid4())
    form = AgentForm(request.POST, request.FILES)
    if not form.is_valid():
        return page(request, "agent.html", {**context, "form": form})
    data = form.cleaned_data
    try:
        submission = submissions.submission_create(
            account=center.account,
            type=data["type"],
            jurisdiction=submissions.jurisdiction_for(center=center, residence=data["residence"]),
            language=translation.get_language(),
            email=data["email"],
            phone=data["phone"],
            name=data["name"],
            details=data["details"] if data["type"] == Request.Type.RECTIFICATION else "",
            via=Submission.Via.AGENT,
            agent_name=data["agent_name"],
            agent_email=data["agent_email"],
            agent_proof=data["authorization"],
            client_address=client_address(request) or "",
        )
    except submissions.Throttled as refused:
        return throttled(request, center, refused)
    except ValidationError as error:
        add_errors(form, error)
        return page(request, "agent.html", {**context, "form": form})
    return to_sent_page(center, submission.public_id)


agent_view.body_limit = agent_body_limit  # type: ignore[attr-defined]
agent_view.body_too_large = agent_body_too_large  # type: ignore[attr-defined]


# --- proving control of the email or phone ------------------------------------------------------------------------


def pending_submission(center: PrivacyCenter, public_id: uuid.UUID) -> Submission | None:
    submission = submissions.submission_by_public_id(public_id)
    if submission is None or submission.account_id != center.account_id:
        return None
    return submission


@in_their_language
@require_http_methods(["GET"])
@at_center
def sent_view(request: HttpRequest, center: PrivacyCenter, public_id: uuid.UUID) -> HttpResponse:
    """"Check your email": where the link and the code went, and the way to the code's page. The same page answers
    for an address nobody knows (a dropped submission), so it tells nothing to whoever tries them."""
    submission = pending_submission(center, public_id)
    by_text = submission is not None and not submission.email and bool(submission.phone)
    return page(
        request,
        "sent.html",
        {
            "center": center,
            "public_id": public_id,
            "by_text": by_text,
            "submission": submission,
            "ttl_days": settings.DSAR_SUBMISSION_TTL_DAYS,
        },
    )


@in_their_language
@require_http_methods(["GET", "POST"])
@transaction.non_atomic_requests  # a wrong code stays counted although the page reports it
@at_center
def confirm_view(request: HttpRequest, center: PrivacyCenter, public_id: uuid.UUID) -> HttpResponse:
    """The 6-digit code's page; its POST checks the code (attempts are counted), or sends a new link and code."""
    submission = pending_submission(center, public_id)
    if submission is None:
        return message(
            request,
            title=_("We cannot find this request"),
            text=_("The address may be mistyped, or the request was never sent. You can make it again."),
            status=404,
            center=center,
            again=reverse("privacy:center", kwargs={"slug": center.slug}),
        )
    context: dict[str, Any] = {"center": center, "submission": submission}
    if submission.status != Submission.Status.PENDING or submission.expires_at <= timezone.now():
        # Confirmed, cancelled, or past its time (the hourly job may not have marked it expired yet): no form.
        return page(request, "confirm.html", {**context, "form": None, "done": True})
    if request.method == "GET":
        return page(request, "confirm.html", {**context, "form": CodeForm()})
    if "resend" in request.POST:
        try:
            with transaction.atomic():
                submissions.submission_resend(submission=submission, client_address=client_address(request) or "")
        except submissions.Throttled as refused:
            return throttled(request, center, refused)
        except ValidationError as error:
            form = CodeForm()
            add_errors(form, error)
            return page(request, "confirm.html", {**context, "form": form}, status=400)
        return page(request, "confirm.html", {**context, "form": CodeForm(), "resent": True})
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            verified = submissions.submission_verify_code(submission=submission, code=form.cleaned_data["code"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            return to_status_page(verified)
    submission.refresh_from_db()
    return page(
        request,
        "confirm.html",
        {**context, "form": form, "can_resend": submission.status == Submission.Status.PENDING},
        status=400,
    )


def to_status_page(verified: Any) -> HttpResponseRedirect:
    center = verified.submission.account.privacy_center
    return HttpResponseRedirect(reverse("privacy:status", kwargs={"slug": center.slug, "token": verified.status_token}))


@in_their_language
@require_http_methods(["GET", "POST"])
@transaction.non_atomic_requests  # an attempt on a link stays recorded although the page refuses it
@at_center
def verify_view(request: HttpRequest, center: PrivacyCenter, token: str) -> HttpResponse:
    """The one-time link's page: a GET only shows a button (mail scanners fetch the links they see), its POST uses
    the link."""
    if request.method == "GET":
        return page(request, "verify.html", {"center": center})
    try:
        verified = submissions.submission_verify_link(token=token)
    except ValidationError as error:
        return message(
            request,
            title=_("This link cannot be used"),
            text=" ".join(error.messages),
            status=400,
            center=center,
            again=reverse("privacy:center", kwargs={"slug": center.slug}),
            hint=_(
                "A link works once, for %(days)d days. If you still have the 6-digit code, enter it on the page "
                "the message links to; otherwise make the request again."
            )
            % {"days": settings.DSAR_SUBMISSION_TTL_DAYS},
        )
    return to_status_page(verified)


# --- the status page ----------------------------------------------------------------------------------------------


def submission_for_status(center: PrivacyCenter, token: str) -> Submission | None:
    submission = submissions.submission_by_status_token(token)
    if submission is None or submission.account_id != center.account_id or submission.request_id is None:
        return None
    return submission


def status_unknown(request: HttpRequest, center: PrivacyCenter) -> HttpResponse:
    return message(
        request,
        title=_("We cannot find this request"),
        text=_("This status link is not valid. Use the link from the latest email we sent you."),
        status=404,
        center=center,
    )


def denial_words(request_obj: Request) -> str:
    """Why the request was refused, in the words of the person's letter; for a reason of staff's own words
    (``other``), where to read them: the letter, which carries them."""
    if request_obj.status != Request.Status.REJECTED:
        return ""
    if request_obj.denial_reason == Request.DenialReason.OTHER or request_obj.denial_reason not in DENIAL_REASONS:
        return str(_("The reason is in the email we sent you."))
    return str(DENIAL_REASONS[request_obj.denial_reason])


def waiting_for(request_obj: Request) -> str:
    """What the request waits for, in plain words (read from its state, never its internal reason shown)."""
    now = timezone.now()
    if request_obj.grace_ends_at and request_obj.grace_ends_at > now and request_obj.executed_at is None:
        return _("Your erasure will start after %(moment)s. Until then you can withdraw it below.") % {
            "moment": moment(request_obj.grace_ends_at)
        }
    if request_obj.status != Request.Status.WAITING:
        return ""
    reason = request_obj.status_reason.lower()
    if "on a call" in reason:
        return _("You are on a call with us right now. The erasure continues by itself when every call has ended.")
    if "scan" in reason:
        return _("We are checking that none of your data was left behind. This needs a member of our team.")
    return _("Something on our side has to finish first. We will still answer by the deadline.")


def status_context(center: PrivacyCenter, submission: Submission, token: str) -> dict[str, Any]:
    request_obj = (
        Request.objects.select_related("jurisdiction", "account").get(pk=submission.request_id)
    )
    closed = request_obj.status in Request.CLOSED
    downloads = []
    if request_obj.status not in (Request.Status.REJECTED, Request.Status.WITHDRAWN):
        if request_obj.type == Request.Type.ACCESS and request_obj.executed_at and request_obj.person_id:
            downloads.append({
                "url": reverse("privacy:report", kwargs={"slug": center.slug, "token": token}),
                "label": _("Your access report (a web page to keep)"),
                "until": "",
            })
        if request_obj.type in (Request.Type.ACCESS, Request.Type.PORTABILITY):
            archive = latest_archive(request_obj)
            if archive is not None and not export_unavailable(archive):
                downloads.append({
                    "url": export_link(archive),
                    "label": _("A copy of your data (ZIP: JSON and CSV, %(size)s)") % {"size": filesizeformat(archive.size)},
                    "until": moment(archive.expires_at),
                })
    withdrawable = not submissions.request_withdraw_blockers(request_obj)
    return {
        "center": center,
        "submission": submission,
        "request_obj": request_obj,
        "type_words": TYPE_WORDS[request_obj.type],
        "state": STATES[request_obj.status],
        "closed": closed,
        "waiting_for": waiting_for(request_obj),
        "denial": denial_words(request_obj),
        "received_on": day(request_obj.received_at),
        "due_on": day(request_obj.due_at),
        "extended": request_obj.extended_at is not None,
        "completed_on": day(request_obj.completed_at) if closed else "",
        "linked": submission.status == Submission.Status.LINKED,
        "promise": submissions.answer_time(request_obj.jurisdiction),
        "downloads": downloads,
        "withdrawable": withdrawable,
        "token": token,
    }


@in_their_language
@require_http_methods(["GET"])
@at_status
def status_view(request: HttpRequest, center: PrivacyCenter, submission: Submission, token: str) -> HttpResponse:
    """Where the request is, in plain words; its deadline; its downloads; and the way to withdraw it while one is
    open."""
    with timezone.override(center.account.zone()):
        return page(request, "status.html", status_context(center, submission, token))


@in_their_language
@require_http_methods(["GET", "POST"])
@at_status
def withdraw_view(request: HttpRequest, center: PrivacyCenter, submission: Submission, token: str) -> HttpResponse:
    """Withdrawing the request: a GET asks first (what it means, that it cannot be undone), the POST of that page
    withdraws."""
    status_url = reverse("privacy:status", kwargs={"slug": center.slug, "token": token})
    request_obj = Request.objects.select_related("account").get(pk=submission.request_id)
    blockers = submissions.request_withdraw_blockers(request_obj)
    if blockers:
        return message(
            request,
            title=_("This request can no longer be withdrawn"),
            text=" ".join(blockers.values()),
            status=409,
            center=center,
            back=status_url,
        )
    if request.method == "POST" and request.POST.get("post") == "yes":
        try:
            submissions.request_withdraw(
                request=request_obj, actor=None, reason="Withdrawn by the person from the privacy center."
            )
        except ValidationError as error:  # carried out meanwhile
            return message(
                request,
                title=_("This request can no longer be withdrawn"),
                text=" ".join(error.messages),
                status=409,
                center=center,
                back=status_url,
            )
        return HttpResponseRedirect(status_url)
    with timezone.override(center.account.zone()):
        return page(
            request,
            "withdraw.html",
            {"center": center, "type_words": TYPE_WORDS[request_obj.type], "received_on": day(request_obj.received_at),
             "back": status_url},
        )


@in_their_language
@require_http_methods(["GET"])
@at_status
def report_view(request: HttpRequest, center: PrivacyCenter, submission: Submission, token: str) -> HttpResponse:
    """The access report, the page the person keeps: in their request's language, recorded on its timeline."""
    request_obj = Request.objects.select_related("account", "jurisdiction", "person").get(pk=submission.request_id)
    available = (
        request_obj.type == Request.Type.ACCESS
        and request_obj.executed_at is not None
        and request_obj.status not in (Request.Status.REJECTED, Request.Status.WITHDRAWN)
    )
    try:
        html = access_report_html(request=request_obj, report=request_access_report(request=request_obj)) if available else ""
    except ValidationError:
        html = ""
    if not html:
        return message(
            request,
            title=_("The access report is not available"),
            text=_("It is ready once your request is answered, and it is no longer kept once your data is erased."),
            status=404,
            center=center,
            back=reverse("privacy:status", kwargs={"slug": center.slug, "token": token}),
        )
    add_event(request_obj, RequestEvent.Kind.REPORT, "Access report downloaded from the privacy center.")
    response = HttpResponse(html)
    response["Content-Disposition"] = f'attachment; filename="request-{request_obj.pk}-access-report.html"'
    return response
