"""A catalog change that adds a sub-processor or a transfer records a notice per affected account (Art. 28(2))."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from residency.catalog.loader import catalog_load, parse_catalog
from residency.models import ChangeNotice
from tests.factories import AccountFactory, UserFactory, api_key_for, region
from tests.residency.catalogs import SHIPPED_VERSION, catalog_file

pytestmark = pytest.mark.django_db
CATALOG = Path(settings.RESIDENCY_CATALOG_PATH)
NEW_SUB_PROCESSOR = '''
[[sub_processors]]
slug = "speechly"
name = "Speechly"
purpose = "Transcribing call recordings"
products = ["freshdesk-contact-center"]
categories = ["call-recording"]
regions = ["US"]
'''


def with_new_sub_processor(tmp_path: Path, header: str = "") -> Path:
    text = CATALOG.read_text().replace(f'version = "{SHIPPED_VERSION}"', f'version = "2027.01.1"{header}', 1) + NEW_SUB_PROCESSOR
    path = tmp_path / "catalog.toml"
    path.write_text(text)
    return path


@pytest.fixture
def accounts() -> dict:
    eea = region("EEA")
    return {
        "contact": AccountFactory(
            name="Nordic Calls", home_region=eea, products=["freshdesk-contact-center"], privacy_contact_email="privacy@nordic.example"
        ),
        "silent": AccountFactory(name="No Contact", home_region=eea, products=["freshdesk-contact-center"]),
        "untouched": AccountFactory(name="Helpdesk only", home_region=eea, products=["freshdesk"], privacy_contact_email="a@b.example"),
    }


@time_machine.travel(dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC), tick=False)
def test_a_new_sub_processor_gives_each_affected_account_a_notice_and_emails_its_privacy_contact(
    tmp_path: Path, accounts: dict, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        changes = catalog_load(spec=parse_catalog(with_new_sub_processor(tmp_path)))

    notices = {notice.account.name: notice for notice in ChangeNotice.objects.select_related("account")}
    assert set(notices) == {"Nordic Calls", "No Contact"}
    nordic = notices["Nordic Calls"]
    assert "new sub-processor: Speechly" in nordic.changes
    assert any(line.startswith("new transfer:") and "Speechly" in line for line in nordic.changes)
    assert (nordic.effective_from, nordic.objection_until) == (dt.date(2027, 1, 4), dt.date(2027, 2, 3))
    assert nordic.applies_before_objection_ends  # the catalog gave no later effective_from
    assert nordic.emailed_at is not None and nordic.sent_to == "privacy@nordic.example"
    assert list(nordic.history.order_by("history_id").values_list("history_type", "history_change_reason")) == [
        ("+", "catalog 2027.01.1"),
        ("~", "emailed to privacy@nordic.example"),
    ]
    assert notices["No Contact"].emailed_at is None and notices["No Contact"].sent_to == ""
    (email,) = mail.outbox
    assert email.to == ["privacy@nordic.example"]
    assert "Speechly" in email.body and "until 03 February 2027" in email.body
    assert len(changes.notices) == 2


@time_machine.travel(dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC), tick=False)
def test_the_objection_window_and_the_effective_date_come_from_settings_and_the_catalog(
    tmp_path: Path, accounts: dict, settings: object
) -> None:
    settings.CHANGE_NOTICE_OBJECTION_DAYS = 45

    catalog_load(spec=parse_catalog(with_new_sub_processor(tmp_path, header="\neffective_from = 2027-03-01")))

    notice = ChangeNotice.objects.get(account__name="Nordic Calls")
    assert (notice.effective_from, notice.objection_until) == (dt.date(2027, 3, 1), dt.date(2027, 2, 18))
    assert notice.catalog_load.effective_from == dt.date(2027, 3, 1)
    assert not notice.applies_before_objection_ends
    assert notice.history.get().history_type == "+"


def test_a_dry_run_records_no_notice_and_sends_nothing(tmp_path: Path, accounts: dict, django_capture_on_commit_callbacks: object) -> None:
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_catalog", str(with_new_sub_processor(tmp_path)), "--dry-run", stdout=out)

    assert "2 account(s) whose residency report would change:" in out.getvalue()
    assert "Applying it records a notice (Art. 28(2)) for 2 account(s): No Contact, Nordic Calls." in out.getvalue()
    assert not ChangeNotice.objects.exists() and not mail.outbox


def test_the_command_says_which_notices_it_recorded_and_who_could_not_be_told(tmp_path: Path, accounts: dict) -> None:
    out = StringIO()

    call_command("load_catalog", str(with_new_sub_processor(tmp_path)), stdout=out)

    assert "2 notice(s) of new sub-processors or transfers recorded (Art. 28(2))" in out.getvalue()
    assert "except No Contact (no privacy contact)." in out.getvalue()
    assert "before the accounts' time to object ends" in out.getvalue()


def test_a_change_that_only_ends_a_transfer_owes_no_notice(tmp_path: Path) -> None:
    AccountFactory(home_region=region("EEA"), products=["freshteam"], privacy_contact_email="p@x.example")
    path = catalog_file(
        tmp_path,
        (
            'categories = ["employee", "candidate", "report", "social"]\nregions = ["US"]',
            'categories = ["employee", "candidate", "report", "social"]\nregions = ["EEA"]',
        ),
    )

    changes = catalog_load(spec=parse_catalog(path))

    assert changes.impact and not ChangeNotice.objects.exists()


def test_notices_are_listed_in_the_api_for_the_keys_own_account_and_in_the_console(tmp_path: Path, accounts: dict) -> None:
    catalog_load(spec=parse_catalog(with_new_sub_processor(tmp_path)))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(accounts['contact'], scopes=['residency:read'])}")

    body = api.get(f"/api/v1/accounts/{accounts['contact'].pk}/notices/").json()
    (notice,) = body["results"] if isinstance(body, dict) else body
    assert notice["catalog_version"] == "2027.01.1" and "new sub-processor: Speechly" in notice["changes"]
    assert api.get(f"/api/v1/accounts/{accounts['silent'].pk}/notices/").status_code == 404

    console = Client()
    console.force_login(UserFactory())
    page = console.get("/admin/residency/changenotice/").content.decode()
    assert "Nordic Calls" in page and "not sent: the account has no privacy contact" in page
    home = console.get("/admin/").content.decode()
    assert "Notices of new sub-processors or transfers not emailed" in home
    unsent = console.get("/admin/residency/changenotice/", {"emailed_at__isempty": "1"})
    assert unsent.status_code == 200 and "No Contact" in unsent.content.decode()


def test_a_notice_whose_email_failed_keeps_the_error_and_is_sent_by_the_retry_command(
    tmp_path: Path, accounts: dict, settings: object, django_capture_on_commit_callbacks: object
) -> None:
    settings.EMAIL_BACKEND = "tests.residency.test_change_notices.BrokenMail"
    with django_capture_on_commit_callbacks(execute=True):
        catalog_load(spec=parse_catalog(with_new_sub_processor(tmp_path)))
    notice = ChangeNotice.objects.get(account__name="Nordic Calls")
    assert notice.emailed_at is None and "relay refused" in notice.email_error
    with pytest.raises(SystemExit):
        call_command("send_change_notices", stdout=StringIO())

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    out = StringIO()
    call_command("send_change_notices", stdout=out)
    call_command("send_change_notices", stdout=StringIO())

    notice.refresh_from_db()
    assert "1 of 1 notice(s) emailed." in out.getvalue()
    assert notice.emailed_at is not None and notice.email_error == ""
    assert [email.to for email in mail.outbox] == [["privacy@nordic.example"]]  # once, not twice


class BrokenMail:
    """An email backend whose relay refuses everything."""

    def __init__(self, **kwargs: object) -> None:
        pass

    def send_messages(self, messages: list) -> int:
        raise OSError("relay refused")


def test_a_key_without_the_residency_scope_cannot_read_the_notices(accounts: dict) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(accounts['contact'], scopes=['requests:create'])}")

    assert api.get(f"/api/v1/accounts/{accounts['contact'].pk}/notices/").status_code == 403


def test_no_one_adds_changes_or_deletes_a_notice_in_the_console(tmp_path: Path, accounts: dict) -> None:
    catalog_load(spec=parse_catalog(with_new_sub_processor(tmp_path)))
    notice = ChangeNotice.objects.first()
    console = Client()
    console.force_login(UserFactory())  # a superuser

    assert console.post(f"/admin/residency/changenotice/{notice.pk}/change/", {"sent_to": "x@y.example"}).status_code == 403
    assert console.post(f"/admin/residency/changenotice/{notice.pk}/delete/", {"post": "yes"}).status_code == 403
    assert console.get("/admin/residency/changenotice/add/").status_code == 403
    assert ChangeNotice.objects.filter(pk=notice.pk, sent_to=notice.sent_to).exists()
