"""Writes of the report-back: setup, draw and redraw, sessions, reports, comments and
scores. Keyword-only, typed, one transaction each; refusals are ``ValidationError``s
keyed as the forms name their fields."""

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import OrgUnit
from branches.services import month_assert_open, month_label
from branches.uploads import check_upload
from branches.workflow import Move, claim, refuse

from . import drawing, selectors
from .models import Assessment, Category, Comment, Draw, PoolUnit, Report, Session, Setup, add_months

REDRAW = Move("redraw", (Draw.State.STANDING,), Draw.State.SUPERSEDED, "Redraw")


@dataclass
class CategorySpec:
    """One category of the setup form: its slot (1, 2, 3 …), name, quota and units."""

    slot: int
    name: str
    quota: int | None
    unit_ids: list[int] = field(default_factory=list)


# --- setup ------------------------------------------------------------------------------


@transaction.atomic
def setup_save(
    *,
    committee: OrgUnit,
    cycle_start: datetime.date,
    cycle_months: int,
    draw_day: int,
    scoring: str,
    themes: list[str],
    categories: list[CategorySpec],
    user=None,
    today: datetime.date | None = None,
) -> Setup:
    """Create or change ``committee``'s report-back. Checks everything at once: every
    unit in one category of the committee's own units, every used category named with a
    quota, and the quotas over the cycle reaching every unit (the last month takes what
    remains). A unit added while a cycle runs joins it if it still fits, else the next."""
    today = today or timezone.localdate()
    if not committee.is_committee:
        raise ValidationError(_("Only a party committee runs a report-back."))
    errors: dict[str, list[str]] = {}
    eligible = set(selectors.eligible_units(committee=committee).values_list("pk", flat=True))
    seen: set[int] = set()
    for spec in categories:
        for unit_id in spec.unit_ids:
            if unit_id not in eligible:
                errors.setdefault("__all__", []).append(_("A unit that does not report to this committee was chosen."))
            if unit_id in seen:
                errors.setdefault("__all__", []).append(_("A unit is in two categories."))
            seen.add(unit_id)
        if spec.unit_ids and not spec.name.strip():
            errors.setdefault(f"cat{spec.slot}_name", []).append(_("Name the category of the units chosen for it."))
        if spec.unit_ids and not spec.quota:
            errors.setdefault(f"cat{spec.slot}_quota", []).append(_("Give the number of units drawn each month."))
    used = [s for s in categories if s.unit_ids and s.quota]
    for short in drawing.shortfalls(
        categories=[(s.name, len(s.unit_ids), s.quota) for s in used], cycle_months=cycle_months
    ):
        spec = next(s for s in used if s.name == short.category)
        errors.setdefault(f"cat{spec.slot}_quota", []).append(
            _(
                "%(category)s: %(quota)s a month over %(months)s months reach %(reach)s of its %(units)s units; "
                "draw at least %(needed)s a month or lengthen the cycle."
            )
            % {
                "category": short.category,
                "quota": short.quota,
                "months": short.months,
                "reach": short.quota * short.months,
                "units": short.units,
                "needed": short.needed,
            }
        )
    if not used:
        errors.setdefault("__all__", []).append(_("Put at least one unit into a category."))
    setup = Setup.objects.select_for_update().filter(committee=committee).first()
    if setup is not None and setup.draws.exists():
        if (cycle_start, cycle_months) != (setup.cycle_start, setup.cycle_months):
            errors.setdefault("cycle_months", []).append(
                _("The cycle cannot change once a month has been drawn: the draws would no longer cover it.")
            )
        drawn_categories = set(Report.objects.filter(draw__setup=setup).values_list("category_id", flat=True))
        kept_slots = {s.slot for s in used}
        for category in setup.categories.filter(pk__in=drawn_categories):
            if category.sort_order not in kept_slots:
                errors.setdefault(f"cat{category.sort_order}_name", []).append(
                    _("%(category)s has been drawn from and cannot be removed.") % {"category": category.name}
                )
    if errors:
        raise ValidationError(errors)

    if setup is None:
        setup = Setup(committee=committee)
    setup.cycle_start, setup.cycle_months, setup.draw_day, setup.scoring = cycle_start, cycle_months, draw_day, scoring
    setup.theme_q1, setup.theme_q2, setup.theme_q3, setup.theme_q4 = themes
    setup.updated_by = user
    setup.save()

    by_slot = {c.sort_order: c for c in setup.categories.all()}
    for spec in used:
        category = by_slot.get(spec.slot) or Category(setup=setup, sort_order=spec.slot)
        category.name, category.quota = spec.name.strip(), spec.quota
        category.save()
        by_slot[spec.slot] = category
    wanted = {unit_id: by_slot[s.slot] for s in used for unit_id in s.unit_ids}
    setup.pool.exclude(unit_id__in=wanted).delete()
    current = {p.unit_id: p for p in setup.pool.all()}
    this_month = max(today.replace(day=1), cycle_start)
    _number, start, position = setup.cycle_of(this_month)
    drawn = selectors.reported_in_cycle(setup=setup, month=this_month)
    drawn_months = set(setup.draws.filter(state=Draw.State.STANDING, month__gte=start).values_list("month", flat=True))
    months_left = sum(1 for m in setup.cycle_months_of(this_month) if m not in drawn_months)
    for unit_id, category in wanted.items():
        pooled = current.get(unit_id)
        if pooled is not None:
            if pooled.category_id != category.pk:
                pooled.category = category
                pooled.save(update_fields=["category"])
            continue
        joins = start
        if drawn_months:
            remaining = sum(1 for p in current.values() if p.category_id == category.pk and p.unit_id not in drawn)
            if not drawing.fits_this_cycle(remaining=remaining, quota=category.quota, months_left=months_left):
                joins = add_months(start, setup.cycle_months)
        current[unit_id] = PoolUnit.objects.create(setup=setup, unit_id=unit_id, category=category, joins_from=joins)
    setup.categories.exclude(sort_order__in=[s.slot for s in used]).filter(units__isnull=True).delete()
    return setup


