"""The roles again: the privacy officer enters and updates the privacy centers and the Data Rights Protocol's agents."""

from django.db import migrations

from core.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("dsar", "0014_drp_agent_token_and_request_id"),
        ("recordings", "0011_drop_deletion_claim"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
