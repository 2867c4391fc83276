"""``manage.py seed_demo``: a believable steel-group organisation to try partybuild on.

The default is a small demo (about 30 branches and 400 members) with one login per
role and the last four complete months plus this month so far of organisational life:
三会一课, 主题党日, training, shock-team work, attendance, and the points they earn.
``--members 100000 --branches 1300`` builds an Ansteel-size tree for benchmarks
(``--months K`` adds K months of activities and points there too).

What exists is decided up front by ``members.demo`` (the organisation) and
``branches.activities.demo`` (its months) from seeded ``random.Random`` streams, so a
given ``--seed`` always gives the same data; this module only writes it. The small demo
creates units, terms, activities, attendance corrections, awards, deductions,
reversals and the closed month through the services, like the application does, so
every ledger entry is one the application would have posted; the large one
bulk-inserts, because a service call per row would take minutes. Members, periods,
roles and honours are always bulk-inserted: the plan already obeys every rule
``members.services.member_validate`` and the database constraints check.
"""

import contextlib
import csv
import datetime
import functools
import io
import itertools
import os
import random
import struct
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.db.models import Count, Q
from django.utils import timezone

from branches import dataversion
from branches.activities.demo import ActivityPlan, EntryPlan, LifePlan, plan_life
from branches.activities.models import Activity, ActivityAttachment, Attendance, AttendanceChange
from branches.activities.services import activity_attachment_add, activity_cancel, activity_create, attendance_set
from branches.choices import AttendanceStatus
from branches.grading.demo import seed_grading
from branches.grading.models import Publication, PublishedBranchScore, PublishedMemberScore
from branches.models import BranchTerm, BranchTitle, CommitteeMonth, OrgUnit, RoleBinding
from branches.notifications.demo import seed_notifications
from branches.projects.demo import projects_summary, seed_projects
from branches.reportback.demo import seed_reportback
from branches.reportback.models import Report as ReportBack
from branches.reportback.models import Setup as ReportBackSetup
from branches.selectors import committees_for
from branches.services import (
    add_years,
    branch_term_start,
    branch_title_award,
    branch_title_withdraw,
    committee_tracking_set,
    month_close,
    org_unit_create,
    org_unit_update,
    role_binding_create,
)
from members.commitments.demo import seed_commitments
from members.demo import Plan, plan_demo
from members.ledger.demo import seed_scheme
from members.ledger.models import LedgerEntry, MeetingRequirement, Rule, RuleSet, RuleSetVersion, ScoreItem, Source
from members.ledger.services import ledger_entry_record, ledger_entry_reverse, rule_version_for
from members.me.demo import seed_member_login, seed_member_view
from members.models import Member, MemberHonour, MemberRole, Membership
from members.reviews.demo import seed_reviews
from members.suggestions.demo import seed_suggestions
from members.suggestions.models import Suggestion
from partybuild.audit.demo import seed_audit
from partybuild.demo import WAITING_USERNAME, seed_workbench

DEFAULT_PASSWORD = "partybuild-demo"
DEMO_USERNAMES = ("admin", "committee", "secretary", "member", WAITING_USERNAME)
# Up to this many branches the tree is written through the services, one unit at a time.
SERVICE_MODE_MAX_BRANCHES = 100
BATCH_SIZE = 5000
# Everything the demo writes, in an order where each table's rows go before the rows
# they point at (MemberRole → BranchTerm, Membership → Member → OrgUnit).
OWN_MODELS = (MemberHonour, MemberRole, Membership, Member, BranchTitle, BranchTerm, RoleBinding, OrgUnit)
# Organisational life and the published rankings: ledger entries and published scores
# (append-only: PostgreSQL refuses to DELETE them, so --reset TRUNCATEs), then
# activities, dependents first.
LIFE_MODELS = (
    LedgerEntry,
    AttendanceChange,
    ActivityAttachment,
    Attendance,
    Activity,
    PublishedMemberScore,
    PublishedBranchScore,
    Publication,
)
# Complete months of activities and points before the current one, in the small demo.
DEFAULT_MONTHS = 4
STUDY_TASK = "study_task"


@dataclass
class Written:
    """What ``_write`` made: units and member ids by plan index, and the logins."""

    plan: Plan
    units: list[OrgUnit]
    members: list[int]
    admin: object
    secretary: object
    logins: dict


