"""Report-back pages: thin — access → selectors/services → template."""

import datetime
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.access import get_unit_for_user
from branches.converters import month_in_range, year_in_range
from branches.downloads import file_response
from branches.forms import call_service
from branches.models import OrgUnit
from branches.pages import stored_file_response
from branches.services import month_label

from . import drawing, selectors, services
from .access import can_run, get_committee_for_user, get_draw_for_user, get_report_for_user, get_session_for_user
from .forms import (
    SLOTS,
    AssessForm,
    CommentForm,
    PlacementForm,
    RedrawForm,
    SessionForm,
    SetupForm,
    SummaryForm,
    UploadForm,
)
from .models import DEFAULT_THEMES, Assessment, Draw, Report, add_months


def _month(year: int, month: int) -> datetime.date:
    if not 1 <= month <= 12 or not year_in_range(year):
        raise Http404
    return datetime.date(year, month, 1)


def _holds(month: datetime.date, months: int) -> bool:
    """Whether the system holds ``month`` and the ``months`` after it."""
    try:
        return month_in_range(month) and month_in_range(add_months(month, months))
    except ValueError:  # past year 9999
        return False


@login_required
def overview(request, committee_pk: int):
    """The setup at a glance and the cycle matrix (units × months) of the cycle that
    holds ``?month=YYYY-MM`` (default: this month)."""
    committee = get_committee_for_user(request.user, committee_pk)
    setup = selectors.setup_of(committee=committee)
    if setup is None:
        return render(request, "reportback/overview.html", {"committee": committee, "setup": None})
    today = timezone.localdate().replace(day=1)
    try:
        month = datetime.datetime.strptime(request.GET.get("month", ""), "%Y-%m").date()
    except ValueError:
        month = today
    # A month the system holds, and a cycle whose months it holds too.
    month = max(month if _holds(month, setup.cycle_months) else today, setup.cycle_start)
    months, rows = selectors.cycle_matrix(setup=setup, month=month)
    report_ids = [pk for row in rows for pk in row.cells if pk]
    scores = selectors.scores_of(reports=Report.objects.filter(pk__in=report_ids))
    drawn_months = set(
        Draw.objects.filter(setup=setup, state=Draw.State.STANDING, month__in=months).values_list("month", flat=True)
    )
    number, start, _position = setup.cycle_of(month)
    context = {
        "committee": committee,
        "setup": setup,
        "categories": list(setup.categories.all()),
        "months": [(m, m in drawn_months) for m in months],
        "rows": [(row, [(pk, scores.get(pk)) if pk else None for pk in row.cells]) for row in rows],
        "left": sum(
            1
            for row in rows
            if not row.reported
            and row.pool.joins_from <= start
            and (row.pool.unit.dissolved_on is None or row.pool.unit.dissolved_on > timezone.localdate())
        ),
        "cycle_number": number + 1,
        "previous_cycle": add_months(start, -setup.cycle_months) if start > setup.cycle_start else None,
        "next_cycle": add_months(start, setup.cycle_months) if _holds(start, 2 * setup.cycle_months) else None,
    }
    return render(request, "reportback/overview.html", context)


@login_required
def setup_edit(request, committee_pk: int):
    committee = get_committee_for_user(request.user, committee_pk)
    setup = selectors.setup_of(committee=committee)
    units = list(selectors.eligible_units(committee=committee))
    names = {c.sort_order: c.name for c in setup.categories.all()} if setup else {}
    if setup is not None:
        initial = {
            "cycle_start": setup.cycle_start,
            "cycle_months": setup.cycle_months,
            "draw_day": setup.draw_day,
            "scoring": setup.scoring,
            **{f"theme_q{q}": setup.theme_for(datetime.date(2000, q * 3, 1)) for q in (1, 2, 3, 4)},
            **{f"cat{c.sort_order}_name": c.name for c in setup.categories.all()},
            **{f"cat{c.sort_order}_quota": c.quota for c in setup.categories.all()},
            **{f"unit_{p.unit_id}": p.category.sort_order for p in setup.pool.select_related("category")},
        }
    else:
        initial = {
            "cycle_start": timezone.localdate().replace(day=1),
            **{f"theme_q{q}": theme for q, theme in DEFAULT_THEMES.items()},
        }
    form = SetupForm(request.POST or None, initial=initial, units=units, category_names=names)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        categories = [
            services.CategorySpec(
                slot=slot,
                name=data.get(f"cat{slot}_name") or "",
                quota=data.get(f"cat{slot}_quota"),
                unit_ids=[u.pk for u in units if data.get(f"unit_{u.pk}") == slot],
            )
            for slot in SLOTS
        ]
        saved = call_service(
            form,
            services.setup_save,
            committee=committee,
            cycle_start=data["cycle_start"],
            cycle_months=data["cycle_months"],
            draw_day=data["draw_day"],
            scoring=data["scoring"],
            themes=[data[f"theme_q{q}"] for q in (1, 2, 3, 4)],
            categories=categories,
            user=request.user,
        )
        if saved is not None:
            messages.success(request, _("The report-back is set up."))
            # A unit added while a cycle runs joins it only if it still fits: say which wait.
            _number, start, _position = saved.cycle_of(max(timezone.localdate().replace(day=1), saved.cycle_start))
            waiting = [p.unit.name for p in saved.pool.filter(joins_from__gt=start).select_related("unit")]
            if waiting:
                messages.info(
                    request,
                    _("These units no longer fit this cycle and report from the next one: %(units)s")
                    % {"units": "、".join(waiting)},
                )
            return redirect("reportback:overview", committee.pk)
    return render(request, "reportback/setup_form.html", {"committee": committee, "setup": setup, "form": form})


