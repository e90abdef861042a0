"""The laws requests are answered under, with their periods. Editable afterwards in the admin."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

JURISDICTIONS = [
    # code, name, period, unit, extension, unit, note
    ("gdpr", "GDPR (EU/EEA)", 1, "months", 2, "months",
     "Art. 12(3): one month of receipt, extendable by two further months where necessary; the person is told "
     "of the extension, with the reasons, within the first month."),
    ("uk-gdpr", "UK GDPR", 1, "months", 2, "months",
     "Art. 12(3) UK GDPR: one month, extendable by two further months; the person is told within the first month."),
    ("ccpa", "CCPA/CPRA (California)", 45, "days", 45, "days",
     "Cal. Civ. Code 1798.130(a)(2): 45 days of receipt, extendable once by 45 more days with notice within the first 45."),
    ("lgpd", "LGPD (Brazil)", 15, "days", 0, "days", "Art. 19(II): 15 days of the request; no extension."),
    ("pipeda", "PIPEDA (Canada)", 30, "days", 30, "days",
     "Principle 4.9 / s. 8(3)-(4): 30 days of receipt, extendable by up to 30 days with notice."),
]


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Jurisdiction = apps.get_model("dsar", "Jurisdiction")
    for code, name, period, unit, extension, extension_unit, note in JURISDICTIONS:
        Jurisdiction.objects.update_or_create(
            code=code,
            defaults={"name": name, "period": period, "period_unit": unit, "extension": extension,
                      "extension_unit": extension_unit, "note": note},
        )


def unseed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Jurisdiction = apps.get_model("dsar", "Jurisdiction")
    Jurisdiction.objects.filter(code__in=[row[0] for row in JURISDICTIONS], requests__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("dsar", "0002_export_exportdownload_historicalexportdownload_and_more")]

    operations = [migrations.RunPython(seed, unseed)]