class Command(BaseCommand):
    help = (
        "Seed a demo organisation (集团党委 → plant committees → branches → party groups) with members, "
        "history and one login per role. Refuses when the tree is not empty unless --reset is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=400, help="number of party members (default 400)")
        parser.add_argument("--branches", type=int, default=30, help="number of party branches (default 30)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed; the same seed gives the same data")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="first delete the whole organisation tree, its members and everything hanging off them, "
            "and the demo logins",
        )
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"password for the demo logins admin, committee and secretary (default {DEFAULT_PASSWORD})",
        )
        parser.add_argument(
            "--months",
            type=int,
            default=None,
            help=f"months of organisational life (activities, attendance, points): that many complete months "
            f"before this one and this month so far (default {DEFAULT_MONTHS}; 0 in bulk mode)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even with PARTYBUILD_ENV=production (the demo's invented members and known passwords)",
        )

    def handle(self, *args, **options):
        if settings.PARTYBUILD_ENV == "production" and not options["force"]:
            # Demo logins with a published password and invented members do not belong in
            # a live installation; a demo container runs as production too, hence --force.
            raise CommandError(
                "PARTYBUILD_ENV is production: seed_demo would add invented members and logins with a known "
                "password to this installation. Run it with --force if this is a demo installation."
            )
        self.verbosity = options["verbosity"]
        members, branches = options["members"], options["branches"]
        if branches < 1 or members < 3 * branches:
            raise CommandError("Give at least one branch and three members per branch.")
        large = branches > SERVICE_MODE_MAX_BRANCHES
        months = options["months"]
        if months is None:
            months = 0 if large else DEFAULT_MONTHS
        if months < 0:
            raise CommandError("--months cannot be negative.")
        started = time.perf_counter()
        today = timezone.localdate()
        with transaction.atomic():
            self._make_room(reset=options["reset"])
            plan = plan_demo(random.Random(options["seed"]), today, members=members, branches=branches, large=large)
            self._stage(started, f"planned {len(plan.units)} units and {len(plan.members)} members")
            written = self._write(plan, options["password"], large=large, started=started)
            if months:
                # A stream of its own, so the organisation is the same whatever --months says.
                life = plan_life(plan, random.Random(f"{options['seed']}/life"), today, months=months, extras=not large)
                # The demo's committees began using the system with its first month of
                # organisational life: earlier months are not tracked. (Without --months
                # nothing is set, and every month counts: the benchmarks write their own.)
                for root in OrgUnit.objects.filter(parent__isnull=True, kind=OrgUnit.Kind.COMMITTEE):
                    committee_tracking_set(committee=root, tracked_from=life.months[0])
                if not large and len(life.months) >= 3:
                    # The showcase committee grades by its own 细则 and revised them once.
                    seed_scheme(committee=written.units[plan.committee], months=life.months, user=written.admin)
                self._stage(
                    started,
                    f"planned {len(life.activities)} activities and {len(life.entries)} manual entries "
                    f"over {len(life.months)} months",
                )
                life_writer = BulkLifeWriter(written) if large else ServiceLifeWriter(written)
                life_writer.write(plan, life, stage=lambda message: self._stage(started, message))
                if life_writer.mismatches:
                    self.stdout.write(
                        self.style.WARNING(
                            f"warning: {life_writer.mismatches} attendances differ between the plan and "
                            "expected_attendees: branches.activities.demo.Roster no longer follows the selector"
                        )
                    )
        analyze()
        self._report(written.logins, options["password"], time.perf_counter() - started)

    # --- before: an empty tree ----------------------------------------------------------

    def _make_room(self, *, reset: bool) -> None:
        """Refuse to mix the demo with existing data, or clear it all with --reset."""
        if reset:
            for label in reset_demo_data():
                self.stdout.write(f"  cleared {label}")
            return
        if OrgUnit.objects.exists():
            raise CommandError(
                "The database already has an organisation tree. seed_demo only fills an empty one; "
                "use --reset to delete the tree, its members and the demo logins first."
            )
        taken = get_user_model().objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True)
        if taken:
            raise CommandError(f"User(s) {', '.join(taken)} already exist; use --reset to replace them.")

    # --- writing ------------------------------------------------------------------------

    def _write(self, plan: Plan, password: str, *, large: bool, started: float) -> Written:
        """Write the plan in dependency order; returns the rows and the logins."""
        admin = create_admin(password)
        writer = BulkWriter() if large else ServiceWriter()
        units = writer.units(plan)
        self._stage(started, f"wrote {len(units)} units")
        terms = writer.terms(plan, units, admin)
        write_titles(plan, units, admin)
        with foreign_keys_checked_after((Member, Membership, MemberRole, MemberHonour)):
            member_pks = write_members(plan, units)
            self._stage(started, f"wrote {len(member_pks)} members and their membership periods")
            write_roles(plan, units, member_pks, terms)
            write_honours(plan, member_pks, admin)
        self._stage(started, f"wrote {len(plan.roles)} roles and {len(plan.honours)} honours")
        logins = create_logins(plan, units, member_pks, admin, password)
        secretary = get_user_model().objects.get(username="secretary")
        if not large:  # a member's own login (members.me)
            logins |= seed_member_login(branch=units[plan.showcase], secretary=secretary, password=password)
        return Written(plan, units, member_pks, admin, secretary, logins)

    def _stage(self, started: float, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(f"  {time.perf_counter() - started:6.1f} s  {message}")

    # --- after: what was made and how to get in -------------------------------------------

    def _report(self, logins: dict, password: str, elapsed: float) -> None:
        kinds = Counter(OrgUnit.objects.values_list("kind", flat=True))
        members = Member.objects.filter(left_on__isnull=True)
        probationary = members.filter(status=Member.Status.PROBATIONARY).count()
        transfers = Membership.objects.filter(end_reason=Membership.EndReason.TRANSFER).count()
        write = self.stdout.write
        write("")
        write(
            f"Units: committees 党委 {kinds[OrgUnit.Kind.COMMITTEE]}, general branches 党总支 "
            f"{kinds[OrgUnit.Kind.GENERAL_BRANCH]}, branches 党支部 {kinds[OrgUnit.Kind.BRANCH]}, "
            f"party groups 党小组 {kinds[OrgUnit.Kind.GROUP]}"
        )
        write(
            f"Members: current {members.count()} (probationary {probationary}), "
            f"left {Member.objects.filter(left_on__isnull=False).count()}, transfers {transfers}"
        )
        write(
            f"Also: terms {BranchTerm.objects.count()}, titles {BranchTitle.objects.count()}, "
            f"roles {MemberRole.objects.count()}, honours {MemberHonour.objects.count()}"
        )
        for line in life_summary():
            write(line)
        for rule_set in RuleSet.objects.filter(committee__isnull=False).select_related("committee"):
            versions = ", ".join(
                f"v{v.number} from {v.effective_month:%Y-%m} ({v.score_items.count()} scored items)"
                for v in rule_set.versions.order_by("number")
            )
            write(f"Own rules (细则): {rule_set.committee.name} — {versions}")
        write("")
        address = os.environ.get("DEMO_ADDR") or "127.0.0.1:8000"
        write(f"Open http://{address}/ and sign in (user, password, role — bound to):")
        for username, (role, where) in logins.items():
            write(f"  {username:<10} {password}   {role} — {where}")
        write("")
        write(
            self.style.SUCCESS(
                f"Seeded {Member.objects.count()} members in {kinds[OrgUnit.Kind.BRANCH]} branches in {elapsed:.1f} s"
            )
        )


def life_summary() -> list[str]:
    """What the demo's months hold: activities, attendance, entries, closed months."""
    activities = Activity.objects.aggregate(
        total=Count("pk"),
        cancelled=Count("pk", filter=Q(status=Activity.Status.CANCELLED)),
        first=models.Min("date"),
        last=models.Max("date"),
    )
    if not activities["total"]:
        return ["Organisational life: none (give --months to add some)"]
    kinds = Counter(dict(Activity.objects.values_list("kind").annotate(n=Count("pk")).order_by()))
    by_kind = ", ".join(
        f"{label} {kinds[value]}" for value, label in Activity._meta.get_field("kind").choices if kinds[value]
    )
    statuses = Counter(dict(Attendance.objects.values_list("status").annotate(n=Count("pk")).order_by()))
    entries = LedgerEntry.objects.aggregate(
        total=Count("pk"),
        members=Count("member", distinct=True),
        reversals=Count("pk", filter=Q(reverses__isnull=False)),
        manual_reversals=Count("pk", filter=Q(reverses__isnull=False, source=Source.MANUAL)),
        attendance=Count("pk", filter=Q(source=Source.ATTENDANCE, reverses__isnull=True)),
        manual=Count("pk", filter=Q(source=Source.MANUAL, reverses__isnull=True)),
        evidence=Count("pk", filter=~Q(evidence="")),
    )
    closed = CommitteeMonth.objects.filter(state=CommitteeMonth.State.CLOSED).select_related("committee")
    closed_by_month: dict[datetime.date, list[str]] = defaultdict(list)
    for row in closed.order_by("month", "committee__path"):
        closed_by_month[row.month].append(row.committee.name)
    return [
        f"Organisational life {activities['first']:%Y-%m-%d} to {activities['last']:%Y-%m-%d}: "
        f"activities {activities['total']} ({activities['cancelled']} cancelled) — {by_kind}",
        f"  attendance {sum(statuses.values())} (present {statuses['present']}, late {statuses['late']}, "
        f"excused {statuses['excused']}, absent {statuses['absent']}; "
        f"{AttendanceChange.objects.count()} corrections), attachments {ActivityAttachment.objects.count()}",
        f"  ledger entries {entries['total']} for {entries['members']} members: from attendance "
        f"{entries['attendance']}, manual {entries['manual']} ({entries['evidence']} with evidence), "
        f"reversals {entries['reversals']} ({entries['manual_reversals']} of manual entries)",
        "  closed months: "
        + (
            "; ".join(
                f"{month:%Y-%m} for {len(names)} committees ({', '.join(names[:6])}{' …' if len(names) > 6 else ''})"
                for month, names in closed_by_month.items()
            )
            or "none"
        ),
        projects_summary(),
        *(
            f"  月述职 (report-back): {setup.committee.name} — cycles of {setup.cycle_months} months from "
            f"{setup.cycle_start:%Y-%m}, {setup.n_draws} draws ({setup.n_superseded} superseded by a redraw), "
            f"{setup.n_scored} reports scored"
            for setup in ReportBackSetup.objects.select_related("committee").annotate(
                n_draws=Count("draws", distinct=True),
                n_superseded=Count("draws", filter=Q(draws__state="superseded"), distinct=True),
                n_scored=Count("draws__reports", filter=Q(draws__reports__assessments__isnull=False), distinct=True),
            )
        ),
    ]


# --- organisational life: two writers ---------------------------------------------------------


def tiny_pdf(text: str) -> bytes:
    """A valid one-page PDF showing one line of ASCII ``text``: evidence and minutes
    scans that any viewer opens."""
    text = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 16 Tf 72 770 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def tiny_png(width: int = 96, height: int = 64) -> bytes:
    """A valid PNG: a red banner with a gold stripe, standing in for an activity photo."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    red, gold = bytes((200, 16, 46)), bytes((255, 204, 0))
    rows = b"".join(b"\x00" + (gold if height // 3 <= y < height // 3 + 6 else red) * width for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def grading_committees(plan: Plan, units: list[OrgUnit]) -> list[OrgUnit]:
    """The committees that grade the plan's branches: each branch's nearest committee."""
    nearest = committees_for(units=[units[b] for b in plan.branches])
    return sorted({c.pk: c for c in nearest.values() if c is not None}.values(), key=lambda c: c.path)


class BulkLifeWriter:
    """Writes the months of the Ansteel-size tree straight into the tables: activities,
    attendance at its final status, and the ledger entries the services would have
    posted for it — the rules of the version in force matched by activity kind and
    status, points per class hour, monthly caps clipped in date order — plus the
    month's study tasks, awards (one shared evidence file) and deductions. No
    corrections or cancellations: those need the services' history. Attendance and
    entries name no user who changed or recorded them (the seed did, as with membership
    periods). Ids are reserved up front so attendance and entries can point at their
    rows; on PostgreSQL the rows go in with COPY (bulk_create elsewhere).

    To make a month denser (issue 4's benchmark wants a dozen entries per member),
    plan more in ``branches.activities.demo``: this writer follows whatever is planned."""

    mismatches = 0  # attendance lists are the plan's, by construction

    def __init__(self, written: Written):
        self.w = written
        self.now = timezone.now()

    def write(self, plan: Plan, life: LifePlan, *, stage: Callable[[str], None]) -> None:
        with foreign_keys_checked_after((Activity, Attendance, LedgerEntry)):
            self._write(plan, life, stage=stage)
        if life.close_month is not None:
            for committee in grading_committees(plan, self.w.units):
                month_close(committee=committee, month=life.close_month, user=self.w.admin, reason=life.close_reason)
            stage(f"closed {life.close_month:%Y-%m} for the committees")

    def _write(self, plan: Plan, life: LifePlan, *, stage: Callable[[str], None]) -> None:
        units, admin = self.w.units, self.w.admin
        member_pk = self.w.members
        branch_pk = {i: units[m.current.branch].pk for i, m in enumerate(plan.members)}
        versions = self._versions(plan, life)
        evidence = ""
        if any(e.evidence for e in life.entries):
            evidence = default_storage.save(
                "evidence/demo/表彰决定.pdf", io.BytesIO(tiny_pdf("partybuild demo evidence"))
            )
        for month in life.months:
            activities = life.activities_in(month)
            activity_ids = reserve_ids(Activity, len(activities))
            copy_rows(
                Activity,
                ("id", "branch_id", "group_id", "kind", "title", "date", "place", "host", "minutes", "class_hours")
                + ("status", "cancelled_reason", "created_by_id", "created_at", "updated_at"),
                (
                    (pk, units[a.branch].pk, units[a.group].pk if a.group is not None else None, a.kind, a.title)
                    + (a.date, a.place, a.host, a.minutes, a.class_hours, Activity.Status.HELD, "", admin.pk)
                    + (self.now, self.now)
                    for pk, a in zip(activity_ids, activities, strict=True)
                ),
            )
            attendance_ids = iter(reserve_ids(Attendance, sum(len(a.attendance) for a in activities)))
            attendances, entries = [], []
            so_far: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
            for pk, a in zip(activity_ids, activities, strict=True):
                version, by_kind, _manual = versions[(units[a.branch].parent_id, month)]
                rules = by_kind.get(a.kind, [])
                branch = units[a.branch].pk
                for i, status in a.attendance.items():
                    attendance = next(attendance_ids)
                    attendances.append((attendance, pk, member_pk[i], status, None, self.now))
                    for rule in rules:
                        if status not in rule.attendance_statuses:
                            continue
                        points = rule.points_min
                        if rule.per_class_hour:
                            if not a.class_hours:
                                continue
                            points = (points * a.class_hours).quantize(Decimal("0.01"))
                        if rule.monthly_cap is not None and points > 0:
                            points = min(points, max(rule.monthly_cap - so_far[(i, rule.code)], Decimal("0")))
                        so_far[(i, rule.code)] += points
                        entries.append(
                            (member_pk[i], branch, month, rule.pk, version.pk, rule.category, points)
                            + (Source.ATTENDANCE, attendance, "", a.title)
                        )
            for e in life.entries_in(month):
                version, _kinds, manual = versions[(units[plan.members[e.member].current.branch].parent_id, month)]
                rule = manual[e.rule]
                entries.append(
                    (member_pk[e.member], branch_pk[e.member], month, rule.pk, version.pk, rule.category, e.points)
                    + (Source.MANUAL, None, evidence if e.evidence else "", e.reason)
                )
            copy_rows(
                Attendance, ("id", "activity_id", "member_id", "status", "changed_by_id", "changed_at"), attendances
            )
            entry_ids = reserve_ids(LedgerEntry, len(entries))
            copy_rows(
                LedgerEntry,
                ("id", "member_id", "branch_id", "month", "rule_id", "rule_version_id", "category", "points")
                + ("source", "source_id", "evidence", "reason", "reverses_id", "recorded_by_id", "recorded_at"),
                ((pk, *row, None, None, self.now) for pk, row in zip(entry_ids, entries, strict=True)),
            )
            stage(
                f"wrote {month:%Y-%m}: {len(activities)} activities, {len(attendances)} attendances, "
                f"{len(entries)} ledger entries"
            )

    def _versions(self, plan: Plan, life: LifePlan) -> dict:
        """The rule-set version in force for each branch's parent and month, with its
        attendance rules by activity kind and its other rules by code. Branches under
        one parent share their ancestors, hence their rule set."""
        result: dict[tuple[int, datetime.date], tuple] = {}
        by_pk: dict[int, tuple] = {}
        for b in plan.branches:
            unit = self.w.units[b]
            for month in life.months:
                if (unit.parent_id, month) in result:
                    continue
                version = rule_version_for(unit=unit, month=month)
                if version.pk not in by_pk:
                    by_kind: dict[str, list[Rule]] = defaultdict(list)
                    manual: dict[str, Rule] = {}
                    for rule in version.rules.all():
                        if rule.source == Source.ATTENDANCE:
                            for kind in rule.activity_kinds:
                                by_kind[kind].append(rule)
                        else:
                            manual[rule.code] = rule
                    by_pk[version.pk] = (version, dict(by_kind), manual)
                result[(unit.parent_id, month)] = by_pk[version.pk]
        return result


@contextlib.contextmanager
def foreign_keys_checked_after(models_: tuple[type[models.Model], ...]):
    """On PostgreSQL, drop the tables' foreign keys for the block and add them back
    after it, as pg_restore does: adding a key checks every row in one join, where
    a key in place checks each row as it arrives (millions of lookups, half the time
    of a large COPY). All inside the caller's transaction, so nothing is ever left
    without its keys. Elsewhere it does nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Checks still queued from earlier rows would block the ALTERs: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [[m._meta.db_table for m in models_]],
        )
        keys = cursor.fetchall()
        for table, name, _definition in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    yield
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def reserve_ids(model: type[models.Model], count: int) -> range:
    """A block of ``count`` primary keys nobody else will be given: the rows can then
    point at each other before they are written."""
    if count == 0:
        return range(0)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                [table, table, count],
            )
            last = cursor.fetchone()[0]
            return range(last - count + 1, last + 1)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        first = cursor.fetchone()[0] + 1
        return range(first, first + count)


