"""`seed_demo` builds a consistent organisation: every unit's path is right, every
member passes the same validation a form would apply, and each role can log in. The
default demo also holds months of organisational life whose ledger follows from the
attendance exactly as the services post it, with corrections, a cancellation and a
closed month; ``--reset`` clears it all (on PostgreSQL too, past the ledger's
append-only trigger) and keeps the installation's default rule set."""

import datetime
import os
import shutil
import tempfile
from collections import defaultdict
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.test import RequestFactory, override_settings
from django.utils import timezone

from branches.access import user_scope
from branches.activities.models import Activity, ActivityAttachment, Attendance, AttendanceChange
from branches.activities.services import activity_create, attendance_set
from branches.choices import MEETING_KINDS, ActivityKind
from branches.grading.models import BranchScore, Publication, Talk
from branches.models import CommitteeMonth, OrgUnit
from branches.reportback.models import Comment, Draw, Report, Session, Setup
from branches.reportback.selectors import month_scores
from branches.selectors import tracked_from_of
from branches.services import month_label
from members.ledger.defaults import install_default_rules
from members.ledger.models import LedgerEntry, Rule, RuleSet, RuleSetVersion, ScoreItem, Source
from members.ledger.services import ledger_entry_record
from members.models import Member, Membership
from members.services import member_validate
from partybuild.management.commands.seed_demo import OWN_MODELS, _dependent_models, reset_demo_data

from .conftest import requires_postgres

pytestmark = pytest.mark.django_db


def assert_consistent() -> None:
    units = {u.pk: u for u in OrgUnit.objects.all()}
    for unit in units.values():
        parent_path = units[unit.parent_id].path if unit.parent_id else "/"
        assert unit.path == f"{parent_path}{unit.pk}/"
    open_periods = Member.objects.annotate(n=Count("memberships", filter=Q(memberships__ended_on__isnull=True)))
    assert not open_periods.filter(left_on__isnull=True).exclude(n=1).exists()
    assert not open_periods.filter(left_on__isnull=False).exclude(n=0).exists()
    for member in Member.objects.select_related("branch", "group")[:300]:
        member_validate(
            birth_date=member.birth_date,
            joined_on=member.joined_on,
            status=member.status,
            converted_on=member.converted_on,
            branch=member.branch,
            group=member.group,
            employee_no=member.employee_no,
            exclude_pk=member.pk,
        )


def month_start(day: datetime.date, back: int = 0) -> datetime.date:
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def standing(**filters):
    """Entries neither reversing nor reversed: what a total is made of."""
    return LedgerEntry.objects.filter(reverses__isnull=True, reversed_by__isnull=True, **filters)


def assert_ledger_follows_attendance() -> None:
    """Every attendance of a held activity has exactly the standing entries the rules
    in force give its kind and status; a cancelled activity's have none; caps hold;
    manual entries are within their rules; every reversal mirrors its original."""
    rules = {rule.pk: rule for rule in Rule.objects.all()}
    by_attendance = defaultdict(list)
    for source_id, rule_id, points in standing(source=Source.ATTENDANCE).values_list("source_id", "rule", "points"):
        by_attendance[source_id].append((rules[rule_id], points))
    attendance_rules = [r for r in rules.values() if r.source == Source.ATTENDANCE]
    rows = Attendance.objects.values_list("pk", "status", "activity__kind", "activity__status", "activity__class_hours")
    checked = 0
    for pk, status, kind, activity_status, hours in rows:
        got = by_attendance.pop(pk, [])
        if activity_status == Activity.Status.CANCELLED:
            assert got == [], pk
            continue
        expected = {r.code for r in attendance_rules if kind in r.activity_kinds and status in r.attendance_statuses}
        assert {rule.code for rule, _points in got} == expected and len(got) == len(expected), (pk, kind, status, got)
        for rule, points in got:
            full = rule.points_min * (hours if rule.per_class_hour else 1)
            # Capped rules are clipped to what is left of the month's cap; the rest are exact.
            assert points == full if rule.monthly_cap is None else Decimal("0") <= points <= full, (pk, rule, points)
        checked += 1
    assert not by_attendance, "entries that point at no attendance"
    assert checked > 0
    caps = {r.code: r.monthly_cap for r in rules.values() if r.monthly_cap is not None}
    totals = LedgerEntry.objects.filter(rule__code__in=caps).values("member", "month", "rule__code")
    for row in totals.annotate(total=Sum("points")):
        assert row["total"] <= caps[row["rule__code"]], row
    manual = standing(source=Source.MANUAL).select_related("rule", "member")
    for entry in manual:
        assert entry.rule.points_min <= entry.points <= entry.rule.points_max and entry.reason
        assert entry.branch_id == entry.member.branch_id and entry.category == entry.rule.category
        assert bool(entry.evidence) or not entry.rule.evidence_required
    for reversal in LedgerEntry.objects.filter(reverses__isnull=False).select_related("reverses"):
        original = reversal.reverses
        assert (reversal.member_id, reversal.month, reversal.rule_id, reversal.source_id) == (
            original.member_id,
            original.month,
            original.rule_id,
            original.source_id,
        )
        assert reversal.points == -original.points and reversal.reason


