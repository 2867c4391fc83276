"""Drill: the disk fills up while an upload is written.

The upload (an activity's attachment, through its page) must fail with a clear message,
leave no row and no partial file. Once with the write failing half-way with ENOSPC, once
on a filesystem that is really full: a 64 KB tmpfs where the machine allows mounting one,
otherwise a file-size limit (``RLIMIT_FSIZE``: the kernel refuses with EFBIG). The
report job killed mid-file is drilled in tests/reports/test_exports.py.
"""

import contextlib
import datetime
import errno
import os
import resource
import signal
import subprocess
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from branches.activities import services
from branches.activities.models import ActivityAttachment
from partybuild.storage import MediaStorage

from .. import factories as f

pytestmark = pytest.mark.django_db
DAY = datetime.date(2025, 3, 12)
# A PDF of 300 KB: several chunks, more than the full disk holds.
BIG_PDF = b"%PDF-1.4\n" + b"0" * 300_000 + b"\n%%EOF\n"


@pytest.fixture
def activity(tree):
    f.MemberFactory(branch=tree.branch_a)
    return services.activity_create(branch=tree.branch_a, kind="themed_day", title="主题党日", date=DAY, user=None)


def upload(client, activity):
    return client.post(
        reverse("activities:attachment_upload", args=[activity.pk]),
        {"file": SimpleUploadedFile("签到表.pdf", BIG_PDF, content_type="application/pdf")},
    )


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def assert_refused_cleanly(response, media: Path):
    assert response.status_code == 302  # back to the activity, with the message
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    with translation.override("zh-hans"):
        assert shown == [str(MediaStorage.full_message)]
    assert not ActivityAttachment.objects.exists()
    assert files_under(media) == []  # not even the part that was written


def test_an_upload_that_fills_the_disk_half_way_is_refused_with_no_row_and_no_stub(
    tree, users, activity, client, settings, monkeypatch
):
    media = Path(settings.MEDIA_ROOT)
    real_fdopen = os.fdopen

    class FillsUp:
        """The file object the storage writes through: the disk is full after 64 KB."""

        def __init__(self, fd, *args, **kwargs):
            self.file, self.written = real_fdopen(fd, *args, **kwargs), 0

        def write(self, chunk):
            if self.written + len(chunk) > 65_536:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.written += len(chunk)
            return self.file.write(chunk)

        def __getattr__(self, name):
            return getattr(self.file, name)

    monkeypatch.setattr("django.core.files.storage.filesystem.os.fdopen", FillsUp)
    client.force_login(users.secretary)
    assert_refused_cleanly(upload(client, activity), media)


@contextlib.contextmanager
def full_filesystem(tmp_path: Path):
    """A really full filesystem: a 64 KB tmpfs, or a 64 KB file-size limit."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
        ).returncode
        == 0
    )
    if mounted:
        try:
            yield mount, "tmpfs"
        finally:
            subprocess.run(["umount", str(mount)], check=True)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (65_536, hard))
    try:
        yield mount, "RLIMIT_FSIZE"
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_an_upload_to_a_really_full_disk_is_refused_with_no_row_and_no_stub(
    tree, users, activity, client, settings, tmp_path
):
    client.force_login(users.secretary)
    with full_filesystem(tmp_path) as (media, how):
        settings.MEDIA_ROOT = media
        response = upload(client, activity)
        assert_refused_cleanly(response, media)
        # A small file still fits: the storage itself is fine.
        name = default_storage.save("probe.txt", ContentFile(b"x"))
        assert (media / name).read_bytes() == b"x", how
