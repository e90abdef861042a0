"""Factories shared by the test packages. The catalog itself is real: conftest loads it in every test DB."""

from __future__ import annotations

from collections.abc import Iterable

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from core import roles
from core.services import api_key_create
from dsar.models import Person
from residency.models import Account, Integration, Product, Region


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    is_staff = True
    is_superuser = True
    password = factory.django.Password("correct horse battery staple")


class AccountFactory(factory.django.DjangoModelFactory):
    """An account in a catalog region. ``products`` and ``integrations`` take slugs."""

    class Meta:
        model = Account
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Account {n}")
    home_region = factory.LazyFunction(lambda: Region.objects.get(code="EEA"))
    plan = Account.Plan.PROFESSIONAL

    @factory.post_generation
    def products(self, create: bool, slugs: list[str] | None, **kwargs: object) -> None:
        self.products.set(Product.objects.filter(slug__in=slugs if slugs is not None else ["freshdesk"]))

    @factory.post_generation
    def integrations(self, create: bool, slugs: list[str] | None, **kwargs: object) -> None:
        if slugs:
            self.integrations.set(Integration.objects.filter(slug__in=slugs))


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    account = factory.SubFactory(AccountFactory)
    kind = Person.Kind.END_USER
    name = factory.Sequence(lambda n: f"Ingrid Zetterlund{n}")
    email = factory.Sequence(lambda n: f"ingrid.zetterlund{n}@example.org")
    phone = factory.Sequence(lambda n: f"+4670555{n:04d}")


def region(code: str) -> Region:
    return Region.objects.get(code=code)


def api_key_for(account: Account, name: str = "integration", scopes: Iterable[str] | None = None) -> str:
    """A new raw API key for ``account``, with every scope unless ``scopes`` are given."""
    return api_key_create(account=account, name=name, scopes=list(roles.scopes()) if scopes is None else scopes)[1]


def role_console(role: str | None) -> Client:
    """The console logged in as a member of ``role`` only (its login named after it: "privacy-officer"), or, with
    no role, as a staff login holding no permission ("nobody")."""
    user = UserFactory(username=(role or "nobody").lower().replace(" ", "-"), is_superuser=False)
    if role:
        user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client
