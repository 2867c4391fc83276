"""``manage.py seed_demo``: a believable steel-group organisation to try partybuild on.

The default is a small demo (about 30 branches and 400 members) with one login per
role. ``--members 100000 --branches 1300`` builds an Ansteel-size tree for benchmarks.

What exists is decided up front by ``members.demo`` from a seeded ``random.Random``, so
a given ``--seed`` always gives the same organisation; this module only writes it. The
small demo creates units and terms through ``branches.services`` like the application
does; the large one bulk-inserts, because a service call per row would take minutes.
Members, periods, roles and honours are always bulk-inserted: the plan already obeys
every rule ``members.services.member_validate`` and the database constraints check.
"""

import random
import time
from collections import Counter

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from branches.models import BranchTerm, BranchTitle, OrgUnit, RoleBinding
from branches.services import (
    add_years,
    branch_term_start,
    branch_title_award,
    branch_title_withdraw,
    org_unit_create,
    org_unit_update,
    role_binding_create,
)
from members.demo import Plan, plan_demo
from members.models import Member, MemberHonour, MemberRole, Membership

DEFAULT_PASSWORD = "partybuild-demo"
DEMO_USERNAMES = ("admin", "committee", "secretary")
# Up to this many branches the tree is written through the services, one unit at a time.
SERVICE_MODE_MAX_BRANCHES = 100
BATCH_SIZE = 5000
# Everything the demo writes, in an order where each table's rows go before the rows
# they point at (MemberRole → BranchTerm, Membership → Member → OrgUnit).
OWN_MODELS = (MemberHonour, MemberRole, Membership, Member, BranchTitle, BranchTerm, RoleBinding, OrgUnit)


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

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        members, branches = options["members"], options["branches"]
        if branches < 1 or members < 3 * branches:
            raise CommandError("Give at least one branch and three members per branch.")
        started = time.perf_counter()
        with transaction.atomic():
            self._make_room(reset=options["reset"])
            large = branches > SERVICE_MODE_MAX_BRANCHES
            plan = plan_demo(
                random.Random(options["seed"]), timezone.localdate(), members=members, branches=branches, large=large
            )
            self._stage(started, f"planned {len(plan.units)} units and {len(plan.members)} members")
            logins = self._write(plan, options["password"], large=large, started=started)
        self._report(logins, options["password"], time.perf_counter() - started)

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

    def _write(self, plan: Plan, password: str, *, large: bool, started: float) -> dict:
        """Write the plan in dependency order; returns the logins with their units."""
        admin = create_admin(password)
        writer = BulkWriter() if large else ServiceWriter()
        units = writer.units(plan)
        self._stage(started, f"wrote {len(units)} units")
        terms = writer.terms(plan, units, admin)
        write_titles(plan, units, admin)
        member_rows = write_members(plan, units)
        self._stage(started, f"wrote {len(member_rows)} members and their membership periods")
        write_roles(plan, units, member_rows, terms)
        write_honours(plan, member_rows, admin)
        self._stage(started, f"wrote {len(plan.roles)} roles and {len(plan.honours)} honours")
        return create_logins(plan, units, member_rows, admin, password)

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
        write("")
        write("Open http://127.0.0.1:8000/ and sign in (user, password, role — bound to):")
        for username, (role, where) in logins.items():
            write(f"  {username:<10} {password}   {role} — {where}")
        write("")
        write(
            self.style.SUCCESS(
                f"Seeded {Member.objects.count()} members in {kinds[OrgUnit.Kind.BRANCH]} branches in {elapsed:.1f} s"
            )
        )


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
    """Bulk-inserts units level by level (a unit's path needs its parent's path and its
    own pk, which bulk_create returns on PostgreSQL and SQLite 3.35+), then terms."""

    def units(self, plan: Plan) -> list[OrgUnit]:
        rows = [
            OrgUnit(
                kind=u.kind,
                name=u.name,
                code=u.code,
                path="",
                depth=u.depth,
                sort_order=u.sort_order,
                brand=u.brand,
                brand_description=u.brand_description,
                tier=u.tier,
                established_on=u.established_on,
            )
            for u in plan.units
        ]
        for depth in sorted({u.depth for u in plan.units}):
            level = [i for i, u in enumerate(plan.units) if u.depth == depth]
            for i in level:
                parent = plan.units[i].parent
                rows[i].parent = rows[parent] if parent is not None else None
            OrgUnit.objects.bulk_create([rows[i] for i in level], batch_size=BATCH_SIZE)
            for i in level:
                parent = plan.units[i].parent
                rows[i].path = f"{rows[parent].path if parent is not None else '/'}{rows[i].pk}/"
            OrgUnit.objects.bulk_update([rows[i] for i in level], ["path"], batch_size=1000)
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