def life_counts() -> dict:
    return {
        "activities": Activity.objects.count(),
        "attendances": Attendance.objects.count(),
        "changes": AttendanceChange.objects.count(),
        "entries": LedgerEntry.objects.count(),
        "points": LedgerEntry.objects.aggregate(t=Sum("points"))["t"],
        "closed": CommitteeMonth.objects.filter(state=CommitteeMonth.State.CLOSED).count(),
    }


@pytest.fixture(scope="class")
def demo(request, django_db_setup, django_db_blocker):
    """The default demo, seeded once for the tests of a class (it takes seconds), its
    files in a temporary media root; cleared with ``reset_demo_data`` afterwards."""
    media = tempfile.mkdtemp(prefix="seed-demo-media-")
    request.cls.media = media  # each test has a media root of its own: this is the demo's
    # The hasher conftest gives every test, so the logins' passwords check there.
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=hashers), django_db_blocker.unblock():
        # An earlier flushing test (transactional, browser) may have removed what the
        # data migration installed; the demo needs the default rule set.
        if not RuleSet.objects.filter(committee__isnull=True).exists():
            install_default_rules(apps)
        out = StringIO()
        # The address `make demo` serves on is the one it prints.
        with mock.patch.dict(os.environ, {"DEMO_ADDR": "127.0.0.1:8123"}):
            call_command("seed_demo", stdout=out)
        yield out.getvalue()
        with transaction.atomic():
            reset_demo_data()
            clear_audit_trail()
    shutil.rmtree(media, ignore_errors=True)


def clear_audit_trail() -> None:
    """Empty the audit trail the seeding wrote. ``reset_demo_data`` keeps it by design
    (the tables are append-only), but the class seeds outside any test's transaction:
    the tests run after it in the same process count events from an empty trail, as a
    rolled-back or flushed test leaves it. TRUNCATE is a table operation the row
    triggers that refuse DELETE do not see."""
    from pghistory.models import Context, Event

    # The event tables only: the app's other models are proxies of the tracked ones.
    events = [m for m in apps.get_app_config("audit").get_models() if issubclass(m, Event) and not m._meta.proxy]
    tables = [model._meta.db_table for model in events] + [Context._meta.db_table]
    assert all(table.startswith("audit_") and table.endswith("event") for table in tables[:-1]), tables
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)}")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


