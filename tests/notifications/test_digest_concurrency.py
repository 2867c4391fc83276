"""Two workers send the digest at the same moment (beat fired twice; PostgreSQL, two
connections): each user still gets one e-mail, since a user's rows are claimed before
anything is sent and a claimed row is never claimed again."""

import asyncio
import datetime
import threading

import pytest
from django.db import connection

from branches.notifications import services
from branches.notifications.generators import notifications_generate
from branches.notifications.models import Notification

from ..conftest import requires_postgres
from .test_digest import Inbox, smtp  # noqa: F401  (the SMTP server fixture)

pytestmark = pytest.mark.django_db(transaction=True)


class SlowInbox(Inbox):
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.2)  # a slow server widens the window between claim and send
        return await super().handle_DATA(server, session, envelope)


def test_two_digests_at_once_mail_each_user_once(tree, users, smtp):  # noqa: F811
    requires_postgres()
    smtp.__class__ = SlowInbox
    for user in (users.secretary, users.other_secretary):
        user.email = f"{user.username}@example.cn"
        user.save()
    notifications_generate(today=datetime.date(2025, 4, 25))
    barrier = threading.Barrier(2)
    results = []

    def send():
        try:
            barrier.wait(timeout=5)
            results.append(services.digest_send())
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(r.sent for r in results) == 2
    assert sorted(rcpt[0] for _f, rcpt, _m in smtp.messages) == ["other_secretary@example.cn", "secretary@example.cn"]
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