def copy_rows(model: type[models.Model], columns: tuple[str, ...], rows) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, attribute names) into ``model``'s
    table: COPY on PostgreSQL, in chunks; ``bulk_create`` elsewhere.

    The rows travel as CSV, written by the csv module in C: None is an empty field,
    which COPY reads as NULL, except in the NOT NULL columns, where it is the empty
    string (FORCE_NOT_NULL). So a nullable text column cannot be given an empty string."""
    if connection.vendor != "postgresql":
        rows = iter(rows)
        while chunk := [model(**dict(zip(columns, row, strict=True))) for row in itertools.islice(rows, BATCH_SIZE)]:
            model.objects.bulk_create(chunk)
        return
    quote = connection.ops.quote_name
    field_of = {f.attname: f for f in model._meta.concrete_fields}
    names = ", ".join(quote(field_of[c].column) for c in columns)
    not_null = ", ".join(quote(field_of[c].column) for c in columns if not field_of[c].null)
    options = f"FORMAT csv, FORCE_NOT_NULL ({not_null})" if not_null else "FORMAT csv"
    sql = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN WITH ({options})"
    rows = iter(rows)
    with connection.cursor() as cursor:
        while chunk := list(itertools.islice(rows, 100_000)):
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(chunk)
            buffer.seek(0)
            cursor.copy_expert(sql, buffer)
    # COPY does not pass the connection's execute wrappers: its table's data version is
    # bumped here, on commit (branches/dataversion.py).
    dataversion.written(connection, {model._meta.db_table})


class ServiceLifeWriter:
    """Writes the months through the services, as a secretary in the browser would:
    ``activity_create`` (everyone present, points posted), ``attendance_set`` for each
    late, excused or absent member (the present entry reversed, the new one posted),
    attachments, the cancelled duplicate, then the month's manual awards, deductions
    and corrections through ``ledger_entry_record`` / ``ledger_entry_reverse``; finally
    the oldest month is closed for every committee that grades branches.

    The monthly study tasks (+3 for most members, over a thousand entries) go through
    ``ledger_entry_record`` in the demo secretary's branch only and are bulk-inserted
    as the same rows elsewhere, a fifth of the seed's time saved. The demo secretary
    records for their own branch; the administrator for the others (they have no login
    of their own)."""

    def __init__(self, written: Written):
        self.w = written
        self.index_of = {pk: i for i, pk in enumerate(written.members)}
        self.mismatches = 0  # attendance lists where the plan and the application disagree
        self._versions: dict[tuple[int, datetime.date], tuple[RuleSetVersion, dict[str, Rule]]] = {}
        self._pdf = tiny_pdf("partybuild demo evidence")
        self._png = tiny_png()

    def _user(self, branch: int):
        return self.w.secretary if branch == self.w.plan.showcase else self.w.admin

    def write(self, plan: Plan, life: LifePlan, *, stage: Callable[[str], None]) -> None:
        members = Member.objects.select_related("branch").in_bulk(self.w.members)
        branch_of = {self.w.units[b].pk: b for b in plan.branches}
        for month in life.months:
            # Fresh statistics as the tables grow (see below): without them PostgreSQL
            # planned each attendance click's row lock as a scan of the whole table.
            analyze()
            activities = life.activities_in(month)
            self._activities(activities)
            entries = life.entries_in(month)
            bulk = []
            for entry in entries:
                member = members[self.w.members[entry.member]]
                branch = branch_of[member.branch_id]
                if entry.rule == STUDY_TASK and branch != plan.showcase:
                    bulk.append((entry, member, branch))
                else:
                    self._entry(entry, member, branch)
            self._bulk_study_tasks(bulk)
            stage(f"wrote {month:%Y-%m}: {len(activities)} activities, {len(entries)} manual entries")
        # Commitments before the grading: their checks post into the check months, and
        # the grading publishes (closes) the past months.
        committee = self.w.units[plan.committee]
        staffer = get_user_model().objects.filter(username="committee").first() or self.w.admin
        counts = seed_commitments(
            branches=[self.w.units[b] for b in plan.branches],
            secretary_for=lambda branch: self._user(branch_of[branch.pk]),
            committee_user_for=lambda branch: staffer if branch.path.startswith(committee.path) else self.w.admin,
            rng=random.Random(f"{len(plan.members)}/{len(plan.branches)}/commitments"),
            evidence=self._pdf,
            showcase=self.w.units[plan.showcase],
        )
        stage(
            f"commitments: {counts['commitments']} made, {counts['checked']} checks, "
            f"{counts['published']} mid-year publications"
        )
        # 合理化建议 through the funnel, moved in the demo's months before grading closes
        # them, so their points count in the boards.
        counts = seed_suggestions(
            committee=self.w.units[plan.committee],
            months=life.months,
            user=self.w.admin,
            rng=random.Random(f"{len(plan.members)}/{len(plan.branches)}/suggestions"),
            secretary=self.w.secretary,
            showcase=self.w.units[plan.showcase],
        )
        stage(
            f"suggestions: {counts['proposed']} proposed, {counts['accepted']} accepted, "
            f"{counts['published']} published, {counts['implemented']} implemented"
        )
        # Projects: value recorded into the months before grading closes them.
        projects = seed_projects(
            committee=self.w.units[plan.committee],
            months=life.months,
            admin=self.w.admin,
            secretary=self.w.secretary,
            showcase=self.w.units[plan.showcase],
            rng=random.Random(f"{len(plan.members)}/{len(plan.branches)}/projects"),
        )
        stage(
            f"projects: {projects['projects']} projects, {projects['values']} months of value, "
            f"{projects['milestones']} milestones accepted, {projects['challenges']} challenges, "
            f"{projects['claims']} claims"
        )
        # The monthly loop, as the committees run it: scores entered, graded, published
        # (which closes the month) with talks for the bottom three; the latest complete
        # month stays a draft. Statistics first: the rows written above are still
        # uncommitted, autovacuum cannot see them, and the grading's joins planned for
        # empty tables took seconds each (ANALYZE counts this transaction's own rows).
        analyze()
        # 月述职 of the showcase committee before the grading: its scores feed the 细则.
        reportback = seed_reportback(
            committee=self.w.units[plan.committee],
            months=life.months,
            admin=self.w.admin,
            rng=random.Random(f"{len(plan.members)}/{len(plan.branches)}/reportback"),
            pdf=self._pdf,
        )
        stage(
            f"report-back: {reportback['draws']} months drawn, {reportback['reports']} reports, "
            f"{reportback['scores']} scores"
        )
        counts = seed_grading(
            committees=grading_committees(plan, self.w.units),
            months=life.months,
            admin=self.w.admin,
            rng=random.Random(f"{len(plan.members)}/{len(plan.branches)}/grading"),
        )
        stage(
            f"graded: {counts['inputs']} entered scores, {counts['runs']} runs, "
            f"{counts['publications']} publications, {counts['talks']} talks"
        )
        # The year's democratic review of the showcase committee's branches (at the
        # 民主评议党员 meetings written above), its support plans, and talks with members.
        counts = seed_reviews(
            committee=self.w.units[plan.committee],
            showcase=self.w.units[plan.showcase],
            secretary=self.w.secretary,
            admin=self.w.admin,
            rng=random.Random(f"{len(plan.members)}/{len(plan.branches)}/reviews"),
        )
        stage(
            f"reviewed: {counts['reviews']} democratic reviews, {counts['results']} results, "
            f"{counts['plans']} support plans, {counts['talks']} talks with members"
        )
        # The member login's own suggestion, and today's Party lecture with its QR code.
        counts = seed_member_view(branch=self.w.units[plan.showcase], secretary=self.w.secretary)
        stage(f"member view: {counts['suggestions']} own suggestion, {counts['activities']} activity with QR sign-in")
        # The reminders of the last week's 08:00 runs, so the demo logins' bells ring.
        counts = seed_notifications(today=timezone.localdate())
        stage("reminders: " + (", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "none due"))
        # The administrator's workbench: a login waiting for a role, a report job's history.
        counts = seed_workbench(
            committee=self.w.units[plan.committee], staffer=get_user_model().objects.get(username="committee")
        )
        stage(f"workbench: {counts['users']} login waiting for a role, {counts['reports']} report job")
        # The audit trail: a tier raised by committee staff, an account completed by the admin.
        counts = seed_audit(
            branch=self.w.units[plan.showcase],
            staffer=get_user_model().objects.get(username="committee"),
            admin=self.w.admin,
        )
        stage(f"audit trail: {counts['changes']} changes made by hand after the seed")

    def _activities(self, planned: list[ActivityPlan]) -> None:
        """Log a month's activities, then correct their attendance, attach files and
        cancel the duplicate, as a secretary catching up at the end of the month would."""
        logged = [(a, self._create(a)) for a in planned]
        listed: dict[int, list[tuple[int, int]]] = defaultdict(list)
        rows = Attendance.objects.filter(activity__in=[activity for _a, activity in logged])
        for pk, activity_id, member_id in rows.values_list("pk", "activity_id", "member_id"):
            listed[activity_id].append((pk, member_id))
        for a, activity in logged:
            user = self._user(a.branch)
            seen = 0
            for pk, member_id in listed[activity.pk]:
                status = a.attendance.get(self.index_of[member_id])
                if status is None:
                    self.mismatches += 1
                    continue
                seen += 1
                if status != AttendanceStatus.PRESENT:
                    attendance_set(attendance=Attendance(pk=pk), status=status, user=user)
            self.mismatches += len(a.attendance) - seen
            if a.attachment == "photo":
                upload = SimpleUploadedFile("活动照片.png", self._png, content_type="image/png")
                activity_attachment_add(activity=activity, upload=upload, user=user)
            elif a.attachment == "pdf":
                upload = SimpleUploadedFile("会议记录扫描件.pdf", self._pdf, content_type="application/pdf")
                activity_attachment_add(activity=activity, upload=upload, user=user)
            if a.cancel_reason:
                activity_cancel(activity=activity, reason=a.cancel_reason, user=user)

    def _create(self, a: ActivityPlan) -> Activity:
        return activity_create(
            branch=self.w.units[a.branch],
            kind=a.kind,
            title=a.title,
            date=a.date,
            user=self._user(a.branch),
            group=self.w.units[a.group] if a.group is not None else None,
            place=a.place,
            host=a.host,
            minutes=a.minutes,
            class_hours=a.class_hours,
        )

    def _version(self, member: Member, month: datetime.date) -> tuple[RuleSetVersion, dict[str, Rule]]:
        key = (member.branch_id, month)
        if key not in self._versions:
            version = rule_version_for(unit=member.branch, month=month)
            self._versions[key] = (version, {rule.code: rule for rule in version.rules.all()})
        return self._versions[key]

    def _bulk_study_tasks(self, rows: list[tuple[EntryPlan, Member, int]]) -> None:
        """The month's study tasks outside the demo secretary's branch, as the rows
        ``ledger_entry_record`` would write: a service call each would be most of the
        seed's time. The plan gives each member at most one a month, at the rule's
        fixed points, so the cap cannot bite; the months are open while seeding."""
        entries = []
        for e, member, branch in rows:
            version, rules = self._version(member, e.month)
            rule = rules[e.rule]
            if not (rule.points_min <= e.points <= rule.points_max and e.points <= (rule.monthly_cap or e.points)):
                raise CommandError(f"The planned {e.rule} of {e.points} points is outside {rule}.")
            entries.append(
                LedgerEntry(
                    member=member,
                    branch_id=member.branch_id,
                    month=e.month,
                    rule=rule,
                    rule_version=version,
                    category=rule.category,
                    points=e.points,
                    source=Source.MANUAL,
                    reason=e.reason,
                    recorded_by=self._user(branch),
                )
            )
        LedgerEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)

    def _entry(self, e: EntryPlan, member: Member, branch: int) -> None:
        user = self._user(branch)
        evidence = None
        if e.evidence:
            evidence = SimpleUploadedFile(e.evidence, self._pdf, content_type="application/pdf")
        entry = ledger_entry_record(
            member=member,
            rule=self._version(member, e.month)[1][e.rule],
            month=e.month,
            points=e.points,
            reason=e.reason,
            user=user,
            evidence=evidence,
        )
        if e.reverse_reason:
            ledger_entry_reverse(entry=entry, reason=e.reverse_reason, user=user)


# --- the tree: two writers -----------------------------------------------------------------


class ServiceWriter:
    """Writes units and terms through ``branches.services``, as the application does."""

    def units(self, plan: Plan) -> list[OrgUnit]:
        rows: list[OrgUnit] = []
        for u in plan.units:
            unit = org_unit_create(
                kind=u.kind,
                name=u.name,
                code=u.code,
                parent=rows[u.parent] if u.parent is not None else None,
                brand=u.brand,
                tier=u.tier,
                established_on=u.established_on,
                sort_order=u.sort_order,
            )
            if u.brand_description:
                org_unit_update(
                    unit=unit,
                    name=u.name,
                    brand=u.brand,
                    brand_description=u.brand_description,
                    sort_order=u.sort_order,
                )
            rows.append(unit)
        return rows

    def terms(self, plan: Plan, units: list[OrgUnit], admin) -> dict[tuple[int, int], int]:
        # The plan lists each branch's terms oldest first, so each start closes the last.
        return {
            (t.branch, t.number): branch_term_start(
                branch=units[t.branch], started_on=t.started_on, length_years=t.length_years, user=admin
            ).pk
            for t in plan.terms
        }


class BulkWriter:
    """Inserts units and terms straight into the tables. The units' ids are reserved
    up front, so each path (its ancestors' ids) is known before any row is written and
    the whole tree goes in one COPY (bulk_create elsewhere)."""

    def units(self, plan: Plan) -> list[OrgUnit]:
        now = timezone.now()
        rows: list[OrgUnit] = []
        for pk, u in zip(reserve_ids(OrgUnit, len(plan.units)), plan.units, strict=True):
            parent = rows[u.parent] if u.parent is not None else None  # the plan lists parents first
            row = OrgUnit(
                pk=pk,
                kind=u.kind,
                name=u.name,
                code=u.code,
                parent=parent,
                path=f"{parent.path if parent is not None else '/'}{pk}/",
                depth=u.depth,
                sort_order=u.sort_order,
                brand=u.brand,
                brand_description=u.brand_description,
                tier=u.tier,
                established_on=u.established_on,
                created_at=now,
                updated_at=now,
            )
            rows.append(row)
        columns = ("id", "kind", "name", "code", "parent_id", "path", "depth", "sort_order", "brand")
        columns += ("brand_description", "tier", "established_on", "tracked_from", "dissolved_on")
        columns += ("created_at", "updated_at")
        copy_rows(OrgUnit, columns, ([getattr(row, c) for c in columns] for row in rows))
        return rows

    def terms(self, plan: Plan, units: list[OrgUnit], admin) -> dict[tuple[int, int], int]:
        """Rows as ``branch_term_start`` would leave them: a term closes when the next starts."""
        next_start = {(t.branch, t.number - 1): t.started_on for t in plan.terms}
        rows = [
            BranchTerm(
                branch=units[t.branch],
                number=t.number,
                started_on=t.started_on,
                length_years=t.length_years,
                ends_on=add_years(t.started_on, t.length_years),
                closed_on=next_start.get((t.branch, t.number)),
                created_by=admin,
            )
            for t in plan.terms
        ]
        BranchTerm.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        return {(t.branch, t.number): row.pk for t, row in zip(plan.terms, rows, strict=True)}


def write_titles(plan: Plan, units: list[OrgUnit], admin) -> None:
    """Titles are few at any size, so they always go through the services."""
    for t in plan.titles:
        title = branch_title_award(branch=units[t.branch], kind=t.kind, awarded_on=t.awarded_on, user=admin)
        if t.withdrawn_on is not None:
            branch_title_withdraw(title=title, withdrawn_on=t.withdrawn_on, reason=t.reason, user=admin)


# --- members, in bulk ----------------------------------------------------------------------


def write_members(plan: Plan, units: list[OrgUnit]) -> list[int]:
    """Members at their current (or last) placement, then every membership period;
    returns the members' ids in plan order. Periods carry no ``recorded_by``: nobody
    recorded them, the seed did. Ids are reserved up front so the periods can point at
    their members; the rows go in with COPY on PostgreSQL (bulk_create elsewhere)."""
    now = timezone.now()
    pks = reserve_ids(Member, len(plan.members))
    unit_pk = [u.pk for u in units]
    full, probationary = Member.Status.FULL, Member.Status.PROBATIONARY
    copy_rows(
        Member,
        ("id", "name", "gender", "birth_date", "ethnicity", "employee_no", "phone", "post", "branch_id", "group_id")
        + ("status", "joined_on", "converted_on", "left_on", "user_id", "created_at", "updated_at"),
        (
            (pk, m.name, m.gender, m.birth_date, m.ethnicity, m.employee_no, m.phone, m.post)
            + (unit_pk[m.current.branch], unit_pk[m.current.group] if m.current.group is not None else None)
            + (full if m.is_full else probationary, m.joined_on, m.converted_on, m.left_on, None, now, now)
            for pk, m in zip(pks, plan.members, strict=True)
        ),
    )
    periods = [(pk, p) for pk, m in zip(pks, plan.members, strict=True) for p in m.periods]
    copy_rows(
        Membership,
        ("id", "member_id", "branch_id", "group_id", "started_on", "ended_on", "end_reason", "note")
        + ("recorded_by_id", "recorded_at"),
        (
            (id_, pk, unit_pk[p.branch], unit_pk[p.group] if p.group is not None else None, p.started_on, p.ended_on)
            + (p.end_reason, p.note, None, now)
            for id_, (pk, p) in zip(reserve_ids(Membership, len(periods)), periods, strict=True)
        ),
    )
    return list(pks)


def write_roles(plan: Plan, units: list[OrgUnit], members: list[int], terms: dict[tuple[int, int], int]) -> None:
    copy_rows(
        MemberRole,
        ("id", "member_id", "unit_id", "role", "term_id", "started_on", "ended_on"),
        (
            (pk, members[r.member], units[r.unit].pk, r.role, terms[r.term] if r.term is not None else None)
            + (r.started_on, r.ended_on)
            for pk, r in zip(reserve_ids(MemberRole, len(plan.roles)), plan.roles, strict=True)
        ),
    )


def write_honours(plan: Plan, members: list[int], admin) -> None:
    copy_rows(
        MemberHonour,
        ("id", "member_id", "kind", "title", "stars", "awarded_on", "revoked_on", "revoked_reason", "recorded_by_id"),
        (
            (pk, members[h.member], h.kind, h.title, h.stars, h.awarded_on, None, "", admin.pk)
            for pk, h in zip(reserve_ids(MemberHonour, len(plan.honours)), plan.honours, strict=True)
        ),
    )


# --- logins ----------------------------------------------------------------------------------


@functools.cache
def password_hash(password: str) -> str:
    """The demo logins share one hash of their one published password: each hash
    costs half a second of PBKDF2."""
    return make_password(password)


def create_login(username: str, password: str, **fields):
    return get_user_model().objects.create(username=username, password=password_hash(password), **fields)


def create_admin(password: str):
    """The administrator comes first: terms, titles and honours record who made them.
    Superuser too, so the Django admin works for it."""
    user = create_login("admin", password, first_name="系统管理员", is_staff=True, is_superuser=True)
    role_binding_create(user=user, role=RoleBinding.Role.ADMIN, unit=None)
    return user


def create_logins(plan: Plan, units: list[OrgUnit], members: list[int], admin, password: str) -> dict:
    """A committee staffer on the showcase plant committee and the secretary of one of
    its branches, linked to the member who holds that branch's secretary role."""
    committee_unit, branch = units[plan.committee], units[plan.showcase]
    staffer = create_login("committee", password, first_name="党建工作部")
    role_binding_create(user=staffer, role=RoleBinding.Role.COMMITTEE_STAFF, unit=committee_unit)
    holder_index = next(
        (
            r.member
            for r in plan.roles
            if r.unit == plan.showcase and r.role == MemberRole.Role.SECRETARY and r.ended_on is None
        ),
        None,
    )
    holder = plan.members[holder_index] if holder_index is not None else None
    secretary = create_login("secretary", password, first_name=holder.name if holder else "支部书记")
    role_binding_create(user=secretary, role=RoleBinding.Role.SECRETARY, unit=branch)
    if holder is not None:
        Member.objects.filter(pk=members[holder_index]).update(user=secretary)
    parent = units[plan.units[plan.showcase].parent]
    return {
        admin.username: ("administrator 系统管理员", "the whole organisation, and the Django admin at /admin/"),
        staffer.username: ("party committee staff 党委", committee_unit.name),
        secretary.username: (
            "branch secretary 支部书记",
            f"{branch.name} ({parent.name})" + (f", linked to member {holder.name}" if holder else ""),
        ),
    }


def analyze() -> None:
    """Fresh planner statistics for what was just loaded. Without them PostgreSQL plans
    for the empty tables autovacuum last saw (the export's honours query picked a plan
    50 times slower at 100,000 members).

    The application's tables by name: a bare ANALYZE also takes the cluster's shared
    catalogs (pg_authid, pg_database, …) and, inside a transaction, keeps their locks to
    its end, so two seeds in different databases of one server (parallel test processes)
    waited for each other's whole transaction."""
    if connection.vendor == "postgresql":
        tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(connection.ops.quote_name(t) for t in sorted(tables))}")


