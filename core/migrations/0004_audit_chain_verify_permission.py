"""Who may verify the audit chain from the console (the privacy officer and the auditor roles get it)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_sealed_rows'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='auditentry',
            options={'ordering': ['seq'], 'permissions': [('verify_audit_chain', 'Can verify the audit chain from the console')], 'verbose_name': 'audit entry', 'verbose_name_plural': 'audit log (hash chain)'},
        ),
    ]
