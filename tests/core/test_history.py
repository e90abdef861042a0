from __future__ import annotations

import pytest
from django.test import Client

from core.history import Origin, history_context
from residency.models import Account, Region
from residency.services import account_create
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_change_made_outside_a_request_is_attributed_to_a_command() -> None:
    account = account_create(name="Cron-made", home_region=Region.objects.get(code="US"))

    assert set(account.history.values_list("history_origin", flat=True)) == {Origin.COMMAND}


def test_a_background_task_names_itself_in_history() -> None:
    with history_context(origin=Origin.TASK, actor="portability export"):
        account = AccountFactory()

    latest = account.history.latest()
    assert (latest.history_origin, latest.history_username) == (Origin.TASK, "portability export")


def test_an_admin_change_records_the_admin_and_survives_the_deletion_of_their_login() -> None:
    admin_user = UserFactory(username="dpo")
    account = AccountFactory(plan="team")
    client = Client()
    client.force_login(admin_user)

    response = client.post(
        f"/admin/residency/account/{account.pk}/change/",
        {
            "name": account.name,
            "home_region": account.home_region.pk,
            "plan": "enterprise",
            "products": [p.pk for p in account.products.all()],
            "api_keys-TOTAL_FORMS": 0,
            "api_keys-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    admin_user.delete()

    change = Account.history.filter(id=account.pk, plan="enterprise").get()
    assert (change.history_origin, change.history_username, change.history_user_id) == (Origin.ADMIN, "dpo", None)


def test_every_model_of_the_product_keeps_history_with_origin_and_actor() -> None:
    from django.apps import apps

    from core.history import AuditFields

    models = [
        model
        for model in apps.get_models()
        if model._meta.app_label in {"residency", "dsar", "recordings"}
        and not model._meta.proxy
        and not model.__name__.startswith("Historical")
        # The audit chain is append-only evidence itself (core/audit.py), not a record that changes.
        and model.__name__ not in {"AuditEntry", "AuditChainHead"}
    ]
    assert len(models) > 20
    untracked = [model.__name__ for model in models if not issubclass(getattr(model, "history").model, AuditFields)]
    assert untracked == []