# --- reset -----------------------------------------------------------------------------------


def reset_demo_data() -> list[str]:
    """Delete the tree, members, everything that hangs off them, and the demo logins.

    Organisational life goes first: ledger entries and activities (and anything that
    points at them) are emptied table by table, see ``_clear_life``. Other apps' rows
    that point at a member or a unit cannot outlive them, so they go next, through the
    ORM so their own cascades run; nullable SET_NULL links are just cleared. Then the
    rule sets that belong to a committee (the installation's default rule set,
    installed by a migration, stays). The demo's own tables are then emptied with one DELETE each,
    dependents first: the ORM would load every member to check its PROTECT links
    (seconds at 100,000 members) and could not delete the self-referencing tree in one
    go. Returns labels of what was cleared.
    """
    cleared = _clear_life()
    for model, field in _set_null_links(OWN_MODELS):
        model._base_manager.filter(**{f"{field.name}__isnull": False}).update(**{field.name: None})
    handled = set(LIFE_MODELS) | _referrers(LIFE_MODELS) | {RuleSet, RuleSetVersion, Rule} | _audit_models()
    dependents = _dependent_models(OWN_MODELS, skip=handled)
    targets = set(OWN_MODELS) | set(dependents)
    for model in dependents:
        # Only rows that point into the tree: an administrator's binding to no unit stays.
        links = Q()
        for field in model._meta.concrete_fields:
            if (field.many_to_one or field.one_to_one) and field.related_model in targets:
                links |= Q(**{f"{field.name}__isnull": False})
        # Their stored files (a commitment check's evidence) go once the reset commits.
        files = [
            name
            for field in model._meta.concrete_fields
            if isinstance(field, models.FileField)
            for name in model._base_manager.filter(links).exclude(**{field.name: ""}).values_list(field.name, flat=True)
        ]
        if files:
            transaction.on_commit(lambda files=files: _delete_files(files))
        count, _ = model._base_manager.filter(links).delete()
        cleared.append(f"{model._meta.label} ({count} rows with what hangs off them)")
    # After the dependents: their rows (a grading run, say) may name a committee's version.
    cleared += _clear_committee_rule_sets()
    with connection.cursor() as cursor:
        for model in OWN_MODELS:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
            cleared.append(f"{model._meta.label} ({cursor.rowcount} rows)")
    user_model = get_user_model()
    _, per_model = user_model.objects.filter(username__in=DEMO_USERNAMES).delete()
    cleared.append(f"demo logins ({per_model.get(user_model._meta.label, 0)} users)")
    return cleared


