"""Reads of a user's notifications: the bell's count, the list, the preferences."""

from django.db.models import QuerySet

from .models import Kind, Notification, NotificationPreference


def unread_count(*, user) -> int:
    """The bell: one COUNT over the partial index of unread rows."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def user_notifications(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("read_at", "-created", "-pk")


def email_opt_outs(*, user) -> set[str]:
    """The kinds ``user`` does not want by e-mail (every kind is e-mailed by default)."""
    return set(NotificationPreference.objects.filter(user=user, email=False).values_list("kind", flat=True))


def kind_preferences(*, user) -> list[tuple[str, str, bool]]:
    """(kind, label, e-mailed) for every kind, in the order of ``Kind``."""
    off = email_opt_outs(user=user)
    return [(kind, label, kind not in off) for kind, label in Kind.choices]