@login_required
def month_page(request, committee_pk: int, year: int, month: int):
    """A month: its standing draw (drawn units, sessions), earlier draws superseded by a
    redraw, and the button that draws it."""
    committee = get_committee_for_user(request.user, committee_pk)
    day = _month(year, month)
    setup = selectors.setup_of(committee=committee)
    if setup is None:
        return redirect("reportback:setup", committee.pk)
    draws = list(Draw.objects.filter(setup=setup, month=day).select_related("started_by").order_by("-started_at"))
    standing = next((d for d in draws if d.is_standing), None)
    reports = []
    if standing is not None:
        drawn = standing.reports.select_related("unit", "category", "session").order_by("position")
        scores = selectors.scores_of(reports=standing.reports.all())
        reports = [(r, scores.get(r.pk)) for r in drawn]
    _number, _start, position = setup.cycle_of(day) if day >= setup.cycle_start else (0, day, 0)
    return render(
        request,
        "reportback/month.html",
        {
            "committee": committee,
            "setup": setup,
            "month": day,
            "theme": setup.theme_for(day),
            "standing": standing,
            "superseded": [d for d in draws if not d.is_standing],
            "reports": reports,
            "sessions": list(standing.sessions.all()) if standing else [],
            "position": position + 1,
            "before_start": day < setup.cycle_start,
            "too_early": day > add_months(timezone.localdate().replace(day=1), 1),
        },
    )