def _audit_models() -> set[type[models.Model]]:
    """The audit trail's event tables name units and users without a foreign-key
    constraint and refuse DELETE: a reset leaves the record of what the demo did."""
    return set(apps.get_app_config("audit").get_models())


def _clear_life() -> list[str]:
    """Empty the ledger and the activity tables, and whatever points at them: every row
    belongs to a member or a branch about to go.

    The ledger is append-only: on PostgreSQL a row trigger refuses every DELETE. TRUNCATE
    is a table operation the trigger does not see; the tables go in one statement, so
    the foreign keys among them need no order, and without CASCADE, which would quietly
    empty tables nobody listed. SQLite has no trigger: plain DELETEs (its foreign keys
    are checked at commit). Stored evidence and attachment files are deleted once the
    transaction commits."""
    tables = [*_referrers(LIFE_MODELS), *LIFE_MODELS]
    counts = [(model, model._base_manager.count()) for model in tables]
    files = sorted(
        {
            *LedgerEntry.objects.exclude(evidence="").values_list("evidence", flat=True).distinct(),
            *ActivityAttachment.objects.exclude(file="").values_list("file", flat=True),
            *Suggestion.objects.exclude(evidence="").values_list("evidence", flat=True),
            # Written report-backs go with the units (their rows as dependents of the tree).
            *ReportBack.objects.exclude(file="").values_list("file", flat=True),
        }
    )
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Foreign-key checks still queued in this transaction would block TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(quote(m._meta.db_table) for m in tables)} RESTART IDENTITY")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for model in tables:
                cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")
    if files:
        transaction.on_commit(lambda: _delete_files(files))
    return [f"{model._meta.label} ({count} rows)" for model, count in counts]


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            pass  # already gone, or not ours to delete: nothing to undo


