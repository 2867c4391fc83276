"""``manage.py import_members FILE --committee CODE [--dry-run] [--user USERNAME]``:
import a roster workbook as staff of a party committee would from the browser.

The file is read once, by the same bounded reader as an upload from the browser, and
every row is checked with the committee's subtree as the scope and reported; with errors,
or with ``--dry-run``, nothing is written. Otherwise all rows are written in one
transaction. ``--user`` names the account recorded on the new membership periods.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from branches.models import OrgUnit
from members.imports import services

LABELS = {"new": "新增", "changed": "变更", "unchanged": "无变化", "error": "错误"}


class Command(BaseCommand):
    help = "Import a roster (.xlsx, the template's columns) into the branches of one party committee."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx roster")
        parser.add_argument("--committee", metavar="CODE", required=True, help="the code of the party committee")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("--user", metavar="USERNAME", help="the account recorded as having made the import")

    def handle(self, *args, file: str, committee: str, dry_run: bool, user: str | None, **options):
        unit = OrgUnit.objects.filter(code=committee).first()
        if unit is None:
            raise CommandError(f"No unit has the code {committee!r}.")
        if not unit.is_committee:
            raise CommandError(f"{unit.name} ({committee}) is not a party committee.")
        account = None
        if user:
            account = get_user_model().objects.filter(username=user).first()
            if account is None:
                raise CommandError(f"No user is called {user!r}.")
        try:
            with open(file, "rb") as handle:
                sheet = services.roster_read(handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        except services.RosterFileError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        # Read once, as the browser does; then checked against the committee's subtree.
        rows = services.roster_check(sheet, branches=services.committee_branches(unit))
        for r in rows:
            name = f"{r.values.get('employee_no') or '—'} {r.values.get('name') or ''}".strip()
            self.stdout.write(f"row {r.row}: {LABELS[r.status]} {name}")
            for message in r.errors:
                self.stdout.write(f"    {message}")
            for label, old, new in r.changes:
                self.stdout.write(f"    {label}: {old} → {new}")
        summary = services.roster_summary(rows)
        line = (
            f"{len(rows)} rows: {summary['new']} new, {summary['changed']} changed, "
            f"{summary['unchanged']} unchanged, {summary['error']} with errors"
        )
        if summary["error"]:
            raise CommandError(f"{line}; nothing was written.")
        if dry_run:
            self.stdout.write(f"{line}; dry run, nothing was written.")
            return
        try:
            services.roster_import_apply(rows=rows, user=account)
        except ValidationError as exc:
            raise CommandError(f"{' '.join(exc.messages)} Nothing was written.") from None
        self.stdout.write(f"{line}; imported.")
