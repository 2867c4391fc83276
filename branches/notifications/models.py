"""In-app reminders (the bell) and who wants them by e-mail.

A notification is keyed by (user, kind, subject, period): the generators insert with
ON CONFLICT DO NOTHING, so beat firing twice, or a day's reminder repeated tomorrow,
never gives a second row. ``subject`` names what it is about ("branch:12", "term:3",
"member:40"), ``period`` the occasion ("2026-11" for a month, a due date) — both as
text, so this app keeps no foreign keys into the apps it reads.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    THEMED_DAY = "themed_day", _("Themed party day coming")
    REQUIREMENTS_DUE = "requirements_due", _("Meetings still due this month")
    TERM_EXPIRING = "term_expiring", _("Term ending (换届)")
    CONVERSION_DUE = "conversion_due", _("Full membership due (转正)")
    TALK_DUE = "talk_due", _("Talk with a bottom-three branch due")
    MEMBER_TALK_FOLLOW_UP = "member_talk_follow_up", _("Follow-up of a talk with a member due")
    MILESTONE_DUE = "milestone_due", _("Project milestone due")
    REPORTBACK_DRAWN = "reportback_drawn", _("Drawn to report back (月述职)")


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=60)
    period = models.CharField(_("period"), max_length=20)
    # Written in the installation's language when generated: the e-mail and the list
    # show the same words.
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Set when the daily digest claims the row, before it sends: a re-run mails nothing twice.
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "subject", "period"], name="notification_once"),
        ]
        indexes = [
            # The bell: unread rows of one user.
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="notification_unread"),
            # The digest: rows not yet mailed.
            models.Index(fields=["user"], condition=models.Q(emailed_at__isnull=True), name="notification_unmailed"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """A user's choice for one kind; without a row the kind is e-mailed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    email = models.BooleanField(_("by e-mail"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")]

    def __str__(self) -> str:
        return f"{self.user} · {self.kind} · {self.email}"
