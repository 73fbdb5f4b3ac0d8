# The admin queue's default page (open requests, most urgent first) as a partial index in that order.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0005_reports_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='reassessmentrequest',
            index=models.Index(condition=models.Q(('state__in', ['awaiting_customer', 'in_reevaluation', 'in_review', 'reevaluation_requested', 'submitted'])), fields=['sla_breach_at', 'submitted_at', 'id'], name='rr_open_queue'),
        ),
    ]
