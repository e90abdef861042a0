"""Migration 0009 gave every past version of a request a language (English): the sealed history rows it filled
are sealed again, under one audit-chain entry saying so, so that verification does not report them as changed
outside the product. A row that had been changed otherwise is left as it is, and still reported."""

from django.db import migrations


def reseal(apps, schema_editor):
    # The sealed table's real model: sealing reads the registry the app fills when it is ready, and writes the
    # ledger and the chain as the product does.
    from core.sealing import reseal_added_column
    from dsar.models import Request

    reseal_added_column(
        Request.history.model,
        "language",
        reason="Migration dsar.0009 added the request's language (English) to its past versions",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("dsar", "0009_request_language"),
        ("core", "0004_audit_chain_verify_permission"),
    ]

    operations = [migrations.RunPython(reseal, migrations.RunPython.noop)]