def write_members(plan: Plan, units: list[OrgUnit]) -> list[Member]:
    """Members at their current (or last) placement, then every membership period.
    Periods carry no ``recorded_by``: nobody recorded them, the seed did (and at 100k
    rows each foreign key costs a second of constraint checks at commit)."""
    rows = [
        Member(
            name=m.name,
            gender=m.gender,
            birth_date=m.birth_date,
            ethnicity=m.ethnicity,
            employee_no=m.employee_no,
            phone=m.phone,
            post=m.post,
            branch_id=units[m.current.branch].pk,
            group_id=units[m.current.group].pk if m.current.group is not None else None,
            status=Member.Status.FULL if m.is_full else Member.Status.PROBATIONARY,
            joined_on=m.joined_on,
            converted_on=m.converted_on,
            left_on=m.left_on,
        )
        for m in plan.members
    ]
    Member.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    periods = [
        Membership(
            member_id=row.pk,
            branch_id=units[p.branch].pk,
            group_id=units[p.group].pk if p.group is not None else None,
            started_on=p.started_on,
            ended_on=p.ended_on,
            end_reason=p.end_reason,
            note=p.note,
        )
        for m, row in zip(plan.members, rows, strict=True)
        for p in m.periods
    ]
    Membership.objects.bulk_create(periods, batch_size=BATCH_SIZE)
    return rows


def write_roles(plan: Plan, units: list[OrgUnit], members: list[Member], terms: dict[tuple[int, int], int]) -> None:
    MemberRole.objects.bulk_create(
        [
            MemberRole(
                member_id=members[r.member].pk,
                unit_id=units[r.unit].pk,
                role=r.role,
                term_id=terms[r.term] if r.term is not None else None,
                started_on=r.started_on,
                ended_on=r.ended_on,
            )
            for r in plan.roles
        ],
        batch_size=BATCH_SIZE,
    )


def write_honours(plan: Plan, members: list[Member], admin) -> None:
    MemberHonour.objects.bulk_create(
        [
            MemberHonour(
                member_id=members[h.member].pk,
                kind=h.kind,
                title=h.title,
                stars=h.stars,
                awarded_on=h.awarded_on,
                recorded_by=admin,
            )
            for h in plan.honours
        ],
        batch_size=BATCH_SIZE,
    )


# --- logins ----------------------------------------------------------------------------------


def create_admin(password: str):
    """The administrator comes first: terms, titles and honours record who made them.
    Superuser too, so the Django admin works for it."""
    user = get_user_model().objects.create_superuser("admin", email="", password=password, first_name="系统管理员")
    role_binding_create(user=user, role=RoleBinding.Role.ADMIN, unit=None)
    return user


def create_logins(plan: Plan, units: list[OrgUnit], members: list[Member], admin, password: str) -> dict:
    """A committee staffer on the showcase plant committee and the secretary of one of
    its branches, linked to the member who holds that branch's secretary role."""
    user_model = get_user_model()
    committee_unit, branch = units[plan.committee], units[plan.showcase]
    staffer = user_model.objects.create_user("committee", password=password, first_name="党建工作部")
    role_binding_create(user=staffer, role=RoleBinding.Role.COMMITTEE_STAFF, unit=committee_unit)
    holder = next(
        (
            members[r.member]
            for r in plan.roles
            if r.unit == plan.showcase and r.role == MemberRole.Role.SECRETARY and r.ended_on is None
        ),
        None,
    )
    secretary = user_model.objects.create_user(
        "secretary", password=password, first_name=holder.name if holder else "支部书记"
    )
    role_binding_create(user=secretary, role=RoleBinding.Role.SECRETARY, unit=branch)
    if holder is not None:
        Member.objects.filter(pk=holder.pk).update(user=secretary)
    parent = units[plan.units[plan.showcase].parent]
    return {
        admin.username: ("administrator 系统管理员", "the whole organisation, and the Django admin at /admin/"),
        staffer.username: ("party committee staff 党委", committee_unit.name),
        secretary.username: (
            "branch secretary 支部书记",
            f"{branch.name} ({parent.name})" + (f", linked to member {holder.name}" if holder else ""),
        ),
    }


# --- reset -----------------------------------------------------------------------------------


def reset_demo_data() -> list[str]:
    """Delete the tree, members, everything that hangs off them, and the demo logins.

    Other apps' rows that point at a member or a unit (ledger entries, activities …)
    cannot outlive them, so they go first, through the ORM so their own cascades run;
    nullable SET_NULL links are just cleared. The demo's own tables are then emptied
    with one DELETE each, dependents first: the ORM would load every member to check its
    PROTECT links (seconds at 100,000 members) and could not delete the self-referencing
    tree in one go. Returns labels of what was cleared.
    """
    cleared = []
    for model, field in _set_null_links(OWN_MODELS):
        model._base_manager.filter(**{f"{field.name}__isnull": False}).update(**{field.name: None})
    for model in _dependent_models(OWN_MODELS):
        count, _ = model._base_manager.all().delete()
        cleared.append(f"{model._meta.label} ({count} rows with what hangs off them)")
    with connection.cursor() as cursor:
        for model in OWN_MODELS:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
            cleared.append(f"{model._meta.label} ({cursor.rowcount} rows)")
    user_model = get_user_model()
    _, per_model = user_model.objects.filter(username__in=DEMO_USERNAMES).delete()
    cleared.append(f"demo logins ({per_model.get(user_model._meta.label, 0)} users)")
    return cleared


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


def _dependent_models(own) -> list[type[models.Model]]:
    """Models whose rows must be deleted with the demo's, most dependent first."""
    levels: dict[type[models.Model], int] = {}
    frontier, level = set(own), 0
    while frontier and level < 10:
        level += 1
        found = {m for m, f in _links_to(frontier) if f.remote_field.on_delete is not models.SET_NULL}
        found -= set(own)
        for model in found:
            levels[model] = level
        frontier = found
    return sorted(levels, key=levels.get, reverse=True)
