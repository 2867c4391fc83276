"""The daily digest, received by a real SMTP server (aiosmtpd) started in the test: one
e-mail per user with their new unread reminders, in Chinese, the kinds they opted out of
left out, nothing mailed twice however often beat fires."""

import datetime
import email
import socket
from email import policy
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from branches.notifications import services
from branches.notifications.models import Kind, Notification
from branches.notifications.tasks import send_daily_reminders
from branches.services import branch_term_start
from members.models import Member

from .. import factories as f

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 4, 25)  # five days before April ends; 主题党日 (21st) has passed


class Inbox:
    """aiosmtpd's handler: keeps every message it is handed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                email.message_from_bytes(envelope.content, policy=policy.default),
            )
        )
        return "250 Message accepted for delivery"

    def to(self, address: str):
        return [message for _from, rcpt, message in self.messages if address in rcpt]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "党建系统 <partybuild@example.cn>"
    settings.SITE_URL = "https://dangjian.example.cn"
    settings.LANGUAGE_CODE = "zh-hans"
    yield inbox
    controller.stop()


@pytest.fixture
def due(tree, users):
    """On 25 April 2025 BRANCH_A's secretary owes April's meetings, a conversion and a
    term election; PLANT's staff the term; BRANCH_X's secretary April's meetings."""
    users.secretary.email = "secretary@example.cn"
    users.secretary.first_name = "建华"
    users.secretary.last_name = "张"
    users.secretary.save()
    users.committee.email = "committee@example.cn"
    users.committee.save()
    users.other_secretary.email = "other@example.cn"
    users.other_secretary.save()
    f.MemberFactory(
        branch=tree.branch_a,
        name="刘洋",
        status=Member.Status.PROBATIONARY,
        joined_on=datetime.date(2024, 5, 10),
        converted_on=None,
    )
    branch_term_start(branch=tree.branch_a, started_on=datetime.date(2022, 6, 1))
    return users


def test_the_digest_arrives_by_smtp_one_email_per_user_in_chinese(smtp, due):
    result = services.reminders_run_daily(today=TODAY)
    assert result["emails"] == 3
    assert sorted(rcpt[0] for _f, rcpt, _m in smtp.messages) == [
        "committee@example.cn",
        "other@example.cn",
        "secretary@example.cn",
    ]
    [message] = smtp.to("secretary@example.cn")
    assert message["From"] == "党建系统 <partybuild@example.cn>"
    assert message["Subject"] == "党建系统：3 条新提醒"
    body = message.get_content()
    assert "张建华" in body or "建华" in body
    assert "刘洋" in body  # 转正
    assert "换届" in body or "任期" in body
    assert "三会一课" in body or "主题党日" in body
    assert "https://dangjian.example.cn/reminders/" in body
    assert "https://dangjian.example.cn/members/" in body
    [to_committee] = smtp.to("committee@example.cn")
    assert to_committee["Subject"] == "党建系统：1 条新提醒"
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_beat_running_twice_adds_no_rows_and_mails_nobody_twice(smtp, due, time_machine):
    time_machine.move_to(datetime.datetime(2025, 4, 25, 8, tzinfo=ZoneInfo("Asia/Shanghai")))
    send_daily_reminders.apply()
    first = sorted(Notification.objects.values_list("user_id", "kind", "subject", "period", "pk"))
    send_daily_reminders.apply()
    services.reminders_run_daily(today=TODAY)
    services.reminders_run_daily(today=TODAY + datetime.timedelta(days=1))
    assert sorted(Notification.objects.values_list("user_id", "kind", "subject", "period", "pk")) == first
    assert len(smtp.to("secretary@example.cn")) == 1


def test_a_new_reminder_the_next_day_comes_in_a_new_email_with_only_that_one(smtp, due, tree):
    services.reminders_run_daily(today=TODAY)
    f.MemberFactory(
        branch=tree.branch_a,
        name="赵敏",
        status=Member.Status.PROBATIONARY,
        joined_on=datetime.date(2024, 5, 20),
        converted_on=None,
    )
    services.reminders_run_daily(today=TODAY + datetime.timedelta(days=1))
    first, second = smtp.to("secretary@example.cn")
    assert "赵敏" in second.get_content() and "刘洋" not in second.get_content()


def test_kinds_a_user_opted_out_of_are_not_mailed_but_still_shown(smtp, due):
    services.notification_preferences_save(
        user=due.secretary, emailed_kinds={k for k in Kind.values if k != Kind.CONVERSION_DUE}
    )
    services.reminders_run_daily(today=TODAY)
    [message] = smtp.to("secretary@example.cn")
    assert "刘洋" not in message.get_content()
    assert message["Subject"] == "党建系统：2 条新提醒"
    assert Notification.objects.filter(user=due.secretary, kind=Kind.CONVERSION_DUE, read_at__isnull=True).exists()


def test_read_reminders_and_users_without_an_address_are_not_mailed(smtp, due):
    from branches.notifications.generators import notifications_generate

    notifications_generate(today=TODAY)
    services.notifications_mark_all_read(user=due.committee)
    due.other_secretary.email = ""
    due.other_secretary.save()
    result = services.digest_send()
    assert result.sent == 1
    assert [rcpt for _f, rcpt, _m in smtp.messages] == [["secretary@example.cn"]]


def test_a_refused_email_is_tried_again_the_next_run(settings, due):
    from branches.notifications.generators import notifications_generate

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    notifications_generate(today=TODAY)
    result = services.digest_send()
    assert result.sent == 0 and result.failed == 3
    assert not Notification.objects.filter(emailed_at__isnull=False).exists()
