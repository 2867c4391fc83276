"""``manage.py backup [--dir DIR]``: a consistent database dump, the media files and a
manifest of checksums and key figures, in a new timestamped directory (partybuild.backup)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from partybuild.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database (one snapshot) and MEDIA_ROOT into a timestamped directory with a manifest."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            default=None,
            help="Where the backup directory is created (default: BACKUP_ROOT, env PARTYBUILD_BACKUP_ROOT).",
        )

    def handle(self, *args, dir=None, **options):
        root = Path(dir or settings.BACKUP_ROOT)
        try:
            result = backup_create(root=root)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        figures = result.manifest["figures"]
        self.stdout.write(
            f"ledger: {figures['ledger']['count']} entries, {figures['ledger']['sum']} points; "
            f"published branch rows: {figures['published_branch_scores']['count']}; "
            f"media files: {len(result.manifest['media'])}"
        )
        # The last line is the directory alone, for scripts (make restore BACKUP=...).
        self.stdout.write(str(result.directory))
