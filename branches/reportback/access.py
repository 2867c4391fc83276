"""Who may see and run a report-back. The one place that decides it.

* The committee's staff (and administrators) see its setup, matrix, draws, sessions
  and scores, and run them (draw, redraw, sessions, comments, scores).
* A unit of the pool (its secretary, or staff of a sub-committee in the pool) sees the
  draws it was a candidate in (so it can replay them), its own sessions and its own
  report-backs with their comments and scores, and may upload its own report; it runs
  nothing (403).
* Anyone else gets 404, as for a record that does not exist.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from branches.access import Role, can_write_unit, user_scope
from branches.models import OrgUnit

from .models import Draw, Report, Session


def can_run(user, committee: OrgUnit) -> bool:
    scope = user_scope(user)
    return scope.is_admin or scope.contains(committee, Role.COMMITTEE_STAFF)


def _sees_any(user, unit_ids) -> bool:
    scope = user_scope(user)
    if scope.is_empty:
        return False
    paths = OrgUnit.objects.filter(pk__in=list(unit_ids)).values_list("path", flat=True)
    return any(scope.contains(OrgUnit(path=path)) for path in paths)


def get_committee_for_user(user, committee_pk: int) -> OrgUnit:
    """The committee if the user runs its report-back; 404 otherwise."""
    committee = OrgUnit.objects.filter(pk=committee_pk, kind=OrgUnit.Kind.COMMITTEE).first()
    if committee is None or not can_run(user, committee):
        raise Http404
    return committee


def get_draw_for_user(user, pk: int, *, write: bool = False) -> Draw:
    """A draw for its committee's staff, or for a unit that was a candidate (read)."""
    draw = Draw.objects.select_related("setup__committee", "started_by", "superseded_by").filter(pk=pk).first()
    if draw is None:
        raise Http404
    if can_run(user, draw.setup.committee):
        return draw
    candidates = {unit_id for ids in draw.candidates.values() for unit_id in ids}
    if not _sees_any(user, candidates):
        raise Http404
    if write:
        raise PermissionDenied
    return draw


def get_session_for_user(user, pk: int, *, write: bool = False) -> Session:
    """A session for its committee's staff, or for a unit reporting in it (read)."""
    session = Session.objects.select_related("draw__setup__committee").filter(pk=pk).first()
    if session is None:
        raise Http404
    if can_run(user, session.draw.setup.committee):
        return session
    if not _sees_any(user, session.reports.values_list("unit_id", flat=True)):
        raise Http404
    if write:
        raise PermissionDenied
    return session


def get_report_for_user(user, pk: int, *, write: bool = False, upload: bool = False) -> Report:
    """A unit's report-back for its committee's staff or the unit itself (read, and
    ``upload`` its report); comments and scores (``write``) are the committee's."""
    report = (
        Report.objects.select_related("draw__setup__committee", "unit", "session", "category", "uploaded_by")
        .filter(pk=pk)
        .first()
    )
    if report is None:
        raise Http404
    if can_run(user, report.draw.setup.committee):
        return report
    if not user_scope(user).contains(report.unit):
        raise Http404
    if write or (upload and not can_write_unit(user, report.unit)):
        raise PermissionDenied
    return report
