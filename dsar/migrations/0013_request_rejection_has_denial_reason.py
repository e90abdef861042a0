from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dsar", "0012_reseal_history_denial_reason")]

    operations = [
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(denial_reason=""),
                name="request_rejection_has_denial_reason",
            ),
        ),
    ]
