"""No dead ends on the request page: a button shows only when its action can succeed, with the services' own reason
otherwise; a code read out on the phone can be typed in; a refused change of a person names its field; archives and
scans read as tables and sizes, not raw JSON."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from dsar import services
from dsar.models import ErasureProgress, Export, Request, RequestEvent, VerificationCode
from tests.dsar.factories import CaptureOnCommit, PersonFactory, make_request, staff
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
REQUESTS = "/admin/dsar/request/"


def actions_of(client: Client, request: Request) -> str:
    page = client.get(f"{REQUESTS}{request.pk}/change/").content.decode()
    return page[page.index('class="request-actions"') : page.index("</section>", page.index('class="request-actions"'))]


def test_a_law_without_extension_shows_no_extend_button_but_says_why(officer: Client) -> None:
    lgpd = make_request(type="access", jurisdiction="lgpd")
    gdpr = make_request(type="access", jurisdiction="gdpr")

    assert 'value="extend"' not in actions_of(officer, lgpd)
    assert "allows no extension" in actions_of(officer, lgpd)
    assert 'value="extend"' in actions_of(officer, gdpr)


def test_complete_is_not_offered_before_verification_and_says_why(officer: Client) -> None:
    request = make_request(type="access", verified=False)

    actions = actions_of(officer, request)

    assert 'value="complete"' not in actions and "not verified yet" in actions
    assert 'value="verify"' in actions


def test_send_code_is_not_offered_for_a_person_without_email(officer: Client) -> None:
    request = make_request(PersonFactory(email="", phone="+46701234567"), type="access", verified=False)

    actions = actions_of(officer, request)

    assert 'value="send_code"' not in actions and "no email on record" in actions


def test_a_closed_request_offers_no_action_and_no_list_of_reasons(officer: Client) -> None:
    request = make_request(type="access")
    services.request_reject(request=request, reason="Unfounded", denial_reason="other", actor=staff())

    page = officer.get(f"{REQUESTS}{request.pk}/change/").content.decode()

    assert 'name="_request_action"' not in page and 'class="blocked-action"' not in page


def test_the_officer_types_in_the_code_the_person_reads_out_wrong_codes_counted(
    officer: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(PersonFactory(email="ulla@example.net"), type="access", verified=False)
    code = re.search(r"Your code is (\d{6})", mail.outbox[-1].body).group(1)
    url = f"{REQUESTS}{request.pk}/verify-code/"
    assert f'action="{url}"' in officer.get(f"{REQUESTS}{request.pk}/change/").content.decode()

    looked = officer.get(url)
    wrong = officer.post(url, {"code": "000000" if code != "000000" else "111111"}, follow=True)

    assert looked.status_code == 302 and Request.objects.get(pk=request.pk).verified_at is None
    assert any("The code is wrong" in str(message) for message in wrong.context["messages"])
    assert VerificationCode.objects.get(request=request, used_at__isnull=True).attempts == 1
    assert request.events.filter(kind=RequestEvent.Kind.CODE_FAILED).count() == 1
    officer.post(url, {"code": code})
    request.refresh_from_db()
    assert request.verified_at is not None and request.verification_method == "code"


def test_a_person_moved_to_an_account_where_their_external_id_is_taken_gets_an_error_on_the_account() -> None:
    client = Client()
    client.force_login(staff("officer"))
    other = AccountFactory()
    PersonFactory(account=other, external_id="u-1")
    person = PersonFactory(external_id="u-1")

    response = client.post(f"/admin/dsar/person/{person.pk}/change/", {"account": other.pk, "kind": person.kind})

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "account" in errors and "external id" in " ".join(errors["account"])
    person.refresh_from_db()
    assert person.account_id != other.pk


def test_archives_and_erasure_steps_show_sizes_and_counts_as_tables(officer: Client) -> None:
    portability = make_request(type="portability")
    Export.objects.create(request=portability, status=Export.Status.READY, size=1_234_567, counts={"tickets": 12})
    erasure = make_request()
    ErasureProgress.objects.create(request=erasure, step=1, source="recordings", counts={"calls": 3, "voicemails": 1})

    archive = officer.get(f"{REQUESTS}{portability.pk}/change/").content.decode()
    steps = officer.get(f"{REQUESTS}{erasure.pk}/change/").content.decode()

    assert "1.2\xa0MB" in archive and "<td>Tickets</td><td>12</td>" in archive and '{"tickets"' not in archive
    assert "<td>Calls</td><td>3</td>" in steps and '{"calls"' not in steps
