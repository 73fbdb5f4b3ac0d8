"""Indexes for the SLA sweep and status filters (issue 3): lost screenings, running cycles."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0003_default_screening_rules'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='reassessmentrequest',
            index=models.Index(condition=models.Q(('screened_at__isnull', True), ('state', 'submitted')), fields=['submitted_at'], name='rr_unscreened'),
        ),
        migrations.AddIndex(
            model_name='reassessmentrequest',
            index=models.Index(condition=models.Q(('sla_cycle__gt', 0), ('sla_paused_at__isnull', True), ('sla_stopped_at__isnull', True)), fields=['sla_at_risk_at'], name='rr_sla_running'),
        ),
    ]
