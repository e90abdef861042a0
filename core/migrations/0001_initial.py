"""The platform's models, moved from the residency app with their tables and data (state only), and their
content types, so that roles keep their permissions on them."""

import core.models
import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models


MOVED = ["apikey", "historicalapikey", "auditentry", "auditchainhead"]


def _relabel(apps, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=source, model__in=MOVED).update(app_label=target)


def move_content_types(apps, schema_editor) -> None:
    _relabel(apps, "residency", "core")


def move_content_types_back(apps, schema_editor) -> None:
    _relabel(apps, "core", "residency")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('residency', '0009_platform_moved_to_core'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditChainHead',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('seq', models.PositiveBigIntegerField(default=0)),
                        ('hash', models.CharField(default='', max_length=64)),
                    ],
                    options={
                        'db_table': 'residency_auditchainhead',
                    },
                ),
                migrations.CreateModel(
                    name='ApiKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(help_text="What uses the key, e.g. 'intake form'.", max_length=100)),
                        ('prefix', models.CharField(editable=False, max_length=8, unique=True)),
                        ('digest', models.CharField(editable=False, max_length=64)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('scopes', models.JSONField(default=core.models.default_scopes, editable=False, help_text='What the key may do (see core/roles.py SCOPES).')),
                        ('expires_at', models.DateTimeField(blank=True, editable=False, help_text='Empty: never expires.', null=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_keys', to='residency.account')),
                        ('created_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'API key',
                        'db_table': 'residency_apikey',
                        'ordering': ['-created_at'],
                        'permissions': [('manage_api_keys', 'Can create and revoke API keys')],
                    },
                ),
                migrations.CreateModel(
                    name='HistoricalApiKey',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('history_origin', models.CharField(choices=[('admin', 'Admin console'), ('api', 'API'), ('command', 'Management command'), ('task', 'Background task'), ('web', 'Web page')], default='command', max_length=16)),
                        ('history_username', models.CharField(blank=True, default='', max_length=150)),
                        ('name', models.CharField(help_text="What uses the key, e.g. 'intake form'.", max_length=100)),
                        ('prefix', models.CharField(db_index=True, editable=False, max_length=8)),
                        ('digest', models.CharField(editable=False, max_length=64)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('revoked_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('scopes', models.JSONField(default=core.models.default_scopes, editable=False, help_text='What the key may do (see core/roles.py SCOPES).')),
                        ('expires_at', models.DateTimeField(blank=True, editable=False, help_text='Empty: never expires.', null=True)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('account', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='residency.account')),
                        ('created_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('history_user', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'historical API key',
                        'verbose_name_plural': 'historical API keys',
                        'db_table': 'residency_historicalapikey',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='AuditEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('seq', models.PositiveBigIntegerField(editable=False, unique=True)),
                        ('at', models.DateTimeField(editable=False)),
                        ('action', models.CharField(choices=[('recording_deleted', 'Recording deleted'), ('erasure_step', 'Erasure step'), ('hold_placed', 'Legal hold placed'), ('hold_released', 'Legal hold released'), ('identity_verified', 'Identity verified'), ('api_key_created', 'API key created'), ('api_key_revoked', 'API key revoked'), ('audit_redacted', 'Personal data redacted from audit entries'), ('erasure_hit_redacted', 'Erasure scan hit redacted'), ('erasure_hit_declared', 'Erasure scan hit declared retained')], editable=False, max_length=24)),
                        ('actor', models.CharField(blank=True, editable=False, max_length=150)),
                        ('origin', models.CharField(blank=True, editable=False, max_length=16)),
                        ('object_type', models.CharField(editable=False, max_length=50)),
                        ('object_id', models.CharField(editable=False, max_length=64)),
                        ('data', models.JSONField(default=dict, editable=False)),
                        ('digests', models.JSONField(default=dict, editable=False)),
                        ('redactions', models.JSONField(default=dict, editable=False)),
                        ('prev_hash', models.CharField(editable=False, max_length=64)),
                        ('hash', models.CharField(editable=False, max_length=64)),
                        ('account', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='residency.account')),
                    ],
                    options={
                        'verbose_name': 'audit entry',
                        'verbose_name_plural': 'audit log (hash chain)',
                        'db_table': 'residency_auditentry',
                        'ordering': ['seq'],
                        'indexes': [models.Index(fields=['account', 'seq'], name='residency_a_account_682bcd_idx'), models.Index(fields=['object_type', 'object_id'], name='residency_a_object__3bc51d_idx')],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
