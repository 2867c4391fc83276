"""``manage.py check_consistency``: prove the ledger lost and doubled nothing
(``partybuild.consistency``). Prints one line per check; exits 1 with examples when any
check finds something."""

from django.core.management.base import BaseCommand, CommandError

from partybuild.consistency import run_checks


class Command(BaseCommand):
    help = "Check that no point was lost or doubled: attendance against its rules, reversals, drafts, closed months."

    def handle(self, *args, **options):
        checks = run_checks()
        width = max(len(c.name) for c in checks)
        for check in checks:
            mark = "ok  " if check.ok else "FAIL"
            line = f"{mark} {check.name:<{width}}  {check.checked:>9} checked  {check.problems:>6} inconsistent  {check.description}"
            if check.note:
                line += f" ({check.note})"
            self.stdout.write(line)
            for example in check.examples:
                self.stdout.write(f"       e.g. {example}")
        failed = [c.name for c in checks if not c.ok]
        if failed:
            raise CommandError(f"inconsistent: {', '.join(failed)}")
        self.stdout.write(self.style.SUCCESS("consistent: nothing lost or doubled"))
