"""Writes about members. Every change of placement ends one ``Membership`` period and
starts another in the same transaction; nothing here deletes a member or a period."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import BranchTerm, OrgUnit
from branches.services import add_years

from .models import Member, MemberHonour, MemberRole, Membership

MIN_JOINING_AGE = 18
PROBATION_YEARS = 1


def member_validate(
    *,
    birth_date: datetime.date | None,
    joined_on: datetime.date | None,
    status: str | None,
    converted_on: datetime.date | None,
    branch: OrgUnit | None,
    group: OrgUnit | None,
    employee_no: str | None,
    exclude_pk: int | None = None,
    today: datetime.date | None = None,
) -> None:
    """Raise a ``ValidationError`` keyed by field for everything wrong with a member's
    data. Forms, imports and services all go through here, so the rules live once.

    ``None`` for any argument but ``converted_on`` (where it means "no date") skips the
    rules that need that value: the roster import reports a missing or unreadable cell
    itself and still wants every other rule's message at once. The import also passes
    ``employee_no=None``, having checked all its numbers in one query."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if birth_date is not None and birth_date >= today:
        add("birth_date", _("The date of birth must be in the past."))
    if joined_on is not None and joined_on > today:
        add("joined_on", _("The date of joining cannot be in the future."))
    if joined_on is not None and birth_date is not None and joined_on < add_years(birth_date, MIN_JOINING_AGE):
        add("joined_on", _("A member joins the Party at %(age)s or older.") % {"age": MIN_JOINING_AGE})
    if status == Member.Status.FULL and converted_on is None:
        add("converted_on", _("A full member has a date of conversion."))
    if status == Member.Status.PROBATIONARY and converted_on is not None:
        add("converted_on", _("A probationary member has no date of conversion yet."))
    if converted_on is not None:
        if joined_on is not None and converted_on < add_years(joined_on, PROBATION_YEARS):
            add(
                "converted_on",
                _("Conversion comes at the earliest one year after joining (%(date)s).")
                % {"date": add_years(joined_on, PROBATION_YEARS).isoformat()},
            )
        if converted_on > today:
            add("converted_on", _("The date of conversion cannot be in the future."))
    if branch is not None:
        if not branch.is_branch:
            add("branch", _("Members belong to a party branch."))
        if group is not None and (not group.is_group or group.parent_id != branch.pk):
            add(
                "group",
                _("The party group %(group)s does not belong to %(branch)s.") % {"group": group, "branch": branch},
            )
    if employee_no is not None:
        duplicate = Member.objects.filter(employee_no=employee_no)
        if exclude_pk is not None:
            duplicate = duplicate.exclude(pk=exclude_pk)
        if duplicate.exists():
            add("employee_no", _("Employee number %(no)s is already in use.") % {"no": employee_no})
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def member_create(
    *,
    name: str,
    gender: str,
    birth_date: datetime.date,
    employee_no: str,
    branch: OrgUnit,
    status: str,
    joined_on: datetime.date,
    started_on: datetime.date,
    group: OrgUnit | None = None,
    converted_on: datetime.date | None = None,
    phone: str = "",
    ethnicity: str = "",
    post: str = "",
    user: AbstractBaseUser | None = None,
) -> Member:
    member_validate(
        birth_date=birth_date,
        joined_on=joined_on,
        status=status,
        converted_on=converted_on,
        branch=branch,
        group=group,
        employee_no=employee_no,
    )
    member = Member.objects.create(
        name=name,
        gender=gender,
        birth_date=birth_date,
        employee_no=employee_no,
        branch=branch,
        group=group,
        status=status,
        joined_on=joined_on,
        converted_on=converted_on,
        phone=phone,
        ethnicity=ethnicity,
        post=post,
    )
    Membership.objects.create(member=member, branch=branch, group=group, started_on=started_on, recorded_by=user)
    return member


def _lock_open_period(member: Member) -> Membership:
    period = Membership.objects.select_for_update().filter(member=member, ended_on__isnull=True).first()
    if period is None:
        raise ValidationError(_("%(member)s has left and has no open membership.") % {"member": member})
    return period


