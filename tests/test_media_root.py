from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def test_files_a_test_stores_go_to_a_temporary_media_root_not_the_repository(tmp_path):
    name = default_storage.save("activities/probe.txt", ContentFile(b"x"))
    stored = Path(default_storage.path(name))
    assert stored.is_file() and stored.is_relative_to(tmp_path)
    assert not Path(settings.MEDIA_ROOT).is_relative_to(settings.BASE_DIR)
