"""The platform's records: API keys, the audit chain of destructive operations and the seals of audit tables.

Both name a customer account, which lives in the catalog app above this one. ``core`` imports nothing of
the apps that stand on it, so the link names the account model through the ``ACCOUNT_MODEL`` setting, as
Django's auth names the user model through ``AUTH_USER_MODEL``: the imports point one way
(``recordings`` → ``dsar`` → ``residency`` → ``core``), and only the database's link points up.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.history import AuditedHistory
from core import roles


def default_scopes() -> list[str]:
    """A new key's scopes: the least, what an intake form needs (see core/roles.py)."""
    return list(roles.default_scopes())


class ApiKeyQuerySet(models.QuerySet):
    def active(self, now: datetime | None = None) -> ApiKeyQuerySet:
        """Keys neither revoked nor expired at ``now`` (default: now)."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class ApiKey(models.Model):
    """A key an integration uses to call the API on behalf of one account.

    Only a SHA-256 digest of the key is stored (the key is 256 random bits, so a slow password hash
    buys nothing); the key itself is shown once, when it is created.
    """

    PREFIX_LENGTH = 8

    account = models.ForeignKey(settings.ACCOUNT_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What uses the key, e.g. 'intake form'.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    scopes = models.JSONField(
        default=default_scopes, editable=False, help_text="What the key may do (see the scopes of core/roles.py)."
    )
    expires_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="Empty: never expires.")
    history = AuditedHistory(excluded_fields=["last_used_at"], table_name="residency_historicalapikey")

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        db_table = "residency_apikey"  # the tables keep the names they had before the platform moved here
        ordering = ["-created_at"]
        verbose_name = "API key"
        permissions = [("manage_api_keys", "Can create and revoke API keys")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def label(self) -> str:
        """How the key appears as an actor in history: its prefix, name and account."""
        return f"api-key {self.prefix} ({self.name}, {self.account.name})"

    @staticmethod
    def digest_of(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @staticmethod
    def generate() -> tuple[str, str]:
        """A new (prefix, raw key) pair; the raw key reads ``pok_<prefix>_<secret>``."""
        prefix = secrets.token_hex(ApiKey.PREFIX_LENGTH // 2)
        return prefix, f"pok_{prefix}_{secrets.token_urlsafe(32)}"

    def matches(self, raw_key: str) -> bool:
        return secrets.compare_digest(self.digest, self.digest_of(raw_key))

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class AuditEntry(models.Model):
    """One link of the audit chain of destructive operations (see :mod:`core.audit`).

    Written only by :func:`core.audit.audit_append` and its batch form; never edited, except that an
    erasure may null a field holding the subject's personal data (``redactions`` says which request did),
    which the chain survives because it is built over the fields' digests.
    """

    class Action(models.TextChoices):
        RECORDING_DELETED = "recording_deleted", "Recording deleted"
        ERASURE_STEP = "erasure_step", "Erasure step"
        HOLD_PLACED = "hold_placed", "Legal hold placed"
        HOLD_RELEASED = "hold_released", "Legal hold released"
        IDENTITY_VERIFIED = "identity_verified", "Identity verified"
        API_KEY_CREATED = "api_key_created", "API key created"
        API_KEY_REVOKED = "api_key_revoked", "API key revoked"
        AUDIT_REDACTED = "audit_redacted", "Personal data redacted from audit entries"
        ERASURE_HIT_REDACTED = "erasure_hit_redacted", "Erasure scan hit redacted"
        ERASURE_HIT_DECLARED = "erasure_hit_declared", "Erasure scan hit declared retained"
        ROWS_SEALED = "rows_sealed", "Audit rows sealed"
        ROWS_SCRUBBED = "rows_scrubbed", "Sealed audit rows scrubbed and sealed again"
        SEAL_BASELINE = "seal_baseline", "Existing audit rows sealed (baseline)"

    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    at = models.DateTimeField(editable=False)
    action = models.CharField(max_length=24, choices=Action.choices, editable=False)
    actor = models.CharField(max_length=150, blank=True, editable=False)
    origin = models.CharField(max_length=16, blank=True, editable=False)
    # A link without a database constraint: the entry must outlive anything it names and never cascade,
    # yet an erasure reaches an account's entries through it, never another account's.
    account = models.ForeignKey(
        settings.ACCOUNT_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, editable=False, related_name="+"
    )
    object_type = models.CharField(max_length=50, editable=False)
    object_id = models.CharField(max_length=64, editable=False)
    data = models.JSONField(default=dict, editable=False)
    digests = models.JSONField(default=dict, editable=False)
    redactions = models.JSONField(default=dict, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        db_table = "residency_auditentry"
        ordering = ["seq"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log (hash chain)"
        permissions = [("verify_audit_chain", "Can verify the audit chain from the console")]
        indexes = [
            models.Index(fields=["account", "seq"], name="residency_a_account_682bcd_idx"),
            models.Index(fields=["object_type", "object_id"], name="residency_a_object__3bc51d_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_action_display()} {self.object_type} {self.object_id}"


class AuditChainHead(models.Model):
    """The chain's last sequence number and hash: one row, locked by every append so appends never fork."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="")

    class Meta:
        db_table = "residency_auditchainhead"


class SealedRow(models.Model):
    """The seal of one row of a sealed table (see :mod:`core.sealing`), or of a run of rows with consecutive ids
    sealed together: the digest of each row as the product wrote it, or as a sanctioned scrub left it, under the
    audit chain entry that anchors it. Append-only; a row sealed again has a newer seal, the one it must match."""

    entry_seq = models.PositiveBigIntegerField(editable=False, help_text="The audit chain entry anchoring the seal.")
    table_name = models.CharField(max_length=63, editable=False)
    row_id = models.BigIntegerField(editable=False, help_text="The row sealed, or the first of the run.")
    digest = models.CharField(max_length=64, editable=False)
    following = models.TextField(
        null=True,
        editable=False,
        help_text="The digests of the rows after row_id in the run (row_id + 1, row_id + 2 …), 64 characters each; "
        "empty for a row sealed alone. A bulk write seals its rows in runs, not one ledger row each.",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry_seq", "row_id"], name="core_sealedrow_entry_row")]
        # A table's rows in id order, each with its seals in chain order: what verification merges with the table.
        indexes = [models.Index(fields=["table_name", "row_id", "entry_seq"], name="core_sealedrow_table_row")]
        verbose_name = "sealed row"

    def __str__(self) -> str:
        rows = len(self.following or "") // 64
        run = f" to {self.row_id + rows}" if rows else ""
        return f"{self.table_name} row {self.row_id}{run} (entry {self.entry_seq})"