def _close_period(period: Membership, *, on_date: datetime.date, reason: str, note: str = "") -> None:
    if on_date <= period.started_on:
        raise ValidationError(
            {
                "on_date": _("The date must be after %(date)s, when the current membership began.")
                % {"date": period.started_on.isoformat()}
            }
        )
    period.ended_on = on_date
    period.end_reason = reason
    period.note = note
    period.save(update_fields=["ended_on", "end_reason", "note"])


def _end_roles(member: Member, *, on_date: datetime.date, units: list[OrgUnit] | None = None) -> None:
    """End the member's sitting roles on ``on_date`` (in ``units``, or everywhere)."""
    roles = MemberRole.objects.filter(member=member, ended_on__isnull=True)
    if units is not None:
        roles = roles.filter(unit__in=units)
    # A role that begins after the date cannot end on it: ask for a consistent date
    # rather than let the database's check constraint turn it into a server error.
    later = roles.filter(started_on__gt=on_date).select_related("unit").first()
    if later is not None:
        raise ValidationError(
            {
                "on_date": _("%(member)s holds the role %(role)s from %(date)s; choose a later date.")
                % {"member": member.name, "role": later.get_role_display(), "date": later.started_on.isoformat()}
            }
        )
    roles.update(ended_on=on_date)


@transaction.atomic
def member_update(
    *,
    member: Member,
    name: str,
    gender: str,
    birth_date: datetime.date,
    employee_no: str,
    status: str,
    joined_on: datetime.date,
    group: OrgUnit | None = None,
    converted_on: datetime.date | None = None,
    phone: str = "",
    ethnicity: str = "",
    post: str = "",
    user: AbstractBaseUser | None = None,
) -> Member:
    """Edit a member's own data. A change of party group is a placement change: it ends
    the current period today and starts a new one, so group history stays exact."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if not member.is_active:
        raise ValidationError(_("%(member)s has left; their record can no longer be edited.") % {"member": member})
    member_validate(
        birth_date=birth_date,
        joined_on=joined_on,
        status=status,
        converted_on=converted_on,
        branch=member.branch,
        group=group,
        employee_no=employee_no,
        exclude_pk=member.pk,
    )
    if (group.pk if group else None) != member.group_id:
        today = timezone.localdate()
        period = _lock_open_period(member)
        if period.started_on == today:
            # Re-placed twice in one day: correct today's period instead of a zero-length one.
            period.group = group
            period.save(update_fields=["group"])
        else:
            _close_period(period, on_date=today, reason=Membership.EndReason.GROUP_CHANGE)
            Membership.objects.create(
                member=member, branch=member.branch, group=group, started_on=today, recorded_by=user
            )
        if member.group_id is not None:
            _end_roles(member, on_date=today, units=[member.group])
    for field, value in {
        "name": name,
        "gender": gender,
        "birth_date": birth_date,
        "employee_no": employee_no,
        "status": status,
        "joined_on": joined_on,
        "group": group,
        "converted_on": converted_on,
        "phone": phone,
        "ethnicity": ethnicity,
        "post": post,
    }.items():
        setattr(member, field, value)
    member.save()
    return member


@transaction.atomic
def member_transfer(
    *,
    member: Member,
    to_branch: OrgUnit,
    on_date: datetime.date,
    to_group: OrgUnit | None = None,
    note: str = "",
    user: AbstractBaseUser | None = None,
) -> Membership:
    """组织关系转接 within the system: end the period in the old branch on ``on_date``
    and start one in the new branch the same day. Roles in the old branch end too."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if not to_branch.is_branch or not to_branch.is_active:
        raise ValidationError({"to_branch": _("Choose an active party branch.")})
    if to_branch.pk == member.branch_id:
        raise ValidationError({"to_branch": _("The member already belongs to this branch.")})
    if to_group is not None and to_group.parent_id != to_branch.pk:
        raise ValidationError(
            {
                "to_group": _("The party group %(group)s does not belong to %(branch)s.")
                % {"group": to_group, "branch": to_branch}
            }
        )
    period = _lock_open_period(member)
    _close_period(period, on_date=on_date, reason=Membership.EndReason.TRANSFER, note=note)
    old_units = [member.branch] + ([member.group] if member.group else [])
    _end_roles(member, on_date=on_date, units=old_units)
    new_period = Membership.objects.create(
        member=member, branch=to_branch, group=to_group, started_on=on_date, note=note, recorded_by=user
    )
    member.branch = to_branch
    member.group = to_group
    member.save(update_fields=["branch", "group", "updated_at"])
    return new_period


