"""The console's platform pages and the base classes every app's admin stands on.

- :class:`HistoryAdmin`: a model's history with who made each change and from where, never written back.
- :func:`posted_changes`: what a POST would change of the fields a change form shows read-only.
- :class:`ReadOnlyAdmin`: evidence and records from elsewhere, shown but never added, edited or deleted.
- :class:`LargeTableAdmin`: a changelist that stays fast at millions of rows.
- :class:`HistoryColumns`, :class:`WhenFilter`, :class:`OriginFilter`: an audit list's "When", "Who" and "From".
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from core import audit_pages
from core.confirmation import Confirmation, confirmation_page, confirmed, rows_of
from core.dashboard import COUNT_CAP
from core.history import ORIGIN_WORDS, origin_words
from core.models import ApiKey, AuditEntry
from core.roles import default_scopes, scope_choices
from core.services import api_key_create, api_key_revoke
from core.titles import object_title


class HistoryAdmin(SimpleHistoryAdmin):
    """Every model's admin shows its history: when, who, from where (console, API…), what and why. A past
    version is shown read-only: its values as text, no form fields, no links to add, change or delete related
    rows."""

    object_history_list_template = "admin/core/object_history_list.html"

    def history_view_title(self, request: HttpRequest, obj: Any) -> str:
        return f"History of {object_title(obj)}"

    def history_form_view_title(self, request: HttpRequest, obj: Any) -> str:
        return f"{object_title(obj)} as it was"

    def render_history_view(self, request: HttpRequest, template: str, context: dict, **kwargs: Any) -> HttpResponse:
        if template == self.object_history_form_template:
            context = self._version_read_only(request, context)
        return super().render_history_view(request, template, context, **kwargs)

    def _version_read_only(self, request: HttpRequest, context: dict) -> dict:
        """The version page's context with its form replaced by the same fields, every one read-only."""
        version = context["original"]
        fieldsets = self.get_fieldsets(request, version)
        empty_form = forms.modelform_factory(type(version), fields=[])(instance=version)
        shown = helpers.AdminForm(empty_form, fieldsets, {}, flatten_fieldsets(fieldsets), model_admin=self)
        record = getattr(version, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None)  # the historical row it was read from
        title = context["title"]
        if record is not None:
            title = f"{title} on {date_format(timezone.localtime(record.history_date), 'DATETIME_FORMAT')}"
        return {
            **context,
            "title": title,
            "adminform": shown,
            "errors": helpers.AdminErrorList(empty_form, []),
            "media": self.media + shown.media,
            "has_add_permission": False,
            "has_change_permission": False,
            "has_delete_permission": False,
            "change_history": False,
            "revert_disabled": True,
            "history_version": True,
        }

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        # SIMPLE_HISTORY_REVERT_DISABLED only hides the button: a posted form would still restore the
        # version (a purged ticket, an erased person). History is shown, never written back.
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class WhenFilter(admin.DateFieldListFilter):
    """A date filter headed "When"."""

    template = "admin/core/titled_filter.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = "when"


class OriginFilter(admin.FieldListFilter):
    """Where the change was made from, headed "From" and in words (console, API…), whatever labels the column's
    choices carry."""

    template = "admin/core/titled_filter.html"

    def __init__(self, field: Any, request: HttpRequest, params: dict, model: Any, model_admin: Any, field_path: str) -> None:
        self.lookup_kwarg = f"{field_path}__exact"
        self.lookup_val = params.get(self.lookup_kwarg)
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = "from"

    def expected_parameters(self) -> list[str]:
        return [self.lookup_kwarg]

    def choices(self, changelist: Any) -> Iterable[dict[str, Any]]:
        yield {
            "selected": self.lookup_val is None,
            "query_string": changelist.get_query_string(remove=[self.lookup_kwarg]),
            "display": "All",
        }
        for value, words in ORIGIN_WORDS.items():
            yield {
                "selected": self.lookup_val is not None and value in self.lookup_val,
                "query_string": changelist.get_query_string({self.lookup_kwarg: value}),
                "display": words,
            }


