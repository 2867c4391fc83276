"""Writes to the organisation tree. Views and commands call these; nothing else saves
an ``OrgUnit`` or ``BranchTerm`` directly, so paths and terms stay consistent."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import BranchTerm, BranchTitle, CommitteeMonth, MonthEvent, OrgUnit, RoleBinding
from .selectors import TRACKED_CACHE, tracked_from_of


def add_years(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _check_parent(kind: str, parent: OrgUnit | None) -> None:
    allowed = OrgUnit.ALLOWED_PARENTS[OrgUnit.Kind(kind)]
    parent_kind = parent.kind if parent is not None else None
    if parent_kind not in allowed:
        raise ValidationError(
            _("A %(kind)s cannot be placed under %(parent)s.")
            % {
                "kind": OrgUnit.Kind(kind).label,
                "parent": OrgUnit.Kind(parent_kind).label if parent_kind else _("the root"),
            }
        )


@transaction.atomic
def org_unit_create(
    *,
    kind: str,
    name: str,
    code: str,
    parent: OrgUnit | None = None,
    brand: str = "",
    tier: str = "",
    established_on: datetime.date | None = None,
    sort_order: int = 0,
) -> OrgUnit:
    _check_parent(kind, parent)
    if tier and kind != OrgUnit.Kind.BRANCH:
        raise ValidationError(_("Only a party branch has a tier."))
    if OrgUnit.objects.filter(code=code).exists():
        raise ValidationError({"code": _("The code %(code)s is already in use.") % {"code": code}})
    unit = OrgUnit(
        kind=kind,
        name=name,
        code=code,
        parent=parent,
        brand=brand,
        tier=tier,
        established_on=established_on,
        sort_order=sort_order,
        path="",
        depth=parent.depth + 1 if parent else 0,
    )
    unit.save()
    # The path needs the primary key, which exists only after the insert.
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    OrgUnit.objects.filter(pk=unit.pk).update(path=unit.path)
    return unit


@transaction.atomic
def org_unit_move(*, unit: OrgUnit, new_parent: OrgUnit) -> OrgUnit:
    """Re-hang a unit and its whole subtree with one UPDATE of the paths."""
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    if new_parent.path.startswith(unit.path):
        raise ValidationError(_("A unit cannot be moved under itself."))
    _check_parent(unit.kind, new_parent)
    old_prefix = unit.path
    new_prefix = f"{new_parent.path}{unit.pk}/"
    delta = new_parent.depth + 1 - unit.depth
    OrgUnit.objects.filter(path__startswith=old_prefix).update(
        path=Concat(Value(new_prefix), Substr("path", len(old_prefix) + 1)),
        depth=F("depth") + delta,
    )
    OrgUnit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.refresh_from_db()
    return unit


@transaction.atomic
def org_unit_update(
    *,
    unit: OrgUnit,
    name: str,
    brand: str,
    brand_description: str,
    sort_order: int,
    tier: str | None = None,
) -> OrgUnit:
    """Edit a unit's own attributes. ``tier`` is None when the editor may not change it."""
    unit.name = name
    unit.brand = brand
    unit.brand_description = brand_description
    unit.sort_order = sort_order
    fields = ["name", "brand", "brand_description", "sort_order", "updated_at"]
    if tier is not None:
        if tier and not unit.is_branch:
            raise ValidationError(_("Only a party branch has a tier."))
        unit.tier = tier
        fields.append("tier")
    unit.save(update_fields=fields)
    return unit