# One process runs the class (``--dist loadgroup``), so the default demo is seeded once a
# run: spread over both processes, each seeded it (minutes each on the 2-core machine).
@pytest.mark.xdist_group("seed-demo")
@pytest.mark.usefixtures("demo")
class TestTheDefaultDemo:
    def test_the_tree_is_consistent_and_the_logins_work(self, demo):
        assert "http://127.0.0.1:8123/" in demo and "partybuild-demo" in demo
        assert OrgUnit.objects.filter(kind="branch").count() >= 20
        assert Member.objects.count() >= 300
        assert Membership.objects.filter(end_reason="transfer").exists()
        assert Member.objects.filter(left_on__isnull=False).exists()
        assert_consistent()
        request = RequestFactory().post("/accounts/login/")
        roles = {}
        for username in ("admin", "committee", "secretary"):
            user = authenticate(request, username=username, password="partybuild-demo")
            assert user is not None, username
            roles[username] = user_scope(user)
        assert roles["admin"].is_admin
        assert roles["committee"].roles == {"committee_staff"} and roles["secretary"].roles == {"secretary"}

    def test_the_committees_are_tracked_from_the_first_month_of_organisational_life(self):
        first = month_start(timezone.localdate(), 4)
        roots = OrgUnit.objects.filter(parent__isnull=True)
        assert {root.tracked_from for root in roots} == {first}
        branch = OrgUnit.objects.filter(kind="branch").first()
        assert tracked_from_of(unit=branch) == first
        assert not Activity.objects.filter(date__lt=first).exists()

    def test_the_planner_statistics_are_fresh_after_loading(self):
        requires_postgres()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE relname IN "
                "('members_member', 'members_memberhonour', 'ledger_ledgerentry') "
                "AND last_analyze IS NULL AND last_autoanalyze IS NULL"
            )
            assert cursor.fetchall() == []

    def test_it_prints_what_it_seeded_and_the_plan_matched_the_application(self, demo):
        assert "Organisational life" in demo and "ledger entries" in demo and "closed months: " in demo
        # The plan's attendance lists are the application's expected_attendees.
        assert "warning" not in demo

    def test_every_branch_lived_through_the_past_months(self):
        today = timezone.localdate()
        past = [month_start(today, back) for back in range(4, 0, -1)]
        held = Activity.objects.filter(status=Activity.Status.HELD)
        assert not held.filter(date__gt=today).exists()
        for branch in OrgUnit.objects.filter(kind="branch"):
            months = {d.replace(day=1) for d in held.filter(branch=branch).values_list("date", flat=True)}
            assert set(past) <= months, branch
        # 主题党日 on the 21st (seed 004), in nearly every branch every month.
        themed = held.filter(kind=ActivityKind.THEMED_DAY)
        assert set(themed.values_list("date__day", flat=True)) == {21}
        branches = OrgUnit.objects.filter(kind="branch").count()
        assert themed.filter(date__lt=past[-1].replace(day=28)).count() >= 0.9 * branches * len(past)
        kinds = set(held.values_list("kind", flat=True))
        assert set(MEETING_KINDS) | {ActivityKind.TRAINING, ActivityKind.VOLUNTEER} <= kinds
        assert not held.filter(kind=ActivityKind.TRAINING, class_hours__isnull=True).exists()
        assert not held.filter(title="").exists()
        assert (
            held.exclude(minutes="").count() > held.count() / 2 and held.exclude(host="").count() > 0.9 * held.count()
        )
        # Gaps, so compliance has something to show: some group-months without a meeting.
        group_months = {
            (g, d.replace(day=1))
            for g, d in held.filter(kind=ActivityKind.GROUP_MEETING).values_list("group", "date")
            if d.replace(day=1) in past
        }
        expected = OrgUnit.objects.filter(kind="group").count() * len(past)
        assert 0.7 * expected < len(group_months) < 0.95 * expected
        assert ActivityAttachment.objects.exists()

    def test_most_members_have_points_of_every_kind(self):
        active = Member.objects.filter(left_on__isnull=True)
        with_entries = active.filter(ledger_entries__isnull=False).distinct().count()
        assert with_entries >= 0.95 * active.count()
        codes = set(standing().values_list("rule__code", flat=True))
        assert {"org_present", "org_late", "org_excused", "org_absent", "training_hour", "volunteer"} <= codes
        assert {"study_task", "exemplary_award", "deduction"} <= codes
        award = standing(rule__code="exemplary_award").exclude(evidence="").first()
        with override_settings(MEDIA_ROOT=self.media), default_storage.open(award.evidence.name) as evidence:
            assert evidence.read(5) == b"%PDF-"

    def test_attendance_is_mostly_present_and_corrected_through_the_service(self):
        statuses = dict(Attendance.objects.values_list("status").annotate(n=Count("pk")).order_by())
        total = sum(statuses.values())
        assert statuses["present"] > 0.75 * total
        assert 0.01 * total < statuses["absent"] < 0.05 * total and statuses["late"] > 0.03 * total
        # Every non-present status was set with attendance_set after the activity was
        # logged, so each has its change record and its present entry reversed.
        assert AttendanceChange.objects.count() == total - statuses["present"]
        assert not AttendanceChange.objects.exclude(old_status="present").exists()
        themed = Attendance.objects.filter(activity__kind=ActivityKind.THEMED_DAY, activity__status="held")
        for status, code, points in (
            ("present", "org_present", "2"),
            ("late", "org_late", "1"),
            ("excused", "org_excused", "0"),
            ("absent", "org_absent", "-2"),
        ):
            attendance = themed.filter(status=status).first()
            entries = standing(source=Source.ATTENDANCE, source_id=attendance.pk)
            assert list(entries.values_list("rule__code", "points")) == [(code, Decimal(points))]
            if status != "present":
                reversed_present = LedgerEntry.objects.get(
                    source=Source.ATTENDANCE, source_id=attendance.pk, reverses__isnull=False
                )
                assert reversed_present.reverses.rule.code == "org_present"

    def test_the_ledger_follows_the_attendance_and_the_rules(self):
        assert_ledger_follows_attendance()

    def test_corrections_and_a_cancelled_activity_exist(self):
        manual_reversals = LedgerEntry.objects.filter(source=Source.MANUAL, reverses__isnull=False)
        assert 2 <= manual_reversals.count() <= 3
        cancelled = Activity.objects.get(status=Activity.Status.CANCELLED)
        assert cancelled.cancelled_reason
        assert (
            cancelled.attendances.exists()
            and not standing(source=Source.ATTENDANCE, source_id__in=cancelled.attendances.values("pk")).exists()
        )
        secretary = get_user_model().objects.get(username="secretary")
        assert LedgerEntry.objects.filter(recorded_by=secretary).exists()

    def test_the_years_democratic_review_support_plans_and_talks_are_seeded(self):
        from members.reviews.models import DemocraticReview, MemberTalk, Rating, ReviewResult, SupportPlan

        year = timezone.localdate().year
        reviews = DemocraticReview.objects.filter(year=year)
        assert reviews.filter(state="confirmed").count() >= 2
        assert reviews.exclude(state="confirmed").exists()
        for review in reviews.filter(state="confirmed"):
            results = ReviewResult.objects.filter(review=review)
            assert results.filter(rating=Rating.EXCELLENT).count() * 100 <= results.count() * 30
        assert SupportPlan.objects.filter(closed_on__isnull=False).exclude(outcome="").exists()
        assert SupportPlan.objects.filter(closed_on__isnull=True).exists()
        assert ReviewResult.objects.filter(rating=Rating.UNQUALIFIED, review__state="confirmed").exists()
        talks = MemberTalk.objects.all()
        assert talks.count() >= 3
        assert talks.filter(follow_up_due__lt=timezone.localdate(), follow_up_done_on__isnull=True).exists()
        assert talks.filter(follow_up_done_on__isnull=False).exists()

    def test_the_demo_secretarys_bell_has_reminders(self, demo):
        from branches.notifications.models import Notification

        assert "reminders: " in demo
        secretary = get_user_model().objects.get(username="secretary")
        # Seeded talks with members have overdue follow-ups: at least that reminder.
        assert Notification.objects.filter(user=secretary, read_at__isnull=True).exists()

    def test_projects_run_in_every_state_with_value_points_and_a_challenge_with_two_claims(self):
        from branches.projects.models import Challenge, Project, ValueRecord

        states = set(Project.objects.values_list("state", flat=True))
        assert states == set(Project.State.values)
        assert Project.objects.count() >= 12
        assert ValueRecord.objects.values("month").distinct().count() >= 3
        open_challenge = Challenge.objects.get(state=Challenge.State.OPEN)
        assert open_challenge.claims.count() == 2
        assert Project.objects.filter(challenge__isnull=False, state="active").exists()
        entries = LedgerEntry.objects.filter(source=Source.PROJECT)
        keys = set(entries.values_list("source_key", flat=True))
        assert {"grade", "value:project_value_10"} <= keys and any(k.startswith("milestone:") for k in keys)

    def test_past_months_are_published_the_latest_is_a_draft_and_closed_months_refuse_writes(self):
        closed = CommitteeMonth.objects.filter(state=CommitteeMonth.State.CLOSED)
        oldest = month_start(timezone.localdate(), 4)
        latest_complete = month_start(timezone.localdate(), 1)
        published = set(Publication.objects.values_list("month", flat=True))
        assert set(closed.values_list("month", flat=True)) == published
        assert oldest in published and latest_complete not in published
        assert BranchScore.objects.filter(month=latest_complete).exists()  # the draft
        assert Talk.objects.exists()
        closed = closed.filter(month=oldest)
        committee = closed.select_related("committee").first().committee
        event = closed.first().events.get()
        assert event.action == "close" and event.reason and event.user.username == "admin"
        member = Member.objects.filter(branch__path__startswith=committee.path, left_on__isnull=True).first()
        rule = Rule.objects.get(version__rule_set__committee__isnull=True, code="study_task")
        label = month_label(oldest)
        with pytest.raises(ValidationError, match=label):
            ledger_entry_record(member=member, rule=rule, month=oldest, points=Decimal("3"), reason="补录", user=None)
        attendance = Attendance.objects.filter(
            activity__branch__path__startswith=committee.path, activity__date__lt=month_start(oldest, -1)
        ).first()
        with pytest.raises(ValidationError, match=label):
            attendance_set(attendance=attendance, status="absent", user=None)
        with pytest.raises(ValidationError, match=label):
            activity_create(
                branch=member.branch, kind=ActivityKind.THEMED_DAY, title="补录", date=oldest.replace(day=21), user=None
            )

    def test_suggestions_run_through_the_funnel_and_their_points_stand_once_per_stage(self):
        from members.suggestions.models import Suggestion
        from members.suggestions.selectors import suggestion_funnel

        assert 90 <= Suggestion.objects.count() <= 110
        states = set(Suggestion.objects.values_list("state", flat=True))
        assert {"submitted", "rejected", "accepted", "published", "implemented"} <= states
        implemented = Suggestion.objects.filter(state="implemented")
        assert implemented.count() >= 40 and all(s.realised_value is not None and s.evidence for s in implemented)
        assert Suggestion.objects.filter(state="rejected").exclude(rejection_reason="").exists()
        # Every proposer of an accepted suggestion stands at +2 for it, +5 more once implemented.
        for s in Suggestion.objects.prefetch_related("proposers")[:30]:
            for member in s.proposers.all():
                total = LedgerEntry.objects.filter(source=Source.SUGGESTION, source_id=s.pk, member=member).aggregate(
                    t=Sum("points")
                )["t"] or Decimal("0")
                expected = {"accepted": 2, "published": 2, "implemented": 7}.get(s.state, 0)
                assert total == expected, (s, member, total)
        years = {s.submitted_on.year for s in Suggestion.objects.all()}
        # The showcase plant: the second unit on every suggestion's path (集团党委 first).
        plant = OrgUnit.objects.get(pk=int(Suggestion.objects.first().branch.path.strip("/").split("/")[1]))
        proposed = sum(suggestion_funnel(unit=plant, year=y).total.proposed for y in years)
        assert proposed == Suggestion.objects.count()

    def test_the_showcase_committee_runs_its_report_back_and_it_feeds_the_board(self):
        setup = Setup.objects.select_related("committee").get()
        assert sorted(setup.categories.values_list("name", flat=True)) == ["机关单位", "生产单位"]
        standing = Draw.objects.filter(setup=setup, state=Draw.State.STANDING)
        assert standing.count() == 5  # four complete months and this one
        superseded = Draw.objects.get(state=Draw.State.SUPERSEDED)
        assert superseded.superseded_by.redraw_reason and superseded.reports.exists()
        scored = Report.objects.filter(draw__in=standing, assessments__isnull=False).distinct()
        assert scored.count() >= 3 and not scored.filter(draw__month=timezone.localdate().replace(day=1)).exists()
        assert Comment.objects.exists() and Session.objects.exclude(summary="").exists()
        # The 细则's 月述职测评 takes the score in the months a branch reported.
        graded = BranchScore.objects.filter(committee=setup.committee, month__in=scored.values("draw__month"))
        fed = month_scores(unit_ids=list(graded.values_list("branch_id", flat=True)), month=graded.first().month)
        assert fed and ScoreItem.objects.filter(fed_by="reportback", version__rule_set__committee=setup.committee)


