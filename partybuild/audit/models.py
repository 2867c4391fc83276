"""The audit trail: one pghistory event table per tracked model, written by PostgreSQL
triggers (``tracking.py``), so saves, ``QuerySet.update()``, bulk writes and raw SQL are
all recorded with the request, task or command that made them (``context.py``).

The tracked models are proxies declared here, so the triggers and event tables live in
this app's migrations and the apps that own the models need no change. Each event row
holds the row as it was after the change (before it, for a delete), ``pgh_diff`` with
the before/after value of every changed column, when, and ``pgh_context`` → the
request's user, user name, address and path, or the Celery task, or the management
command. The event tables are append-only (pghistory's ``Protect`` triggers refuse
UPDATE and DELETE); ``pghistory_context`` refuses DELETE and any change to a value it
already recorded (migration 0002).

On SQLite (the embedded demo) the migrations create the tables but install no trigger:
nothing is recorded, and the audit page says so. Production runs on PostgreSQL
(``settings.py`` refuses to start otherwise).
"""

from dataclasses import dataclass, field

import pghistory
from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext_lazy as _
from pghistory.models import Event

from branches.grading.models import AnnualGrade, Publication, ScoreInput
from branches.models import BranchTitle, CommitteeMonth, OrgUnit, RoleBinding
from members.ledger.models import MeetingRequirement, Rule, RuleSet, RuleSetVersion, ScoreItem

from . import tracking

User = get_user_model()


class AuditEvent(Event):
    """What every event table has besides pghistory's own columns."""

    pgh_diff = models.JSONField(null=True)

    class Meta:
        abstract = True
        indexes = [
            models.Index(fields=["pgh_created_at", "pgh_id"], name="%(class)s_at"),
        ]


@dataclass(frozen=True)
class Tracked:
    """How one model is tracked: its proxy here, the event model, and what the page shows."""

    key: str
    model: type[models.Model]
    event_model: type[models.Model]
    related: tuple[str, ...] = ()
    hidden: tuple[str, ...] = field(default_factory=tuple)
    name: str = ""

    @property
    def verbose_name(self) -> str:
        return self.name or self.model._meta.verbose_name


TRACKED: dict[str, Tracked] = {}


def track(
    proxy: type[models.Model],
    key: str,
    *,
    ignored: tuple[str, ...] = (),
    hidden: tuple[str, ...] = (),
    related: tuple[str, ...] = (),
    update: bool = True,
    name: str = "",
) -> None:
    """Install insert/update/delete triggers on ``proxy``'s table writing to ``<Key>Event``.

    ``ignored`` columns (timestamps the row keeps) neither fire an update event nor appear
    in the diff; ``hidden`` columns (the password hash) fire it but are never copied.
    """
    concrete = proxy._meta.concrete_model
    names = [f.name for f in concrete._meta.local_concrete_fields]
    watched = [n for n in names if n not in ignored and concrete._meta.get_field(n).column not in ignored]
    trackers = [tracking.Insert(ignored=ignored, hidden=hidden)]
    if update:
        trackers.append(tracking.Update(ignored=ignored, hidden=hidden, condition=pghistory.AnyChange(*watched)))
    trackers.append(tracking.Delete(ignored=ignored, hidden=hidden))
    event_model = pghistory.create_event_model(
        proxy,
        *trackers,
        exclude=list(hidden),
        model_name=proxy.__name__.removesuffix("Audit") + "Event",
        app_label="audit",
        abstract=False,
        base_model=AuditEvent,
        append_only=True,
        # Read by object and by context (the user filter): both indexed, unlike the
        # foreign keys copied from the row (settings.PGHISTORY_FOREIGN_KEY_FIELD).
        obj_field=pghistory.ObjForeignKey(related_name="+", db_index=True),
        context_field=pghistory.ContextForeignKey(db_index=True),
    )
    TRACKED[key] = Tracked(key=key, model=concrete, event_model=event_model, related=related, hidden=hidden, name=name)


# --- who may do what --------------------------------------------------------------------


class UserAudit(User):
    class Meta:
        proxy = True


class UserGroupAudit(User.groups.through):
    class Meta:
        proxy = True


class UserPermissionAudit(User.user_permissions.through):
    class Meta:
        proxy = True


class RoleBindingAudit(RoleBinding):
    class Meta:
        proxy = True


# --- the scheme -----------------------------------------------------------------------------


class RuleSetAudit(RuleSet):
    class Meta:
        proxy = True


class RuleSetVersionAudit(RuleSetVersion):
    class Meta:
        proxy = True


class RuleAudit(Rule):
    class Meta:
        proxy = True


class ScoreItemAudit(ScoreItem):
    class Meta:
        proxy = True


class MeetingRequirementAudit(MeetingRequirement):
    class Meta:
        proxy = True


# --- the numbers and their publication ------------------------------------------------------


class ScoreInputAudit(ScoreInput):
    class Meta:
        proxy = True


class PublicationAudit(Publication):
    class Meta:
        proxy = True


class CommitteeMonthAudit(CommitteeMonth):
    class Meta:
        proxy = True


class AnnualGradeAudit(AnnualGrade):
    class Meta:
        proxy = True


# --- titles and tiers -----------------------------------------------------------------------


class BranchTitleAudit(BranchTitle):
    class Meta:
        proxy = True


class OrgUnitAudit(OrgUnit):
    class Meta:
        proxy = True


track(UserAudit, "user", ignored=("last_login",), hidden=("password",))
track(UserGroupAudit, "user_group", related=("user", "group"), update=False, name=_("user's group"))
track(UserPermissionAudit, "user_permission", related=("user", "permission"), update=False, name=_("user's permission"))
track(RoleBindingAudit, "role_binding", related=("user", "unit"))
track(RuleSetAudit, "rule_set", related=("committee",))
track(RuleSetVersionAudit, "rule_set_version", related=("rule_set",))
track(RuleAudit, "rule")
track(ScoreItemAudit, "score_item")
track(MeetingRequirementAudit, "meeting_requirement")
track(ScoreInputAudit, "score_input", ignored=("entered_at",), related=("branch", "item"))
track(PublicationAudit, "publication", related=("committee",))
track(CommitteeMonthAudit, "committee_month", ignored=("changed_at",), related=("committee",))
track(AnnualGradeAudit, "annual_grade", related=("branch",))
track(BranchTitleAudit, "branch_title", related=("branch",))
# A move rewrites the paths of a whole subtree in one UPDATE: the moved unit's new parent
# is the change; the paths and depths below it follow from it.
track(OrgUnitAudit, "org_unit", ignored=("path", "depth", "updated_at"))
