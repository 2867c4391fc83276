"""Every file the application hands out goes through here: stored files (activity
attachments, ledger evidence, year-end report files) and documents made in the request
(board and dossier PDFs, the roster template).

A download keeps its full Chinese name. Characters no file system accepts (``/``, ``\\``,
``:``, ``*``, ``?``, ``"``, ``<``, ``>``, ``|``, control characters) become ``_`` — a
committee called 「一/二分厂党委」 must not become a download named 「二分厂党委…」 or a
path — and a name too long for a file system is shortened in its stem, so it keeps its
extension. The name is sent as RFC 5987 ``filename*=UTF-8''…`` with a plain ASCII
``filename="…"`` for the few clients that read only that (RFC 6266 §4.3).

This is the lowest app, so every layer may import it: services shorten the names they
store with ``shorten_filename``; views answer with ``file_response`` or
``stored_file_response``.
"""

import mimetypes
import os
import re
from urllib.parse import quote

from django.http import FileResponse, Http404, HttpResponse

# Not allowed in file names on Windows (and "/" nowhere): replaced by "_".
FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
# The common limit of file systems (ext4, NTFS, APFS) is 255 bytes or UTF-16 units;
# a Chinese character is 3 bytes in UTF-8, so a download name is measured in bytes.
MAX_DOWNLOAD_BYTES = 240
# An "extension" longer than this is part of the name (「关于….的通知」).
MAX_EXTENSION = 10
FALLBACK_STEM = "download"


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def split_extension(name: str) -> tuple[str, str]:
    """(stem, extension with its dot); a name without a short extension has ``""``."""
    stem, extension = os.path.splitext(name)
    if not stem or len(extension) > MAX_EXTENSION or " " in extension:
        return name, ""
    return stem, extension


def shorten_filename(name: str, limit: int, *, in_bytes: bool = False) -> str:
    """``name`` cut to ``limit`` characters (or bytes of UTF-8) by shortening its stem:
    the extension stays."""
    size = _utf8_length if in_bytes else len
    if size(name) <= limit:
        return name
    stem, extension = split_extension(name)
    if size(extension) >= limit:
        stem, extension = name, ""
    room = limit - size(extension)
    # Cut on a character boundary: a Chinese character is never split into bytes.
    stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore") if in_bytes else stem[:room]
    return stem.rstrip(" .") + extension


def download_filename(name: str) -> str:
    """``name`` as a file name every system accepts: forbidden characters become ``_``,
    leading and trailing dots and spaces go, and it is at most ``MAX_DOWNLOAD_BYTES``
    bytes of UTF-8, extension kept."""
    name = FORBIDDEN.sub("_", name).strip(" .")
    stem, extension = split_extension(name)
    if not stem.strip(" ._"):
        name = FALLBACK_STEM + extension
    return shorten_filename(name, MAX_DOWNLOAD_BYTES, in_bytes=True)


def _ascii_fallback(name: str) -> str:
    """A plain-ASCII stand-in for ``filename=``: the ASCII parts of the name (the year,
    a code), or ``download`` with the extension."""
    stem, extension = split_extension(name)
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", stem)
    stem = re.sub(r"_+", "_", stem).strip(" ._")
    extension = re.sub(r"[^A-Za-z0-9.]", "", extension)
    return (stem if any(c.isalnum() for c in stem) else FALLBACK_STEM) + extension


def content_disposition(name: str, *, as_attachment: bool = True) -> str:
    """The Content-Disposition header for a download called ``name``."""
    name = download_filename(name)
    disposition = "attachment" if as_attachment else "inline"
    return f"{disposition}; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_response(
    content, *, filename: str, content_type: str | None = None, as_attachment: bool = True
) -> HttpResponse | FileResponse:
    """A download of ``content`` named ``filename``: bytes made in the request (sent
    whole), or an open binary file (streamed)."""
    content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if isinstance(content, bytes):
        response = HttpResponse(content, content_type=content_type)
    else:
        response = FileResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename, as_attachment=as_attachment)
    return response


def stored_file_response(
    field_file, *, filename: str, content_type: str | None = None, as_attachment: bool = False
) -> FileResponse:
    """Serve a file from Django's storage (inline unless ``as_attachment``), after the
    caller's access check. A missing file (an empty field, or one gone from storage) is a
    404, not a server error."""
    if not field_file:
        raise Http404
    try:
        handle = field_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return file_response(handle, filename=filename, content_type=content_type, as_attachment=as_attachment)
