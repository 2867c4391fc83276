"""Demo reminders: the generators run for each of the last seven mornings, as beat would
have at 08:00, so the demo logins open a bell with something in it."""

import datetime

from django.db.models import Count

from .generators import notifications_generate
from .models import Notification

DAYS = 7


def seed_notifications(*, today: datetime.date) -> dict[str, int]:
    """Run every generator for the week up to ``today`` (idempotent, as in production).
    Returns the notifications per kind that exist afterwards."""
    for back in range(DAYS - 1, -1, -1):
        notifications_generate(today=today - datetime.timedelta(days=back))
    return dict(Notification.objects.values_list("kind").annotate(n=Count("pk")).order_by())