@transaction.atomic
def committee_tracking_set(*, committee: OrgUnit, tracked_from: datetime.date | None) -> OrgUnit:
    """Set the first month the system tracks ``committee`` (None: inherit from above).
    Refused when a month it would leave untracked has already been published (closed),
    for the committee or a committee below that inherits the setting: a published
    ranking must keep counting."""
    if not committee.is_committee:
        raise ValidationError(_("Only a party committee has a first tracked month."))
    tracked_from = tracked_from.replace(day=1) if tracked_from else None
    committee.tracked_from = tracked_from
    committee.__dict__.pop(TRACKED_CACHE, None)
    # Committees below that set their own month do not inherit, nor does anything under them.
    own = list(
        OrgUnit.objects.filter(path__startswith=committee.path, tracked_from__isnull=False)
        .exclude(pk=committee.pk)
        .values_list("path", flat=True)
    )
    inheriting = [
        c
        for c in OrgUnit.objects.filter(path__startswith=committee.path, kind=OrgUnit.Kind.COMMITTEE)
        if not any(c.path.startswith(p) for p in own)
    ]
    effective = tracked_from
    if effective is None:
        effective = tracked_from_of(unit=committee)
    if effective is not None:
        closed = (
            CommitteeMonth.objects.filter(
                committee__in=inheriting, month__lt=effective, state=CommitteeMonth.State.CLOSED
            )
            .select_related("committee")
            .order_by("month")
            .first()
        )
        if closed is not None:
            raise ValidationError(
                {
                    "tracked_from": _(
                        "%(month)s of %(committee)s has a published ranking: tracking cannot begin after it."
                    )
                    % {"month": month_label(closed.month), "committee": closed.committee.name}
                }
            )
    committee.save(update_fields=["tracked_from", "updated_at"])
    return committee


@transaction.atomic
def branch_term_start(
    *,
    branch: OrgUnit,
    started_on: datetime.date,
    length_years: int = 3,
    note: str = "",
    user: AbstractBaseUser | None = None,
) -> BranchTerm:
    """Begin a new term (换届): the open term closes the day the new one starts."""
    if not branch.is_branch:
        raise ValidationError(_("Only a party branch has terms."))
    if not 3 <= length_years <= 5:
        raise ValidationError({"length_years": _("A term lasts 3 to 5 years.")})
    current = BranchTerm.objects.select_for_update().filter(branch=branch, closed_on__isnull=True).first()
    if current is not None:
        if started_on <= current.started_on:
            raise ValidationError(
                {
                    "started_on": _("The new term must start after the current one (%(date)s).")
                    % {"date": current.started_on.isoformat()}
                }
            )
        current.closed_on = started_on
        current.save(update_fields=["closed_on"])
    last_number = (
        BranchTerm.objects.filter(branch=branch).order_by("-number").values_list("number", flat=True)
    ).first()
    return BranchTerm.objects.create(
        branch=branch,
        number=(last_number or 0) + 1,
        started_on=started_on,
        length_years=length_years,
        ends_on=add_years(started_on, length_years),
        note=note,
        created_by=user,
    )


@transaction.atomic
def branch_title_award(
    *,
    branch: OrgUnit,
    kind: str,
    awarded_on: datetime.date,
    user: AbstractBaseUser | None = None,
) -> BranchTitle:
    if not branch.is_branch:
        raise ValidationError(_("Only a party branch can hold a title."))
    if BranchTitle.objects.filter(branch=branch, kind=kind, withdrawn_on__isnull=True).exists():
        raise ValidationError(_("The branch already holds this title."))
    return BranchTitle.objects.create(branch=branch, kind=kind, awarded_on=awarded_on, awarded_by=user)


@transaction.atomic
def branch_title_withdraw(
    *,
    title: BranchTitle,
    withdrawn_on: datetime.date,
    reason: str,
    user: AbstractBaseUser | None = None,
) -> BranchTitle:
    """摘牌: the title stays on record with the date, reason and who withdrew it."""
    title = BranchTitle.objects.select_for_update().get(pk=title.pk)
    if title.withdrawn_on is not None:
        raise ValidationError(_("This title has already been withdrawn."))
    if withdrawn_on < title.awarded_on:
        raise ValidationError({"withdrawn_on": _("A title cannot be withdrawn before it was awarded.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for withdrawing the title.")})
    title.withdrawn_on = withdrawn_on
    title.withdrawn_reason = reason.strip()
    title.withdrawn_by = user
    title.save(update_fields=["withdrawn_on", "withdrawn_reason", "withdrawn_by"])
    return title