@transaction.atomic
def member_leave(
    *,
    member: Member,
    on_date: datetime.date,
    reason: str,
    note: str = "",
    user: AbstractBaseUser | None = None,
) -> Member:
    """Record that a member left (转出, 去世, 出党 …). The record and its history stay."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if reason in (Membership.EndReason.TRANSFER, Membership.EndReason.GROUP_CHANGE):
        raise ValidationError({"reason": _("Use a transfer to move a member between branches.")})
    period = _lock_open_period(member)
    _close_period(period, on_date=on_date, reason=reason, note=note)
    _end_roles(member, on_date=on_date)
    member.left_on = on_date
    member.save(update_fields=["left_on", "updated_at"])
    return member


@transaction.atomic
def member_role_assign(
    *,
    member: Member,
    unit: OrgUnit,
    role: str,
    started_on: datetime.date,
    term: BranchTerm | None = None,
) -> MemberRole:
    if not member.is_active:
        raise ValidationError(_("%(member)s has left.") % {"member": member})
    if role == MemberRole.Role.GROUP_LEADER:
        if not unit.is_group or member.group_id != unit.pk:
            raise ValidationError({"member": _("A group leader must be a member of that party group.")})
    else:
        if not unit.is_branch or member.branch_id != unit.pk:
            raise ValidationError({"member": _("A committee member must belong to the branch.")})
    try:
        with transaction.atomic():
            return MemberRole.objects.create(member=member, unit=unit, role=role, started_on=started_on, term=term)
    except IntegrityError:
        raise ValidationError(
            {
                "role": _("%(role)s is already held in %(unit)s; end it first.")
                % {"role": MemberRole.Role(role).label, "unit": unit}
            }
        ) from None


@transaction.atomic
def member_role_end(*, role: MemberRole, ended_on: datetime.date) -> MemberRole:
    role = MemberRole.objects.select_for_update().get(pk=role.pk)
    if role.ended_on is not None:
        raise ValidationError(_("This role has already ended."))
    if ended_on < role.started_on:
        raise ValidationError({"ended_on": _("A role cannot end before it started.")})
    role.ended_on = ended_on
    role.save(update_fields=["ended_on"])
    return role


@transaction.atomic
def member_honour_award(
    *,
    member: Member,
    kind: str,
    awarded_on: datetime.date,
    title: str = "",
    stars: int | None = None,
    user: AbstractBaseUser | None = None,
) -> MemberHonour:
    if stars is not None and not 1 <= stars <= 5:
        raise ValidationError({"stars": _("Stars run from 1 to 5.")})
    if kind in (MemberHonour.Kind.MODEL_POST, MemberHonour.Kind.RESPONSIBILITY_AREA) and stars is None:
        raise ValidationError({"stars": _("A model post or responsibility area carries 1 to 5 stars.")})
    return MemberHonour.objects.create(
        member=member, kind=kind, title=title, stars=stars, awarded_on=awarded_on, recorded_by=user
    )


@transaction.atomic
def member_honour_revoke(*, honour: MemberHonour, revoked_on: datetime.date, reason: str) -> MemberHonour:
    honour = MemberHonour.objects.select_for_update().get(pk=honour.pk)
    if honour.revoked_on is not None:
        raise ValidationError(_("This honour has already been revoked."))
    if revoked_on < honour.awarded_on:
        raise ValidationError({"revoked_on": _("An honour cannot be revoked before it was awarded.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    honour.revoked_on = revoked_on
    honour.revoked_reason = reason.strip()
    honour.save(update_fields=["revoked_on", "revoked_reason"])
    return honour
