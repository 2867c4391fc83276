"""Writes: reading notifications, the e-mail preferences, and the daily digest."""

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from .generators import notifications_generate
from .models import Kind, Notification, NotificationPreference

logger = logging.getLogger(__name__)


@transaction.atomic
def notification_mark_read(*, notification: Notification) -> bool:
    """True when this marked it (an already read one keeps its first reading time)."""
    return bool(Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now()))


@transaction.atomic
def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def notification_preferences_save(*, user, emailed_kinds: set[str]) -> None:
    """One row per kind: e-mailed or not."""
    unknown = set(emailed_kinds) - set(Kind.values)
    if unknown:
        raise ValueError(f"unknown kinds: {sorted(unknown)}")
    for kind in Kind.values:
        NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"email": kind in emailed_kinds})


@dataclass
class DigestResult:
    sent: int = 0  # e-mails
    notifications: int = 0  # notifications in them
    failed: int = 0  # e-mails the backend refused (their rows are left for the next run)


def digest_send(*, now: datetime.datetime | None = None) -> DigestResult:
    """One e-mail per user with their unread notifications not mailed before, of the
    kinds they did not opt out of; users without an address are skipped.

    Each user's rows are claimed first (a conditional UPDATE of ``emailed_at``, committed
    before sending): a second run, or a second worker racing this one, finds nothing
    left to claim, so nobody is mailed twice. When the SMTP server refuses, the claim is
    released and tomorrow's run tries again."""
    now = now or timezone.now()
    opted_out = NotificationPreference.objects.filter(user=OuterRef("user"), kind=OuterRef("kind"), email=False)
    pending = (
        Notification.objects.filter(read_at__isnull=True, emailed_at__isnull=True, user__is_active=True)
        .exclude(user__email="")
        .exclude(Exists(opted_out))
        .select_related("user")
        .order_by("user_id", "created", "pk")
    )
    by_user: dict[int, list[Notification]] = defaultdict(list)
    for notification in pending:
        by_user[notification.user_id].append(notification)
    result = DigestResult()
    for rows in by_user.values():
        user = rows[0].user
        with transaction.atomic():
            claimed_ids = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(pk__in=[n.pk for n in rows], emailed_at__isnull=True, read_at__isnull=True)
                .values_list("pk", flat=True)
            )
            Notification.objects.filter(pk__in=claimed_ids).update(emailed_at=now)
        claimed = [n for n in rows if n.pk in set(claimed_ids)]
        if not claimed:
            continue
        try:
            _digest_message(user, claimed).send()
        except Exception:
            logger.exception("daily digest to user %s failed; released for the next run", user.pk)
            Notification.objects.filter(pk__in=claimed_ids, emailed_at=now).update(emailed_at=None)
            result.failed += 1
            continue
        result.sent += 1
        result.notifications += len(claimed)
    return result


def _digest_message(user, notifications: list[Notification]) -> EmailMultiAlternatives:
    with translation.override(settings.LANGUAGE_CODE):
        count = len(notifications)
        subject = ngettext("partybuild: %(count)s new reminder", "partybuild: %(count)s new reminders", count) % {
            "count": count
        }
        context = {
            "user": user,
            "notifications": notifications,
            "site_url": getattr(settings, "SITE_URL", "").rstrip("/"),
            # Chinese order: family name first (张建华).
            "greeting": gettext("Hello %(name)s,") % {"name": f"{user.last_name}{user.first_name}" or user.username},
        }
        text = render_to_string("notifications/digest.txt", context)
    return EmailMultiAlternatives(subject=subject, body=text, to=[user.email])


def reminders_run_daily(*, today: datetime.date | None = None) -> dict:
    """Beat's 08:00 job: every generator for today, then the digest of what is new."""
    today = today or timezone.localdate()
    generated = notifications_generate(today=today)
    digest = digest_send()
    return {"generated": generated, "emails": digest.sent, "failed": digest.failed}