def test_seeding_twice_is_refused_and_reset_clears_the_ledger_too(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    args = ("--branches", "8", "--members", "90", "--months", "2")
    default_rules = list(Rule.objects.filter(version__rule_set__committee__isnull=True).values_list("pk", "code"))
    call_command("seed_demo", *args, stdout=StringIO())
    first = life_counts()
    assert first["entries"] > 0 and first["closed"] > 0 and first["changes"] > 0
    assert any(tmp_path.rglob("*.pdf"))
    with pytest.raises(CommandError):
        call_command("seed_demo", *args, stdout=StringIO())
    # A committee's own rule set goes with the tree; the installation's default stays.
    committee = OrgUnit.objects.filter(kind="committee", parent__isnull=False).first()
    own = RuleSet.objects.create(committee=committee, name="厂规则")
    RuleSetVersion.objects.create(rule_set=own, number=1, effective_month=datetime.date(2000, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):  # stored files go once a reset commits
        call_command("seed_demo", "--reset", *args, stdout=StringIO())
    assert_consistent()
    assert_ledger_follows_attendance()
    assert life_counts() == first  # the same seed gives the same months
    # The reset removed the committee's rule set; the demo made its own 细则 again.
    assert not RuleSet.objects.filter(name="厂规则").exists()
    assert [rs.versions.count() for rs in RuleSet.objects.filter(committee__isnull=False)] == [2]
    assert list(Rule.objects.filter(version__rule_set__committee__isnull=True).values_list("pk", "code")) == (
        default_rules
    )
    with django_capture_on_commit_callbacks(execute=True):
        reset_demo_data()
    assert not LedgerEntry.objects.exists() and not Activity.objects.exists() and not OrgUnit.objects.exists()
    assert not CommitteeMonth.objects.exists() and not any(tmp_path.rglob("*.pdf"))


def test_reset_deletes_every_dependent_model_before_the_models_it_points_at():
    order = _dependent_models(OWN_MODELS)
    assert CommitteeMonth in order and LedgerEntry in order
    for position, model in enumerate(order):
        for field in model._meta.concrete_fields:
            target = field.related_model if field.many_to_one or field.one_to_one else None
            if target in order and target is not model:
                assert order.index(target) > position, (model, target)


def test_the_bulk_mode_builds_a_large_tree_and_its_months_consistently(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", "--branches", "120", "--members", "1200", "--months", "1", stdout=StringIO())
    assert OrgUnit.objects.filter(kind="branch").count() == 120
    assert Member.objects.count() >= 1200
    assert_consistent()
    assert Activity.objects.count() > 120 * 5
    assert_ledger_follows_attendance()
    active = Member.objects.filter(left_on__isnull=True)
    assert active.filter(ledger_entries__isnull=False).distinct().count() >= 0.95 * active.count()


def test_the_bulk_mode_has_no_months_unless_asked():
    call_command("seed_demo", "--branches", "101", "--members", "400", stdout=StringIO())
    assert OrgUnit.objects.filter(kind="branch").count() == 101
    assert not Activity.objects.exists() and not LedgerEntry.objects.exists()