@transaction.atomic
def role_binding_create(*, user: AbstractBaseUser, role: str, unit: OrgUnit | None) -> RoleBinding:
    if role == RoleBinding.Role.SECRETARY and (
        unit is None or unit.kind not in (OrgUnit.Kind.BRANCH, OrgUnit.Kind.GENERAL_BRANCH)
    ):
        raise ValidationError(_("A secretary is bound to a branch or general branch."))
    if role == RoleBinding.Role.COMMITTEE_STAFF and (unit is None or not unit.is_committee):
        raise ValidationError(_("Committee staff are bound to a party committee."))
    binding, _created = RoleBinding.objects.get_or_create(user=user, role=role, unit=unit)
    return binding


def month_label(month: datetime.date) -> str:
    """A month as the active language writes it: "2026年9月", "September 2026"."""
    return date_format(month, "YEAR_MONTH_FORMAT")


MONTH_LOCK_NAMESPACE = 0x3A0E  # the first key of the month-state advisory locks


def month_lock_base(month: datetime.date) -> int:
    """The committee-month lock's key less the committee's part: the key is this plus
    ``committee id << 17`` (so SQL can add a committee id it looks up itself)."""
    return (MONTH_LOCK_NAMESPACE << 40) + (month.year * 12 + month.month - 1) % (1 << 17)


def _lock_month_state(committee: OrgUnit, month: datetime.date, *, shared: bool) -> None:
    """Writers take the committee-month's lock shared (they never wait for each other);
    closing takes it exclusively, so it waits for writes in flight to commit, and a
    write that starts after the close sees the month closed. SQLite serialises anyway."""
    if connection.vendor != "postgresql":
        return
    key = month_lock_base(month) + (committee.pk << 17)
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [key])


def month_assert_open(*, unit: OrgUnit, month: datetime.date) -> None:
    """Refuse a write that touches a closed month of ``unit``'s committee. Call it
    inside the write's transaction: it holds the month's shared lock until commit."""
    from .selectors import committee_for, month_is_closed

    committee = committee_for(unit=unit)
    if committee is not None:
        _lock_month_state(committee, month, shared=True)
    if committee is not None and month_is_closed(committee=committee, month=month):
        raise month_closed_error(committee=committee, month=month)


def month_closed_error(*, committee: OrgUnit, month: datetime.date) -> ValidationError:
    """The refusal of a write to a closed month (``month_assert_open``)."""
    return ValidationError(
        _("%(month)s is closed for %(committee)s: its ranking has been published. Ask the committee to reopen it.")
        % {"month": month_label(month), "committee": committee.name}
    )


@transaction.atomic
def month_close(
    *, committee: OrgUnit, month: datetime.date, user: AbstractBaseUser | None = None, reason: str = ""
) -> CommitteeMonth:
    if not committee.is_committee:
        raise ValidationError(_("Months are closed per party committee."))
    _lock_month_state(committee, month, shared=False)
    row, _created = CommitteeMonth.objects.select_for_update().get_or_create(
        committee=committee, month=month.replace(day=1)
    )
    if row.state == CommitteeMonth.State.CLOSED:
        raise ValidationError(_("%(month)s is already closed.") % {"month": month_label(row.month)})
    row.state = CommitteeMonth.State.CLOSED
    row.save(update_fields=["state", "changed_at"])
    MonthEvent.objects.create(committee_month=row, action=MonthEvent.Action.CLOSE, reason=reason, user=user)
    return row


@transaction.atomic
def month_reopen(
    *, committee: OrgUnit, month: datetime.date, reason: str, user: AbstractBaseUser | None = None
) -> CommitteeMonth:
    """Reopening a published month is an act of its own, with a reason on record."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for reopening the month.")})
    row = CommitteeMonth.objects.select_for_update().filter(committee=committee, month=month.replace(day=1)).first()
    if row is None or row.state != CommitteeMonth.State.CLOSED:
        raise ValidationError(_("%(month)s is not closed.") % {"month": month_label(month)})
    row.state = CommitteeMonth.State.OPEN
    row.save(update_fields=["state", "changed_at"])
    MonthEvent.objects.create(committee_month=row, action=MonthEvent.Action.REOPEN, reason=reason.strip(), user=user)
    return row
