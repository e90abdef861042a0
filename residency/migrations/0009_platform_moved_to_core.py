"""API keys and the audit chain move to the core app: their tables stay, only the models' home changes."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('residency', '0008_account_time_zone_country_audit_account'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='apikey',
                    name='account',
                ),
                migrations.RemoveField(
                    model_name='apikey',
                    name='created_by',
                ),
                migrations.DeleteModel(
                    name='AuditChainHead',
                ),
                migrations.RemoveField(
                    model_name='auditentry',
                    name='account',
                ),
                migrations.RemoveField(
                    model_name='historicalapikey',
                    name='account',
                ),
                migrations.RemoveField(
                    model_name='historicalapikey',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='historicalapikey',
                    name='history_user',
                ),
                migrations.DeleteModel(
                    name='ApiKey',
                ),
                migrations.DeleteModel(
                    name='AuditEntry',
                ),
                migrations.DeleteModel(
                    name='HistoricalApiKey',
                ),
            ],
        ),
    ]