class HistoryColumns:
    """An audit list of history rows (a deletions log) in the team's words: "When", "Who", "From"."""

    @admin.display(description="when", ordering="history_date")
    def when(self, row: Any) -> Any:
        return row.history_date

    @admin.display(description="who", ordering="history_username")
    def who(self, row: Any) -> str:
        return row.history_username or "-"

    @admin.display(description="from", ordering="history_origin")
    def from_where(self, row: Any) -> str:
        return origin_words(row.history_origin)


def posted_changes(model_admin: admin.ModelAdmin, request: HttpRequest, obj: Any, names: Iterable[str]) -> list[str]:
    """Of ``names``, fields ``obj``'s change form shows read-only, those the POST would change anyway: a change the
    page did not offer (a page opened before a legal hold was placed, or a forged form). The posted values are
    read by the admin's own form fields for them, so an unchanged value sent back by a stale page is no change."""
    names = [name for name in names if any(key == name or key.startswith(f"{name}_") for key in request.POST)]
    if not names:
        return []
    probe = forms.modelform_factory(
        type(obj), fields=names, formfield_callback=partial(model_admin.formfield_for_dbfield, request=request)
    )
    form = probe(request.POST, request.FILES, instance=obj)
    for field in form.fields.values():
        # Compared with the stored row, not with the value the page says it showed (a callable default's hidden input).
        field.show_hidden_initial = False
    return list(form.changed_data)


class CappedCountPaginator(Paginator):
    """A paginator for tables of millions of rows: it counts at most ``CAP`` matching rows (a bounded
    ``COUNT`` over ``LIMIT CAP + 1``), never the whole table. Past the cap, an unfiltered list on PostgreSQL
    takes the planner's estimate of the table's size; otherwise it says "more than CAP"."""

    CAP = COUNT_CAP

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        counted = rows.order_by()[: self.CAP + 1].count()
        self.capped = counted > self.CAP
        self.estimated = False
        if self.capped and connections[rows.db].vendor == "postgresql" and not rows.query.where:
            with connections[rows.db].cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [rows.model._meta.db_table])
                estimate = cursor.fetchone()[0]
            if estimate > counted:
                self.estimated = True
                return int(estimate)
        return counted


class ReadOnlyAdmin(admin.ModelAdmin):
    """Evidence and records from elsewhere: shown, never added, edited or deleted through the console."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LargeTableAdmin(admin.ModelAdmin):
    """A changelist that stays fast at millions of rows: a bounded count (see :class:`CappedCountPaginator`), no
    second count of the whole table, related rows joined in the page's one query, and dates filtered by
    indexed ranges (no ``date_hierarchy``, which reads every distinct day)."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    date_hierarchy = None


class ApiKeyAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=scope_choices,
        initial=default_scopes,
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may do. The default is what an intake form needs; grant more only as needed.",
    )
    expires_at = forms.DateTimeField(required=False, help_text="Empty: the key works until it is revoked.")

    class Meta:
        model = ApiKey
        fields = ["account", "name"]

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise ValidationError("The expiry must be in the future.")
        return expires_at


