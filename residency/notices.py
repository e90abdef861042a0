"""Notices of new sub-processors and transfers, owed by the processor to each controller (GDPR Art. 28(2)).

A catalog load that gives an account a new sub-processor or a new transfer records one notice for that
account: what changed, from when it applies, and until when the account may object (the
``CHANGE_NOTICE_OBJECTION_DAYS`` setting, 30 days by default). The notice is emailed to the account's
privacy contact once the load has committed; an account without one is listed as not notified.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from core.history import write_history
from residency.catalog.impact import AccountImpact
from residency.models import Account, CatalogLoad, ChangeNotice

logger = logging.getLogger(__name__)


def change_notices_record(
    *, load: CatalogLoad, impact: Iterable[AccountImpact], effective_from: date | None = None
) -> list[ChangeNotice]:
    """One notice per account whose report gains a sub-processor or a transfer; emailed after commit. The change
    applies from ``effective_from``: by default the catalog's, or the day of the load."""
    effective_from = effective_from or load.effective_from or timezone.localdate(load.loaded_at)
    owed = [item for item in impact if item.notifiable]
    contacts = dict(Account.objects.filter(pk__in=[item.account_id for item in owed]).values_list("pk", "privacy_contact_email"))
    notices = ChangeNotice.objects.bulk_create(
        [
            ChangeNotice(
                account_id=item.account_id,
                catalog_load=load,
                changes=item.notifiable,
                effective_from=effective_from,
                objection_until=objection_deadline(timezone.localdate()),
                sent_to=contacts.get(item.account_id, ""),
            )
            for item in owed
        ]
    )
    write_history(notices, history_type="+", reason=f"catalog {load.version}")
    ids = [notice.pk for notice in notices if notice.sent_to]
    if ids:
        transaction.on_commit(lambda: change_notices_send(ids=ids))
    return notices


def objection_deadline(notified_on: date) -> date:
    """The last day to object to a change notified on ``notified_on``: ``CHANGE_NOTICE_OBJECTION_DAYS`` later.

    A change that applies before then (a catalog without a later ``effective_from``) leaves the account no
    time to object before it applies; the notice says so (:attr:`ChangeNotice.applies_before_objection_ends`).
    """
    return notified_on + timedelta(days=settings.CHANGE_NOTICE_OBJECTION_DAYS)


def change_notices_send(*, ids: list[int]) -> int:
    """Email the notices not yet sent among ``ids``; a failure is kept on the notice. Returns how many went.

    Each notice is claimed first (a conditional update of ``emailed_at``), so a load's own send and the
    hourly retry running at once never email the same notice twice; a failed send gives the claim back.
    """
    sent = 0
    for notice in ChangeNotice.objects.filter(pk__in=ids, emailed_at__isnull=True).exclude(sent_to="").select_related(
        "account", "catalog_load"
    ):
        claimed_at = timezone.now()
        claim = ChangeNotice.objects.filter(pk=notice.pk, emailed_at__isnull=True)
        if not claim.update(emailed_at=claimed_at, email_error=""):
            continue  # sent meanwhile by another process
        try:
            send_mail(notice_subject(notice), notice_body(notice), settings.DEFAULT_FROM_EMAIL, [notice.sent_to])
        except Exception as exc:  # noqa: BLE001 - any mail failure is recorded on the notice, and the next goes on
            logger.warning("change notice %s to %s not sent: %s", notice.pk, notice.sent_to, exc)
            notice.emailed_at, notice.email_error = None, str(exc)[:1000]
            ChangeNotice.objects.filter(pk=notice.pk).update(emailed_at=None, email_error=notice.email_error)
            write_history([notice], history_type="~", reason="email failed")
            continue
        notice.emailed_at, notice.email_error = claimed_at, ""
        write_history([notice], history_type="~", reason=f"emailed to {notice.sent_to}")
        sent += 1
    return sent


def notice_subject(notice: ChangeNotice) -> str:
    return f"{notice.account.name}: new sub-processors or transfers from {notice.effective_from:%Y-%m-%d}"


def notice_body(notice: ChangeNotice) -> str:
    lines = [
        f"To the privacy contact of {notice.account.name},",
        "",
        f"As your processor we inform you of the following changes to where your data is processed, which apply "
        f"from {notice.effective_from:%d %B %Y} (catalog {notice.catalog_load.version}):",
        "",
        *[f"- {change}" for change in notice.changes],
        "",
        f"You may object to these changes until {notice.objection_until:%d %B %Y} (GDPR Art. 28(2)) by replying "
        "to this message.",
    ]
    if notice.applies_before_objection_ends:
        lines.append("The changes apply before that date; an objection received until then will still be considered.")
    return "\n".join(lines)
