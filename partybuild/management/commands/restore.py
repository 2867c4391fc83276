"""``manage.py restore DIR``: restore a backup into an EMPTY database and MEDIA_ROOT,
after checking every checksum, then prove the restored figures equal the manifest's
(partybuild.backup). Exits non-zero on any refusal or difference."""

from django.core.management.base import BaseCommand, CommandError

from partybuild.backup import BackupError, restore_run


class Command(BaseCommand):
    help = "Restore a backup directory into an empty database and MEDIA_ROOT and verify it against its manifest."

    def add_arguments(self, parser):
        parser.add_argument("directory", help="A directory written by manage.py backup.")

    def handle(self, *args, directory, **options):
        try:
            differences = restore_run(directory=directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if differences:
            raise CommandError("The restored data differ from the backup's manifest:\n  " + "\n  ".join(differences))
        self.stdout.write(self.style.SUCCESS("Restored; row counts, sums and file checksums match the manifest."))
