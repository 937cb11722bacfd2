"""Handover photos: checked from their bytes, cleaned of metadata, stored under our own name."""

import io
import struct
import zlib
from datetime import timedelta

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import select

from app.db import unit_of_work
from app.models import Booking, Handover
from app.services import loan, uploads
from app.services.errors import RuleViolation
from app.services.uploads import Upload
from tests.factories import NOW, ctx

H = timedelta(hours=1)
SCRIPT = "<script>alert('photo')</script>"


def jpeg(size=(64, 48), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="JPEG", **save)
    return out.getvalue()


def picture(kind: str) -> bytes:
    """A whole, valid image of a kind we do not take."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 0)).save(out, format=kind)
    return out.getvalue()


def jpeg_with_a_script_in_its_metadata() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = SCRIPT  # ImageDescription
    exif[0x013B] = SCRIPT  # Artist
    exif[0x0112] = 6  # Orientation: turned, so that the cleaning must turn it upright first
    return jpeg(size=(64, 48), exif=exif.tobytes(), comment=SCRIPT.encode())


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture: the shape of a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_a_script_in_exif_or_comment_does_not_survive(tmp_path):
    dirty = jpeg_with_a_script_in_its_metadata()
    assert SCRIPT.encode() in dirty
    name = uploads.store_photo(Upload("vacances.jpg", dirty), tmp_path)
    stored = (tmp_path / name).read_bytes()
    assert b"<script" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and "comment" not in image.info and not image.getexif()
        assert image.size == (48, 64)  # turned upright before the orientation tag was dropped


def test_a_png_text_chunk_does_not_survive(tmp_path):
    info = PngInfo()
    info.add_text("Comment", SCRIPT)
    out = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(out, format="PNG", pnginfo=info)
    name = uploads.store_photo(Upload("x.png", out.getvalue()), tmp_path)
    assert name.endswith(".png") and b"<script" not in (tmp_path / name).read_bytes()


def test_the_stored_name_is_ours_and_never_the_browsers(tmp_path):
    name = uploads.store_photo(Upload("../../etc/passwd.jpg", jpeg()), tmp_path)
    assert uploads.STORED_NAME.match(name) and [p.name for p in tmp_path.iterdir()] == [name]
    assert uploads.store_photo(Upload("same.jpg", jpeg()), tmp_path) != name


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"<?php system($_GET['c']); ?>", id="php"),
        pytest.param(f"<svg xmlns='http://www.w3.org/2000/svg'>{SCRIPT}</svg>".encode(), id="svg"),
        pytest.param(picture("GIF"), id="gif"),
        pytest.param(picture("BMP"), id="bmp"),
        pytest.param(picture("TIFF"), id="tiff"),
        pytest.param(b"%PDF-1.4\n", id="pdf"),
        pytest.param(jpeg()[:300], id="truncated-jpeg"),
        pytest.param(b"", id="empty"),
    ],
)
def test_what_is_not_a_whole_jpeg_png_or_webp_is_refused_whatever_its_name(tmp_path, data):
    with pytest.raises(RuleViolation) as refused:
        uploads.store_photo(Upload("photo.jpg", data), tmp_path)
    assert refused.value.field == "photo"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("size", [(8000, 8000), (20000, 20000)], ids=["over-our-budget", "over-pillows-limit"])
def test_a_decompression_bomb_is_refused(tmp_path, size):
    with pytest.raises(RuleViolation) as refused:
        uploads.store_photo(Upload("bomb.png", png_declaring(*size)), tmp_path)
    assert refused.value.field == "photo" and "pixels" in refused.value.message
    assert list(tmp_path.iterdir()) == []


def test_an_oversize_photo_is_refused(tmp_path):
    data = jpeg(size=(400, 400), quality=100)
    with pytest.raises(RuleViolation) as refused:
        uploads.store_photo(Upload("big.jpg", data), tmp_path, max_bytes=len(data) - 1)
    assert refused.value.field == "photo" and "trop lourde" in refused.value.message
    assert list(tmp_path.iterdir()) == []
    assert uploads.store_photo(Upload("big.jpg", data), tmp_path, max_bytes=len(data))


def test_webp_is_accepted(tmp_path):
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="WEBP")
    assert uploads.store_photo(Upload("x.webp", out.getvalue()), tmp_path).endswith(".webp")


@pytest.fixture
def scene(make_user, make_resource, make_booking):
    host = make_user(hosts=("31",))
    kit = make_resource(departement_code="31", contents="Caméra\nChargeur")
    made = make_booking(resource=kit, user=make_user(), starts_at=NOW + H, ends_at=NOW + 5 * H)
    return host, made


def test_a_handover_keeps_its_cleaned_photo(session, scene, tmp_path):
    host, made = scene
    with unit_of_work(session):
        handover = loan.record_pickup(
            session,
            ctx(host, now=NOW + H),
            booking=made,
            checked=["Caméra", "Chargeur"],
            photo=Upload("IMG_0001.JPG", jpeg_with_a_script_in_its_metadata()),
            folder=tmp_path,
        )
    assert handover.photo and [p.name for p in tmp_path.iterdir()] == [handover.photo]
    assert b"<script" not in (tmp_path / handover.photo).read_bytes()


@pytest.mark.parametrize("photo", [Upload("photo.jpg", b"MZ\x90\x00 not a picture"), Upload("big.jpg", jpeg())])
def test_a_refused_photo_refuses_the_handover_and_writes_nothing(session, scene, tmp_path, photo):
    host, made = scene
    with pytest.raises(RuleViolation) as refused, unit_of_work(session):
        loan.record_pickup(
            session,
            ctx(host, now=NOW + H),
            booking=made,
            checked=["Caméra", "Chargeur"],
            photo=photo,
            folder=tmp_path,
            photo_max_bytes=100,
        )
    assert refused.value.field == "photo"
    assert list(tmp_path.iterdir()) == []
    session.expire_all()
    assert session.get(Booking, made.id).status == "approved"
    assert session.scalars(select(Handover)).all() == []