# --- the draw ---------------------------------------------------------------------------


def _last_weekday(month: datetime.date) -> datetime.date:
    day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return day


def _candidates(*, setup: Setup, month: datetime.date, day: datetime.date) -> dict[int, list[int]]:
    """Per category, the units that may be drawn for ``month``: in the pool on ``day``,
    joined at or before the month's cycle, not yet drawn in the cycle."""
    _number, start, _position = setup.cycle_of(month)
    done = selectors.reported_in_cycle(setup=setup, month=month)
    candidates: dict[int, list[int]] = {c.pk: [] for c in setup.categories.all()}
    for pooled in selectors.in_pool(setup=setup, day=day).filter(joins_from__lte=start):
        if pooled.unit_id not in done:
            candidates[pooled.category_id].append(pooled.unit_id)
    return {category_id: sorted(ids) for category_id, ids in candidates.items()}


def _write_draw(*, setup: Setup, month: datetime.date, user, trigger: str, reason: str = "") -> Draw:
    today = timezone.localdate()
    _number, _start, position = setup.cycle_of(month)
    candidates = _candidates(setup=setup, month=month, day=today)
    categories = {c.pk: c for c in setup.categories.all()}
    quotas = {
        category_id: drawing.month_quota(
            quota=categories[category_id].quota,
            remaining=len(ids),
            position=position,
            cycle_months=setup.cycle_months,
        )
        for category_id, ids in candidates.items()
    }
    draw = Draw.objects.create(
        setup=setup,
        month=month,
        candidates={str(k): v for k, v in candidates.items()},
        quotas={str(k): v for k, v in quotas.items()},
        seed=drawing.new_seed(),
        algorithm=drawing.ALGORITHM,
        scoring=setup.scoring,
        trigger=trigger,
        started_by=user,
        redraw_reason=reason,
    )
    result = drawing.replay(candidates=draw.candidates, quotas=draw.quotas, seed=draw.seed, algorithm=draw.algorithm)
    # Two half-days on the month's last weekday (the committee moves them as it likes):
    # the first half of the drawn units in the morning, the rest in the afternoon.
    day = _last_weekday(month)
    morning = Session.objects.create(
        draw=draw, number=1, date=day, starts_at=datetime.time(8, 30), ends_at=datetime.time(12, 0)
    )
    afternoon = Session.objects.create(
        draw=draw, number=2, date=day, starts_at=datetime.time(14, 30), ends_at=datetime.time(17, 30)
    )
    drawn = [
        (unit_id, category_id)
        for category_id in sorted(result, key=lambda pk: categories[pk].sort_order)
        for unit_id in result[category_id]
    ]
    half = (len(drawn) + 1) // 2
    Report.objects.bulk_create(
        Report(
            draw=draw,
            unit_id=unit_id,
            category_id=category_id,
            position=index + 1,
            session=morning if index < half else afternoon,
            order=index + 1 if index < half else index + 1 - half,
        )
        for index, (unit_id, category_id) in enumerate(drawn)
    )
    return draw


def lock_setup(setup: Setup) -> Setup:
    """One drawer per committee at a time: the setup's row, locked until commit. A second
    draw of the same month waits here, then finds the first's standing draw."""
    return Setup.objects.select_for_update().get(pk=setup.pk)


