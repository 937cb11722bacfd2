"""Photos people send: checked from their bytes, re-encoded clean, stored under a name of ours.

Nothing a browser says is trusted: not the file name, not the declared type. The bytes must
decode fully as JPEG, PNG or WebP within a pixel budget; the image is then re-drawn into a
fresh picture (no EXIF, no comment, no ICC or text chunk survives, so neither does a script
hidden there) and written under a random name. A refused photo writes nothing.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from app.services.errors import RuleViolation

MAX_PHOTO_BYTES = 5 * 1024 * 1024
# Enough for any phone's photo; a small file declaring more is a decompression bomb.
MAX_PIXELS = 50_000_000
# Photos are kept for the record, not for print: the longest side is brought down to this.
LONGEST_SIDE = 2048

_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# What a stored name looks like; anything else asked for is not one of ours.
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")


@dataclass(frozen=True)
class Upload:
    """A file as the view received it: the name the browser gave (kept for nothing but
    messages) and its bytes, read up to one byte past the cap so that oversize is seen."""

    filename: str
    data: bytes


def _refuse(message: str) -> RuleViolation:
    return RuleViolation(message, field="photo")


def clean_image(upload: Upload, *, max_bytes: int = MAX_PHOTO_BYTES) -> tuple[bytes, str]:
    """The photo re-encoded without any metadata, and its extension; RuleViolation on "photo" else."""
    if not upload.data:
        raise _refuse(_("Le fichier envoyé est vide."))
    if len(upload.data) > max_bytes:
        raise _refuse(_("Photo trop lourde : %(n)d Mo au plus.", n=max(1, max_bytes // (1024 * 1024))))
    not_an_image = _("Ce fichier n'est pas une photo JPEG, PNG ou WebP lisible.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it: make that a refusal too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(upload.data), formats=list(_FORMATS)) as image:
                kind = image.format or ""
                if kind not in _FORMATS:
                    raise _refuse(not_an_image)
                if image.width * image.height > MAX_PIXELS:
                    raise _refuse(_("Image trop grande en pixels."))
                image.load()  # decodes everything: a truncated file fails here
                picture = ImageOps.exif_transpose(image)  # upright, before the EXIF goes
    except RuleViolation:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(_("Image trop grande en pixels.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _refuse(not_an_image) from None

    picture.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    keeps_alpha = kind != "JPEG" and (picture.mode in ("RGBA", "LA") or "transparency" in picture.info)
    picture = picture.convert("RGBA" if keeps_alpha else "RGB")
    # A new picture from the pixels alone: its info is empty, so no encoder finds a comment,
    # an EXIF block or a profile to copy over.
    bare = Image.frombytes(picture.mode, picture.size, picture.tobytes())
    out = io.BytesIO()
    if kind == "JPEG":
        bare.save(out, format="JPEG", quality=85, optimize=True)
    elif kind == "PNG":
        bare.save(out, format="PNG", optimize=True)
    else:
        bare.save(out, format="WEBP", quality=85)
    return out.getvalue(), _FORMATS[kind]


def store_photo(upload: Upload, folder: Path, *, max_bytes: int = MAX_PHOTO_BYTES) -> str:
    """Check, clean and write the photo in `folder`; returns the generated file name."""
    data, extension = clean_image(upload, max_bytes=max_bytes)
    return write(data, extension, folder)


def write(data: bytes, extension: str, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{extension}"
    with open(folder / name, "xb") as file:  # "x": never overwrite, even on a freak collision
        file.write(data)
    return name


def remove(folder: Path, name: str) -> None:
    """Delete a stored photo (a handover that failed after its photo was written)."""
    if STORED_NAME.match(name):
        (folder / name).unlink(missing_ok=True)
