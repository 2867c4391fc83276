"""Checks for uploaded evidence and attachments, shared by every app that takes files.

It lives at the bottom layer so the ledger (evidence) and activities (attachments) use
one rule without depending on each other.
"""

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# What a file must start with to be what its name says (the name alone proves nothing).
ATTACHMENT_SIGNATURES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}


def extension_of(name: str) -> str:
    return ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""


def content_type_for(name: str) -> str:
    return ATTACHMENT_SIGNATURES.get(extension_of(name), ("application/octet-stream",))[0]


def check_upload(upload: UploadedFile) -> str:
    """Refuse anything but a photo (JPG, PNG) or PDF of at most 10 MB whose first bytes
    match its name; return its content type."""
    name = upload.name or ""
    extension = extension_of(name)
    if extension not in ATTACHMENT_SIGNATURES:
        raise ValidationError(_("Attach a photo (JPG, PNG) or a PDF."))
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(_("The file is larger than %(mb)s MB.") % {"mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)})
    content_type, signatures = ATTACHMENT_SIGNATURES[extension]
    head = upload.read(16)
    upload.seek(0)
    if not head.startswith(signatures):
        raise ValidationError(
            _("%(name)s is not really a %(ext)s file.") % {"name": name, "ext": extension[1:].upper()}
        )
    return content_type
