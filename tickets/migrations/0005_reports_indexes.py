# The SLA report (tickets/reports/): see tickets/reports/selectors.py for the queries these serve.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_role_groups'),
        ('tickets', '0004_sla_sweep_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='reassessmentrequest',
            index=models.Index(condition=models.Q(('state__in', ['awaiting_customer', 'in_reevaluation', 'in_review', 'reevaluation_requested', 'submitted'])), fields=['sla_breach_at'], include=('assignee', 'sla_target_at', 'sla_at_risk_at', 'sla_paused_at', 'sla_stopped_at', 'sla_cycle'), name='rr_report_open'),
        ),
        migrations.AddIndex(
            model_name='slacycle',
            index=models.Index(fields=['first_response_at'], name='sla_cycle_first_response'),
        ),
        migrations.AddIndex(
            model_name='slacycle',
            index=models.Index(condition=models.Q(('stopped_at__isnull', True)), fields=['breach_at'], name='sla_cycle_open_breach'),
        ),
    ]