def _clear_committee_rule_sets() -> list[str]:
    """Rule sets that belong to a committee go with the tree, versions and rules first.
    The installation's default rule set (no committee) is never touched."""
    own = RuleSet.objects.filter(committee__isnull=False)
    rules, _ = Rule.objects.filter(version__rule_set__in=own).delete()
    MeetingRequirement.objects.filter(version__rule_set__in=own).delete()
    ScoreItem.objects.filter(version__rule_set__in=own).delete()
    versions, _ = RuleSetVersion.objects.filter(rule_set__in=own).delete()
    sets, _ = own.delete()
    return [f"committee rule sets ({sets} sets, {versions} versions, {rules} rules)"]


def _referrers(models_: tuple) -> set[type[models.Model]]:
    """Every model outside ``models_`` that points at one of them, directly or through
    another such model (any foreign key: TRUNCATE refuses to leave one dangling)."""
    found: set[type[models.Model]] = set()
    frontier = set(models_)
    while frontier:
        new = {m for m, _f in _links_to(frontier) if m not in found and m not in models_}
        found |= new
        frontier = new
    return found


def _links_to(targets: set) -> list[tuple[type[models.Model], models.Field]]:
    """Foreign keys from models outside ``targets`` into them."""
    return [
        (model, field)
        for model in apps.get_models()
        if model not in targets
        for field in model._meta.concrete_fields
        if field.many_to_one or field.one_to_one
        if field.related_model in targets
    ]


