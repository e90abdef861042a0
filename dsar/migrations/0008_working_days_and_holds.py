from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

#: Laws whose periods end on the next working day when they end on a weekend or public holiday: the EU's
#: Regulation 1182/71 Art. 3(4), which the EDPB and the ICO apply to Art. 12(3).
WORKING_DAY_LAWS = ("gdpr", "uk-gdpr")


def working_days(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("dsar", "Jurisdiction").objects.filter(code__in=WORKING_DAY_LAWS).update(moves_to_working_day=True)


class Migration(migrations.Migration):

    dependencies = [
        ('dsar', '0007_request_page_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicaljurisdiction',
            name='moves_to_working_day',
            field=models.BooleanField(default=False, help_text="A deadline falling on a Saturday, Sunday or public holiday of the account's country moves to the next working day (GDPR: Regulation 1182/71, Art. 3(4))."),
        ),
        migrations.AddField(
            model_name='historicalrequest',
            name='due_note',
            field=models.CharField(blank=True, help_text='Why the deadline is not the plain count (a weekend or a holiday).', max_length=200),
        ),
        migrations.AddField(
            model_name='historicalrequest',
            name='held',
            field=models.JSONField(blank=True, default=list, editable=False, help_text="What an erasure left under someone else's legal hold (by hold), erased when the hold ends."),
        ),
        migrations.AddField(
            model_name='jurisdiction',
            name='moves_to_working_day',
            field=models.BooleanField(default=False, help_text="A deadline falling on a Saturday, Sunday or public holiday of the account's country moves to the next working day (GDPR: Regulation 1182/71, Art. 3(4))."),
        ),
        migrations.AddField(
            model_name='request',
            name='due_note',
            field=models.CharField(blank=True, help_text='Why the deadline is not the plain count (a weekend or a holiday).', max_length=200),
        ),
        migrations.AddField(
            model_name='request',
            name='held',
            field=models.JSONField(blank=True, default=list, editable=False, help_text="What an erasure left under someone else's legal hold (by hold), erased when the hold ends."),
        ),
        migrations.RunPython(working_days, migrations.RunPython.noop),
    ]