@login_required
@require_POST
def draw(request, committee_pk: int, year: int, month: int):
    committee = get_committee_for_user(request.user, committee_pk)
    day = _month(year, month)
    setup = selectors.setup_of(committee=committee)
    if setup is None:
        raise Http404
    try:
        result = services.draw_month(setup=setup, month=day, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(month)s is drawn.") % {"month": month_label(result.month)})
    return redirect("reportback:month", committee.pk, day.year, day.month)


@login_required
def replay(request, pk: int):
    """The draw recomputed from its record, beside what was recorded."""
    record = get_draw_for_user(request.user, pk)
    recomputed = drawing.replay(
        candidates=record.candidates, quotas=record.quotas, seed=record.seed, algorithm=record.algorithm
    )
    recorded: dict[int, list[int]] = {}
    for category_id, unit_id in record.reports.order_by("position").values_list("category_id", "unit_id"):
        recorded.setdefault(category_id, []).append(unit_id)
    ids = {u for ids in record.candidates.values() for u in ids}
    names = dict(OrgUnit.objects.filter(pk__in=ids).values_list("pk", "name"))
    categories = {c.pk: c for c in record.setup.categories.all()}
    sections = []
    for key, candidates in record.candidates.items():
        category_id = int(key)
        again = recomputed.get(category_id, [])
        sections.append(
            {
                "category": categories.get(category_id),
                "quota": record.quotas[key],
                "candidates": [(u, names.get(u, u)) for u in candidates],
                "recomputed": [(u, names.get(u, u)) for u in again],
                "recorded": [(u, names.get(u, u)) for u in recorded.get(category_id, [])],
                "equal": again == recorded.get(category_id, []),
            }
        )
    return render(
        request,
        "reportback/replay.html",
        {
            "draw": record,
            "committee": record.setup.committee,
            "sections": sections,
            "equal": all(s["equal"] for s in sections),
            "can_run": can_run(request.user, record.setup.committee),
        },
    )


@login_required
def redraw(request, pk: int):
    record = get_draw_for_user(request.user, pk, write=True)
    form = RedrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        new = call_service(
            form, services.draw_redraw, draw=record, user=request.user, reason=form.cleaned_data["reason"]
        )
        if new is not None:
            messages.success(request, _("Drawn again; the first draw is kept, superseded."))
            return redirect("reportback:month", record.setup.committee_id, record.month.year, record.month.month)
    return render(
        request, "reportback/redraw.html", {"draw": record, "committee": record.setup.committee, "form": form}
    )


@login_required
def sessions(request, pk: int):
    """Date, time and place of each session, and which unit reports in which, in what order."""
    record = get_draw_for_user(request.user, pk, write=True)
    if not record.is_standing:
        raise Http404
    if request.method == "POST" and request.POST.get("action") == "add":
        services.session_add(draw=record, user=request.user)
        messages.success(request, _("A session is added: set its date, time and place, and move units into it."))
        return redirect("reportback:sessions", record.pk)
    session_list = list(record.sessions.all())
    reports = list(record.reports.select_related("unit", "session").order_by("session__number", "order"))
    session_forms = [
        SessionForm(
            request.POST or None, prefix=f"s{s.pk}", initial={f: getattr(s, f) for f in SessionForm.base_fields}
        )
        for s in session_list
    ]
    placements = [
        PlacementForm(
            request.POST or None,
            prefix=f"r{r.pk}",
            sessions=session_list,
            initial={"session": r.session_id, "order": r.order or r.position},
        )
        for r in reports
    ]
    if request.method == "POST":
        valid = all(f.is_valid() for f in session_forms) and all(f.is_valid() for f in placements)
        if valid:
            by_pk = {s.pk: s for s in session_list}
            ok = True
            for session, form in zip(session_list, session_forms, strict=True):
                ok = (
                    call_service(form, services.session_update, session=session, user=request.user, **form.cleaned_data)
                    is not None
                    and ok
                )
            for report, form in zip(reports, placements, strict=True):
                ok = (
                    call_service(
                        form,
                        services.report_place,
                        report=report,
                        session=by_pk[form.cleaned_data["session"]],
                        order=form.cleaned_data["order"],
                        user=request.user,
                    )
                    is not None
                    and ok
                )
            if ok:
                messages.success(request, _("The sessions are saved."))
                return redirect("reportback:month", record.setup.committee_id, record.month.year, record.month.month)
    return render(
        request,
        "reportback/sessions.html",
        {
            "draw": record,
            "committee": record.setup.committee,
            "session_forms": list(zip(session_list, session_forms, strict=True)),
            "placements": list(zip(reports, placements, strict=True)),
        },
    )


def _notice_context(record: Draw) -> dict:
    sessions = list(record.sessions.prefetch_related("reports__unit", "reports__category"))
    return {
        "draw": record,
        "committee": record.setup.committee,
        "theme": record.setup.theme_for(record.month),
        "sessions": [(s, sorted(s.reports.all(), key=lambda r: r.order)) for s in sessions],
        "generated": timezone.localtime(),
    }


@login_required
def notice_pdf(request, pk: int):
    """The printable notice of the draw and its sessions (WeasyPrint, own stylesheet)."""
    record = get_draw_for_user(request.user, pk)
    # Imported here: WeasyPrint is heavy and only PDFs need it. The report stylesheet
    # (Noto Sans CJK SC named explicitly, as branches/reports/pdf.py explains) is
    # read the same way, without importing the reports app, which sits above this one.
    from weasyprint import CSS, HTML

    html = render_to_string("reportback/pdf_notice.html", _notice_context(record))
    css = finders.find("css/report-pdf.css")
    base = str(Path(css).parent.parent) if css else "."
    pdf = HTML(string=html, base_url=base).write_pdf(stylesheets=[CSS(filename=css)] if css else [])
    name = f"{record.setup.committee.name}月述职通知{record.month:%Y-%m}.pdf"
    return file_response(pdf, filename=name, content_type="application/pdf", as_attachment=False)


@login_required
def session_page(request, pk: int):
    """A session: its units in order with their reports, comments and the scoring grid
    (one column per assessor), and the summary comment."""
    session = get_session_for_user(request.user, pk)
    committee = session.draw.setup.committee
    runs = can_run(request.user, committee)
    reports = session.reports.select_related("unit", "category").prefetch_related("comments").order_by("order")
    if not runs:
        # A unit sees its own report-backs in the session, not the others' scores.
        from branches.access import user_scope

        scope = user_scope(request.user)
        reports = [r for r in reports if scope.contains(r.unit)]
    else:
        reports = list(reports)
    scores = selectors.scores_of(reports=Report.objects.filter(pk__in=[r.pk for r in reports]))
    assessments = list(Assessment.objects.filter(report__in=[r.pk for r in reports]).order_by("assessor"))
    assessors = sorted({a.assessor for a in assessments})
    grid = {(a.report_id, a.assessor): a.score for a in assessments}
    rows = [(r, [grid.get((r.pk, name)) for name in assessors], scores.get(r.pk)) for r in reports]
    return render(
        request,
        "reportback/session.html",
        {
            "session": session,
            "draw": session.draw,
            "committee": committee,
            "theme": session.draw.setup.theme_for(session.draw.month),
            "assessors": assessors,
            "rows": rows,
            "can_run": runs,
            "summary_form": SummaryForm(initial={"summary_by": session.summary_by, "summary": session.summary}),
            "assess_form": AssessForm(),
            "scoring": session.draw.get_scoring_display(),
        },
    )


@login_required
@require_POST
def summary(request, pk: int):
    session = get_session_for_user(request.user, pk, write=True)
    form = SummaryForm(request.POST)
    if form.is_valid():
        services.session_summary_set(session=session, user=request.user, **form.cleaned_data)
        messages.success(request, _("The summary comment is saved."))
    else:
        messages.error(request, _("Give who made the summary comment and what it said."))
    return redirect(session)


@login_required
def report_page(request, pk: int):
    """One unit's report-back: the drawn month, its session, its written report, the
    leaders' comments and each assessor's score with the unit's score."""
    report = get_report_for_user(request.user, pk)
    setup = report.draw.setup
    runs = can_run(request.user, setup.committee)
    score = selectors.scores_of(reports=Report.objects.filter(pk=report.pk)).get(report.pk)
    return render(
        request,
        "reportback/report.html",
        {
            "report": report,
            "draw": report.draw,
            "committee": setup.committee,
            "theme": setup.theme_for(report.draw.month),
            "comments": list(report.comments.all()),
            "assessments": list(report.assessments.all()),
            "score": score,
            "scoring": report.draw.get_scoring_display(),
            "can_run": runs,
            "upload_form": UploadForm(),
            "comment_form": CommentForm(),
            "assess_form": AssessForm(),
        },
    )


def _refused(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


@login_required
@require_POST
def upload(request, pk: int):
    report = get_report_for_user(request.user, pk, upload=True)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.report_upload(report=report, upload=form.cleaned_data["file"], user=request.user)
        except ValidationError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("The report is uploaded."))
    else:
        messages.error(request, _("Choose a file."))
    return redirect(report)


@login_required
def report_file(request, pk: int):
    report = get_report_for_user(request.user, pk)
    return stored_file_response(report.file, filename=report.file_name or "report", content_type=report.content_type)


@login_required
@require_POST
def comment(request, pk: int):
    report = get_report_for_user(request.user, pk, write=True)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_add(report=report, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _refused(request, exc)
    else:
        messages.error(request, _("Give the leader and the comment."))
    return redirect(report)


@login_required
@require_POST
def assess(request, pk: int):
    """One assessor's score; back to the session grid or the report page it came from."""
    report = get_report_for_user(request.user, pk, write=True)
    form = AssessForm(request.POST)
    if form.is_valid():
        try:
            services.assessment_set(report=report, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _refused(request, exc)
    else:
        messages.error(request, _("A score is from 0 to 100, with the assessor's name."))
    if request.POST.get("back") == "session" and report.session_id:
        return redirect("reportback:session", report.session_id)
    return redirect(report)


@login_required
def unit_history(request, pk: int):
    """A unit's report-backs (every committee it reports to), newest first."""
    unit = get_unit_for_user(request.user, pk)
    reports = list(selectors.unit_history(unit=unit))
    scores = selectors.scores_of(reports=Report.objects.filter(pk__in=[r.pk for r in reports]))
    return render(
        request,
        "reportback/unit_history.html",
        {
            "unit": unit,
            "rows": [(r, scores.get(r.pk), r.draw.setup.theme_for(r.draw.month)) for r in reports],
        },
    )


urlpatterns = [
    path("committee/<id:committee_pk>/", overview, name="overview"),
    path("committee/<id:committee_pk>/setup/", setup_edit, name="setup"),
    path("committee/<id:committee_pk>/<year:year>/<month:month>/", month_page, name="month"),
    path("committee/<id:committee_pk>/<year:year>/<month:month>/draw/", draw, name="draw"),
    path("draw/<id:pk>/", replay, name="replay"),
    path("draw/<id:pk>/redraw/", redraw, name="redraw"),
    path("draw/<id:pk>/sessions/", sessions, name="sessions"),
    path("draw/<id:pk>/notice.pdf", notice_pdf, name="notice_pdf"),
    path("session/<id:pk>/", session_page, name="session"),
    path("session/<id:pk>/summary/", summary, name="summary"),
    path("report/<id:pk>/", report_page, name="report"),
    path("report/<id:pk>/upload/", upload, name="upload"),
    path("report/<id:pk>/file/", report_file, name="report_file"),
    path("report/<id:pk>/comment/", comment, name="comment"),
    path("report/<id:pk>/assess/", assess, name="assess"),
    path("unit/<id:pk>/", unit_history, name="unit_history"),
]