def _set_null_links(own) -> list[tuple[type[models.Model], models.Field]]:
    return [(m, f) for m, f in _links_to(set(own)) if f.remote_field.on_delete is models.SET_NULL]


def _dependent_models(own, *, skip=frozenset()) -> list[type[models.Model]]:
    """Models whose rows must be deleted with the demo's (they point at its rows, or at
    such rows, without SET_NULL), each before every model it points at; the ``skip``
    models are cleared separately and not followed."""
    own, skip = set(own), set(skip)
    found: set[type[models.Model]] = set()
    frontier = own
    while frontier:
        new = {m for m, f in _links_to(frontier) if f.remote_field.on_delete is not models.SET_NULL}
        new -= own | skip | found
        found |= new
        frontier = new
    points_at = {
        model: {
            f.related_model
            for f in model._meta.concrete_fields
            if (f.many_to_one or f.one_to_one) and f.related_model in found and f.related_model is not model
        }
        for model in found
    }
    ordered: list[type[models.Model]] = []
    left = set(found)
    while left:
        # Whatever no remaining model points at can go now.
        ready = [m for m in left if not any(m in points_at[other] for other in left)] or list(left)  # a cycle
        ready.sort(key=lambda m: m._meta.label)
        ordered += ready
        left -= set(ready)
    return ordered
