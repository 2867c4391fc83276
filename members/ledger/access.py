"""Who may see and correct ledger entries. The one place that decides it for entries.

An entry is visible when the branch it was booked to lies in the user's scope, or when
its member does now: a member's ledger follows them from branch to branch (the new
secretary sees the whole year), and a member who transferred away stays on the books of
the branch the points were earned in. Anyone else gets 404, as for a missing entry.
Correcting an entry is for those who may write the branch it was booked to.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Q, QuerySet
from django.http import Http404

from branches.access import can_write_unit, user_scope, visible_units
from members.access import visible_members
from members.models import Member

from .models import LedgerEntry


def visible_entries(user) -> QuerySet[LedgerEntry]:
    scope = user_scope(user)
    if scope.is_admin:
        return LedgerEntry.objects.all()
    # ``branch_id IN (units in scope)`` rather than a path match through a join: the
    # planner turns the short unit list into a semi-join on the entry's indexed columns.
    units = visible_units(user).values("pk")
    return LedgerEntry.objects.filter(Q(branch__in=units) | Q(member__branch__in=units))


def can_write_entry(user, entry: LedgerEntry) -> bool:
    return can_write_unit(user, entry.branch)


def get_entry_for_user(user, pk: int, *, write: bool = False) -> LedgerEntry:
    entry = visible_entries(user).select_related("branch", "member__branch", "rule").filter(pk=pk).first()
    if entry is None:
        raise Http404
    if write and not can_write_entry(user, entry):
        raise PermissionDenied
    return entry


def get_ledger_member_for_user(user, pk: int) -> tuple[Member, QuerySet[LedgerEntry]]:
    """A member whose entries the user may list, with those entries: all of them when the
    member is in scope, else only those booked to the user's branches (the old branch of
    a member who transferred away). 404 when the user may see neither."""
    member = visible_members(user).select_related("branch").filter(pk=pk).first()
    if member is not None:
        return member, LedgerEntry.objects.filter(member=member)
    entries = visible_entries(user).filter(member_id=pk)
    member = Member.objects.select_related("branch").filter(Exists(entries), pk=pk).first()
    if member is None:
        raise Http404
    return member, entries
