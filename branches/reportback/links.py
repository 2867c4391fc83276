"""Who may follow a link to a report-back page: each rule calls ``reportback.access`` as
the view does."""

from branches.access import get_unit_for_user
from branches.links import passes, rule

from .access import get_committee_for_user, get_draw_for_user, get_report_for_user, get_session_for_user


@rule("reportback:overview", "reportback:setup", "reportback:month", "reportback:draw")
def _committee(user, *, committee_pk, **_kwargs) -> bool:
    return passes(get_committee_for_user, user, committee_pk)


@rule("reportback:replay", "reportback:notice_pdf")
def _draw(user, *, pk, **_kwargs) -> bool:
    return passes(get_draw_for_user, user, pk)


@rule("reportback:redraw", "reportback:sessions")
def _draw_write(user, *, pk, **_kwargs) -> bool:
    return passes(get_draw_for_user, user, pk, write=True)


@rule("reportback:session")
def _session(user, *, pk, **_kwargs) -> bool:
    return passes(get_session_for_user, user, pk)


@rule("reportback:summary")
def _session_write(user, *, pk, **_kwargs) -> bool:
    return passes(get_session_for_user, user, pk, write=True)


@rule("reportback:report", "reportback:report_file")
def _report(user, *, pk, **_kwargs) -> bool:
    return passes(get_report_for_user, user, pk)


@rule("reportback:upload")
def _report_upload(user, *, pk, **_kwargs) -> bool:
    return passes(get_report_for_user, user, pk, upload=True)


@rule("reportback:comment", "reportback:assess")
def _report_write(user, *, pk, **_kwargs) -> bool:
    return passes(get_report_for_user, user, pk, write=True)


@rule("reportback:unit_history")
def _unit(user, *, pk, **_kwargs) -> bool:
    return passes(get_unit_for_user, user, pk)
