
import django.db.models.deletion
import residency.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('residency', '0007_residency_as_evidence'),
    ]

    operations = [
        # The audit entry's account becomes a link (no constraint, no cascade) over the same column: the
        # state changes, the table does not.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name='auditentry',
                    name='residency_a_account_682bcd_idx',
                ),
                migrations.RemoveField(
                    model_name='auditentry',
                    name='account_id',
                ),
                migrations.AddField(
                    model_name='auditentry',
                    name='account',
                    field=models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='residency.account'),
                ),
                migrations.AddIndex(
                    model_name='auditentry',
                    index=models.Index(fields=['account', 'seq'], name='residency_a_account_682bcd_idx'),
                ),
            ],
        ),
        migrations.AddField(
            model_name='account',
            name='country',
            field=models.CharField(blank=True, help_text="ISO 3166 code of the controller's country (e.g. SE): how national phone numbers are read and which public holidays move a deadline. Empty: none (numbers only in international form, weekends only).", max_length=2, validators=[residency.models.validate_country]),
        ),
        migrations.AddField(
            model_name='account',
            name='time_zone',
            field=models.CharField(blank=True, help_text="IANA name (e.g. Europe/Stockholm): the day a request is received on. Empty: the home region's.", max_length=64, validators=[residency.models.validate_time_zone]),
        ),
        migrations.AddField(
            model_name='historicalaccount',
            name='country',
            field=models.CharField(blank=True, help_text="ISO 3166 code of the controller's country (e.g. SE): how national phone numbers are read and which public holidays move a deadline. Empty: none (numbers only in international form, weekends only).", max_length=2, validators=[residency.models.validate_country]),
        ),
        migrations.AddField(
            model_name='historicalaccount',
            name='time_zone',
            field=models.CharField(blank=True, help_text="IANA name (e.g. Europe/Stockholm): the day a request is received on. Empty: the home region's.", max_length=64, validators=[residency.models.validate_time_zone]),
        ),
    ]
