"""One door: personal records leave only through the services that apply legal holds, provider deletion and
the erasure rules. No admin page or API route deletes or edits them around those services."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from dsar.models import Person
from recordings import services
from recordings.models import AnalyticsRow, Call, MonitoringEntry, TextMessage, Ticket
from tests.factories import UserFactory, api_key_for
from tests.recordings.factories import CallFactory, LegalHoldFactory, TicketFactory

pytestmark = pytest.mark.django_db

TELEPHONY_HISTORY = {Call, MonitoringEntry, TextMessage, AnalyticsRow}


def holds_personal_data(model: type) -> bool:
    """The person themselves, or any record linked to a person."""
    return model is Person or any(
        getattr(field, "related_model", None) is Person for field in model._meta.get_fields() if field.concrete
    )


def superuser_request() -> Any:
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(username="root")
    return request


def test_no_admin_page_deletes_a_record_linked_to_a_person_even_for_a_superuser() -> None:
    request = superuser_request()
    checked = []
    for model, model_admin in admin.site._registry.items():
        if holds_personal_data(model):
            checked.append(model.__name__)
            assert not model_admin.has_delete_permission(request), model.__name__
            assert "delete_selected" not in model_admin.get_actions(request), model.__name__

    assert {"Person", "Call", "MonitoringEntry", "TextMessage", "AnalyticsRow", "Ticket", "Request"} <= set(checked)


def test_telephony_history_is_read_only_in_the_console() -> None:
    request = superuser_request()
    for model in TELEPHONY_HISTORY:
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request), model.__name__
        assert not model_admin.has_change_permission(request), model.__name__


def test_a_persons_identifiers_change_only_through_rectification() -> None:
    request = superuser_request()
    person_admin = admin.site._registry[Person]

    readonly = person_admin.get_readonly_fields(request, obj=Person(name="x"))

    assert {"name", "email", "phone", "external_id"} <= set(readonly)
    assert "email" not in person_admin.get_readonly_fields(request, obj=None)  # a new person is typed in


def _api_views() -> list[Any]:
    views = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith("api/"):
                view = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
                if view is not None:
                    views.append(view)

    walk(get_resolver().url_patterns, "")
    return views


def test_the_only_api_routes_that_delete_go_through_the_deletion_services() -> None:
    deleting = {view.__name__ for view in _api_views() if hasattr(view, "delete")}
    editing = {view.__name__ for view in _api_views() if hasattr(view, "put") or hasattr(view, "patch")}

    # RecordingDetailApi calls recording_delete (holds, audit, provider); TicketDetailApi ticket_soft_delete.
    assert deleting == {"RecordingDetailApi", "TicketDetailApi"}
    assert editing == set()


def test_the_admin_delete_page_of_a_call_under_hold_is_refused_and_the_call_stays() -> None:
    call = CallFactory()
    LegalHoldFactory(account=call.account)
    client = Client()
    client.force_login(UserFactory(username="root"))

    response = client.post(f"/admin/recordings/call/{call.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Call.objects.filter(pk=call.pk).exists()


def test_a_held_ticket_cannot_be_soft_deleted_and_the_refusal_names_the_hold() -> None:
    ticket = TicketFactory()
    hold = LegalHoldFactory(account=ticket.account, scope="ticket", ticket=ticket, reason="Dispute 9")

    with pytest.raises(services.TicketHeld, match=f"legal hold #{hold.pk} on ticket #{ticket.pk} \\(Dispute 9\\)"):
        services.ticket_soft_delete(ticket_id=ticket.pk)

    ticket.refresh_from_db()
    assert ticket.deleted_at is None


@pytest.mark.parametrize("way", ["admin", "api"])
def test_deleting_a_held_ticket_is_refused_in_the_console_and_the_api(way: str) -> None:
    ticket = TicketFactory()
    LegalHoldFactory(account=ticket.account, scope="person", person=ticket.requester)
    if way == "admin":
        client = Client()
        client.force_login(UserFactory(username="root"))
        response = client.post(
            "/admin/recordings/ticket/",
            {"action": "soft_delete", "_selected_action": [ticket.pk], "post": "yes", "reason": "Spam"},
            follow=True,
        )
        assert any("cannot be deleted" in str(message) for message in response.context["messages"])
    else:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(ticket.account)}")
        response = client.delete(f"/api/v1/tickets/{ticket.pk}/")
        assert response.status_code == 403 and "legal hold" in response.json()["errors"][0]["detail"]

    assert Ticket.objects.get(pk=ticket.pk).deleted_at is None