@transaction.atomic
def draw_month(*, setup: Setup, month: datetime.date, user=None, trigger: str = Draw.Trigger.BROWSER) -> Draw:
    """Draw ``month`` for ``setup``; a month already drawn is not drawn again (its
    standing draw is returned), so beat firing twice or a double click draws once."""
    month = month.replace(day=1)
    setup = lock_setup(setup)
    existing = selectors.standing_draw(setup=setup, month=month)
    if existing is not None:
        return existing
    if month < setup.cycle_start:
        raise ValidationError(_("The report-back starts in %(month)s.") % {"month": month_label(setup.cycle_start)})
    if not setup.pool.exists():
        raise ValidationError(_("The pool is empty: set up the units first."))
    # This month or the next (a month-end meeting may be drawn a few days ahead), never
    # further: the pool, and who is left, are read as they stand on the day of the draw.
    if month > add_months(timezone.localdate().replace(day=1), 1):
        raise ValidationError(
            _("%(month)s cannot be drawn yet: draw a month in the month before it at the earliest.")
            % {"month": month_label(month)}
        )
    return _write_draw(setup=setup, month=month, user=user, trigger=trigger)


@transaction.atomic
def draw_redraw(*, draw: Draw, user, reason: str) -> Draw:
    """Draw the month again, for a reason; the first draw stays, superseded. Refused
    once a unit of it has been scored or commented on."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the month is drawn again.")})
    lock_setup(draw.setup)
    if Assessment.objects.filter(report__draw=draw).exists() or Comment.objects.filter(report__draw=draw).exists():
        raise ValidationError(_("The drawn units have been scored or commented on; the month cannot be drawn again."))
    if not claim(Draw.objects, draw.pk, REDRAW):
        raise refuse(REDRAW, str(Draw.State.SUPERSEDED.label))
    new = _write_draw(setup=draw.setup, month=draw.month, user=user, trigger=Draw.Trigger.BROWSER, reason=reason)
    Draw.objects.filter(pk=draw.pk).update(superseded_by=new)
    return new


# --- sessions and reports ---------------------------------------------------------------


@transaction.atomic
def session_update(
    *,
    session: Session,
    date: datetime.date,
    starts_at: datetime.time,
    ends_at: datetime.time,
    place: str,
    user=None,
) -> Session:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The session must end after it starts.")})
    session.date, session.starts_at, session.ends_at, session.place = date, starts_at, ends_at, place
    session.save(update_fields=["date", "starts_at", "ends_at", "place"])
    return session


@transaction.atomic
def session_add(*, draw: Draw, user=None) -> Session:
    """One more session for a draw (a third half-day, say), on the day of its last one."""
    if not draw.is_standing:
        raise ValidationError(_("This draw has been superseded; plan the sessions of the redraw."))
    last = draw.sessions.order_by("-number").first()
    return Session.objects.create(
        draw=draw,
        number=(last.number + 1) if last else 1,
        date=last.date if last else _last_weekday(draw.month),
        starts_at=datetime.time(8, 30),
        ends_at=datetime.time(12, 0),
        place=last.place if last else "",
    )


@transaction.atomic
def report_place(*, report: Report, session: Session, order: int, user=None) -> Report:
    """Put a drawn unit into a session of its draw at a place in the order."""
    if session.draw_id != report.draw_id:
        raise ValidationError({"session": _("Choose a session of the same draw.")})
    report.session, report.order = session, order
    report.save(update_fields=["session", "order"])
    return report


@transaction.atomic
def report_upload(*, report: Report, upload: UploadedFile, user=None) -> Report:
    try:
        content_type = check_upload(upload)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from None
    report.file.save(upload.name, upload, save=False)
    report.file_name = upload.name[:200]
    report.content_type = content_type
    report.uploaded_by = user
    report.uploaded_at = timezone.now()
    report.save(update_fields=["file", "file_name", "content_type", "uploaded_by", "uploaded_at"])
    return report


@transaction.atomic
def comment_add(*, report: Report, leader: str, text: str, user=None) -> Comment:
    if not leader.strip() or not text.strip():
        raise ValidationError(_("Give the leader and the comment."))
    return Comment.objects.create(report=report, leader=leader.strip(), text=text.strip(), entered_by=user)


@transaction.atomic
def session_summary_set(*, session: Session, summary_by: str, summary: str, user=None) -> Session:
    session.summary_by, session.summary = summary_by.strip(), summary.strip()
    session.save(update_fields=["summary_by", "summary"])
    return session


@transaction.atomic
def assessment_set(*, report: Report, assessor: str, score: Decimal, user=None) -> Assessment:
    """Record (or change) one assessor's score of a report. The month must be open for
    the unit: its score may feed the monthly board, which publication freezes."""
    assessor = assessor.strip()
    if not assessor:
        raise ValidationError({"assessor": _("Name the assessor.")})
    if not Decimal("0") <= score <= Decimal("100"):
        raise ValidationError({"score": _("A score is from 0 to 100.")})
    if not report.draw.is_standing:
        raise ValidationError(_("This draw has been superseded; score the units of the redraw."))
    month_assert_open(unit=report.unit, month=report.draw.month)
    assessment, _created = Assessment.objects.update_or_create(
        report=report, assessor=assessor, defaults={"score": score, "entered_by": user}
    )
    return assessment
