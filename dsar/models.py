"""People whose data the platform holds, and the requests they make about it."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from residency.history import AuditedHistory
from residency.models import Account

e164_validator = RegexValidator(r"^\+[1-9]\d{6,14}$", "Enter a phone number in E.164 form, e.g. +46701234567.")


class PersonQuerySet(models.QuerySet):
    def for_account(self, account: Account) -> PersonQuerySet:
        return self.filter(account=account)

    def marketable(self) -> PersonQuerySet:
        """People who may be used for marketing: everyone who has not objected."""
        return self.filter(objected_to_marketing_at__isnull=True)


class Person(models.Model):
    """An end user or agent of a customer account."""

    class Kind(models.TextChoices):
        END_USER = "end_user", "End user"
        AGENT = "agent", "Agent"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="people")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.END_USER)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=16, blank=True, validators=[e164_validator], help_text="E.164, e.g. +46701234567.")
    external_id = models.CharField(max_length=100, blank=True, help_text="The person's id in the support product.")
    created_at = models.DateTimeField(default=timezone.now)
    objected_to_marketing_at = models.DateTimeField(null=True, blank=True)
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