@admin.register(ApiKey)
class ApiKeyAdmin(HistoryAdmin):
    list_display = ["name", "account", "prefix", "scope_list", "created_at", "created_by", "last_used_at", "status"]
    list_filter = ["account", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "account__name"]
    readonly_fields = [
        "account", "name", "prefix", "scope_list", "created_at", "created_by", "expires_at", "last_used_at", "revoked_at"
    ]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_manage_api_keys_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A key is revoked (audited, kept as the record of who could call the API), never deleted.
        return False

    def has_manage_api_keys_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("core.manage_api_keys")

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
            kwargs["fields"] = ["account", "name"]
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj else []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj else ["account", "name", "scopes", "expires_at"]

    @admin.display(description="scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes)

    @admin.display(description="status", boolean=False)
    def status(self, key: ApiKey) -> str:
        if key.revoked_at:
            return f"revoked {key.revoked_at:%Y-%m-%d}"
        if key.is_expired():
            return f"expired {key.expires_at:%Y-%m-%d}"
        return "active"

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            return
        key, raw = api_key_create(
            account=obj.account,
            name=obj.name,
            created_by=request.user,
            scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data.get("expires_at"),
        )
        obj.pk = key.pk
        messages.warning(
            request,
            format_html(
                "API key for {}: <code>{}</code> — copy it now, it is not stored and will not be shown again.",
                key.account,
                raw,
            ),
        )

    @admin.action(description="Revoke selected API keys", permissions=["manage_api_keys"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if not confirmed(request):
            return confirmation_page(self, request, Confirmation(
                title="Revoke these API keys?",
                happens=["Each key stops working at once: every call made with it is refused from now on."],
                cannot_be_undone="a revoked key is never active again; the integration needs a new key.",
                rows=rows_of(queryset.select_related("account"), lambda key: [key.account, key.prefix, self.status(key)]),
                columns=["Account", "Prefix", "Status"],
            ))
        for key in queryset.select_related("account"):
            if api_key_revoke(key=key, user=request.user):
                self.message_user(request, f"Revoked {key}.", messages.SUCCESS)
            else:
                self.message_user(request, f"{key} was already revoked.", messages.INFO)
        return None


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin, LargeTableAdmin):
    """The audit chain, read-only and newest first: entries are appended by the product; "Verify now" (and
    ``verify_audit_log``) checks them (core/audit_pages.py)."""

    ordering = ["-seq"]
    list_display = ["seq", "when", "action", "who", "from_where", "account_id", "object", "redacted"]
    list_display_links = ["seq", "when"]
    list_filter = ["action", ("origin", OriginFilter), ("at", WhenFilter)]
    search_fields = ["=object_id", "=account_id", "actor"]
    fieldsets = [
        (None, {"fields": ["seq", "when", "action", "who", "from_where", "account_id", "object", "details"]}),
        ("Place in the chain", {"classes": ["collapse"], "fields": ["previous_hash", "entry_hash"]}),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]
    change_list_template = "admin/core/auditentry/change_list.html"

    @admin.display(description="#", ordering="seq")
    def seq(self, entry: AuditEntry) -> int:
        return entry.seq

    @admin.display(description="when", ordering="at")
    def when(self, entry: AuditEntry) -> Any:
        return entry.at

    @admin.display(description="who", ordering="actor")
    def who(self, entry: AuditEntry) -> str:
        return entry.actor or "-"

    @admin.display(description="from", ordering="origin")
    def from_where(self, entry: AuditEntry) -> str:
        return origin_words(entry.origin)

    @admin.display(description="about")
    def object(self, entry: AuditEntry) -> str:
        return f"{entry.object_type} {entry.object_id}"

    @admin.display(description="what was recorded")
    def details(self, entry: AuditEntry) -> str:
        return audit_pages.entry_details(entry)

    @admin.display(description="hash of the entry before")
    def previous_hash(self, entry: AuditEntry) -> str:
        return audit_pages.short_hash(entry.prev_hash)

    @admin.display(description="hash of this entry")
    def entry_hash(self, entry: AuditEntry) -> str:
        return audit_pages.short_hash(entry.hash)

    @admin.display(description="redacted", boolean=True)
    def redacted(self, entry: AuditEntry) -> bool:
        return bool(entry.redactions)

    def get_urls(self) -> list[URLPattern]:
        verify = path("verify/", self.admin_site.admin_view(audit_pages.verify_view), name="core_auditentry_verify")
        return [verify, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "may_verify": audit_pages.may_verify(request)}
        return super().changelist_view(request, extra_context)
