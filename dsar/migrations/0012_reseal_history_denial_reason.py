"""Migration 0011 gave every request a denial reason, a test flag and an erasure grace end: the sealed history
rows it filled are sealed again under one audit-chain entry saying so (a row changed otherwise is left, and still
reported). Requests rejected before denial reasons existed get "other": their words stay in ``status_reason``."""

from django.db import migrations


def forward(apps, schema_editor):
    # The sealed table's real model: sealing reads the registry the app fills when it is ready.
    from core.sealing import reseal_added_columns
    from dsar.models import Request

    Request.objects.filter(status="rejected", denial_reason="").update(denial_reason="other")
    reseal_added_columns(
        Request.history.model,
        ["denial_reason", "is_test", "grace_ends_at"],
        reason="Migration dsar.0011 added the request's denial reason, test flag and erasure grace end to its past versions",
    )


class Migration(migrations.Migration):
    dependencies = [("dsar", "0011_privacy_center")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
