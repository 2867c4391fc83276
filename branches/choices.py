"""Vocabulary shared by the apps above ``branches`` (activities, ledger, grading).

It lives at the bottom layer so that the ledger's rules can name activity kinds and
attendance statuses without depending on the activities app.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityKind(models.TextChoices):
    GENERAL_MEETING = "general_meeting", _("Branch general meeting")
    COMMITTEE_MEETING = "committee_meeting", _("Branch committee meeting")
    GROUP_MEETING = "group_meeting", _("Party group meeting")
    PARTY_LECTURE = "party_lecture", _("Party lecture")
    THEMED_DAY = "themed_day", _("Themed Party day")
    ORG_LIFE_MEETING = "org_life_meeting", _("Organisational life meeting")
    DEMOCRATIC_REVIEW = "democratic_review", _("Democratic review of members")
    TRAINING = "training", _("Study and training")
    VOLUNTEER = "volunteer", _("Volunteer or shock-team work")
    OTHER = "other", _("Other activity")


# 三会一课 and 主题党日: the meetings whose attendance earns organisational-life points.
MEETING_KINDS = (
    ActivityKind.GENERAL_MEETING,
    ActivityKind.COMMITTEE_MEETING,
    ActivityKind.GROUP_MEETING,
    ActivityKind.PARTY_LECTURE,
    ActivityKind.THEMED_DAY,
)
# Kinds whose class hours count towards the yearly training requirement.
CLASS_HOUR_KINDS = (ActivityKind.TRAINING, ActivityKind.PARTY_LECTURE)


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Present")
    LATE = "late", _("Late")
    EXCUSED = "excused", _("Excused")
    ABSENT = "absent", _("Absent")


ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


class Dimension(models.TextChoices):
    """The five dimensions of a branch's monthly score (PRODUCT.md appendix). Rule-set
    versions weigh them and may split an entered one into scored sub-items."""

    BASICS = "basics", _("Basic work")
    COMMITTEE_WORK = "committee_work", _("Committee work")
    PRODUCTION = "production", _("Production and operations")
    MEMBERSHIP = "membership", _("Membership building")
    OTHER = "other", _("Other work")


# Dimensions that only the committee can score; the other two are computed unless a
# version says the committee enters them too (``basics_entered``, ``membership_entered``).
ALWAYS_ENTERED = (Dimension.COMMITTEE_WORK, Dimension.PRODUCTION, Dimension.OTHER)
