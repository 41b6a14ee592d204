"""Photos: the EXIF of JPEG and PNG files (date, camera, GPS) read with Pillow, as EVENT memories.

Format followed: EXIF 2.3 (CIPA DC-008) as cameras and phones write it: ``DateTimeOriginal`` (0x9003) and
``OffsetTimeOriginal`` (0x9011) in the Exif IFD, else ``DateTime`` (0x0132); ``Make``/``Model``; the GPS IFD's
``GPSLatitude``/``GPSLongitude`` as degree/minute/second rationals with their ``N``/``S``/``E``/``W`` refs.
PNG carries EXIF in its ``eXIf`` chunk. Times without an offset are taken as UTC. A place is kept as
coordinates rounded to 0.01 degree (about a kilometre), so photos of one day at one place make one memory.
HEIC is not read. Images without date, camera or position yield nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from personal_memory.ingest.datapoint import DataPoint, Statement
from personal_memory.ingest.errors import BadInputError
from personal_memory.ingest.registry import Ingester
from personal_memory.pms.schema import MemoryType, TruthCategory

SUFFIXES = {".jpg", ".jpeg", ".png"}
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME, _MAKE, _MODEL, _ORIGINAL, _OFFSET = 0x0132, 0x010F, 0x0110, 0x9003, 0x9011


def _degrees(value: object, ref: object) -> float | None:
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    sign = -1.0 if str(ref).strip().upper() in ("S", "W") else 1.0
    return sign * (d + m / 60 + s / 3600)


def _taken(raw: object, offset: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        when = datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
        if isinstance(offset, str) and offset.strip("\x00 "):
            return datetime.fromisoformat(f"{when.isoformat()}{offset.strip(chr(0) + ' ')}")
    except ValueError:
        return None
    return when.replace(tzinfo=UTC)


def _camera(make: object, model: object) -> str | None:
    make_s, model_s = (str(v).strip("\x00 ") if v else "" for v in (make, model))
    if model_s.lower().startswith(make_s.lower()):
        return model_s or None
    return f"{make_s} {model_s}".strip() or None


def statements(when: datetime | None, place: tuple[float, float] | None, camera: str | None) -> list[Statement]:
    found: list[Statement] = []
    at = f" at {place[0]:.2f}, {place[1]:.2f}" if place else ""
    if when or place:
        text = f"On {when:%Y-%m-%d} I took photos{at}." if when else f"I took photos{at}."
        found.append(Statement(text=text, memory_type=MemoryType.EVENT, truth_category=TruthCategory.ABSOLUTE))
    if camera:
        found.append(
            Statement(
                text=f"I take photos with a {camera}.",
                memory_type=MemoryType.FACT,
                truth_category=TruthCategory.INFERRED,
            )
        )
    return found


def read(file: Path) -> Iterator[DataPoint]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            exif = image.getexif()
            details = exif.get_ifd(_EXIF_IFD)
            gps = exif.get_ifd(_GPS_IFD)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BadInputError(file, f"is not a readable JPEG or PNG image: {exc}") from exc
    when = _taken(details.get(_ORIGINAL) or exif.get(_DATETIME), details.get(_OFFSET))
    lat, lon = _degrees(gps.get(2), gps.get(1)), _degrees(gps.get(4), gps.get(3))
    place = (lat, lon) if lat is not None and lon is not None else None
    camera = _camera(exif.get(_MAKE), exif.get(_MODEL))
    found = statements(when, place, camera)
    if not found:
        return
    described = ", ".join(
        part
        for part in (
            when and f"taken {when:%Y-%m-%d %H:%M}",
            camera and f"with a {camera}",
            place and f"at {place[0]:.5f}, {place[1]:.5f}",
        )
        if part
    )
    yield DataPoint(
        source_kind="photos",
        reference=str(file),
        author="user",
        timestamp=when,
        text=f"Photo {file.name} {described}.",
        statements=found,
        metadata={"file": file.name, "camera": camera, "latitude": lat, "longitude": lon},
    )


def files(path: Path) -> Iterator[Path]:
    if not path.is_dir():
        yield path
        return
    for file in sorted(path.rglob("*")):
        if file.suffix.lower() in SUFFIXES and file.is_file() and not file.name.startswith("."):
            yield file


INGESTER = Ingester("photos", "Photos (JPEG/PNG EXIF): when and where you were, your camera", files, read)
iter_datapoints = INGESTER.iter_datapoints
