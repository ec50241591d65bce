"""How fast and how lean the image pipeline is on the two uploads that matter.

Run: DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python bench/images.py

- refusing a 20000 × 20000 PNG that is only a header (a decompression bomb);
- processing a 4000 × 3000 JPEG, the size of a typical phone photo.

Peak memory is shown twice. tracemalloc sees only memory Python allocates (the
upload's bytes, the encoded output), not the pixel buffers Pillow allocates in C,
so the growth of the resident set's peak (VmHWM) in a fresh process is shown
beside it.
"""

import contextlib
import io
import multiprocessing
import os
import statistics
import struct
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BOMB_RUNS = 200
PHOTO_RUNS = 9


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def phone_photo(width: int, height: int) -> bytes:
    """Smooth gradients with sensor-like noise, saved the way a phone saves it (EXIF with GPS)."""
    from PIL import Image, ImageChops

    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 12)
    bands = [
        ImageChops.add(gradient, noise, scale=1.3),
        ImageChops.add(gradient.transpose(Image.Transpose.ROTATE_180), noise, scale=1.5),
        ImageChops.blend(gradient, noise, 0.4),
    ]
    exif = Image.Exif()
    exif[0x0112] = 1
    exif.get_ifd(0x8825).update({1: "N", 2: (31.0, 14.0, 5.5), 3: "E", 4: (121.0, 28.0, 12.25)})
    buffer = io.BytesIO()
    Image.merge("RGB", bands).save(buffer, "JPEG", quality=92, exif=exif)
    return buffer.getvalue()


def run_once(data: bytes) -> None:
    from django.core.exceptions import ValidationError

    from neighbors.images import image_process

    with contextlib.suppress(ValidationError):
        image_process(io.BytesIO(data))


def median_ms(work: Callable[[], None], runs: int) -> float:
    times = []
    for _run in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def traced_peak_mb(work: Callable[[], None]) -> float:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def peak_rss_growth_mb(data: bytes) -> float:
    """Runs in a fresh process, whose allocator holds no memory freed by earlier work (Linux only)."""
    django.setup()
    run_once(png_header_only(8, 8))  # imports and plugin registration are not the upload's cost
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current resident set
    before = status_mb("VmRSS")
    run_once(data)
    return status_mb("VmHWM") - before


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    from django.core.exceptions import ValidationError

    from neighbors.images import image_process

    bomb = png_header_only(20000, 20000)
    photo = phone_photo(4000, 3000)
    with contextlib.suppress(ValidationError):
        image_process(io.BytesIO(bomb))
        raise AssertionError("the 20000 × 20000 header was accepted")
    processed = image_process(io.BytesIO(photo))
    run_once(bomb)

    cases = [
        ("refuse 20000×20000 PNG header", bomb, BOMB_RUNS),
        ("process 4000×3000 JPEG", photo, PHOTO_RUNS),
    ]
    context = multiprocessing.get_context("spawn")
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"input: bomb {len(bomb)} bytes; photo {len(photo) / 1024 / 1024:.2f} MB")
    print(
        f"photo stored as {processed.width}×{processed.height}, "
        f"{processed.image.size / 1024:.0f} KB + thumbnail {processed.thumbnail.size / 1024:.1f} KB"
    )
    for label, data, runs in cases:
        median = median_ms(lambda data=data: run_once(data), runs)
        traced = traced_peak_mb(lambda data=data: run_once(data))
        with context.Pool(1) as pool:
            rss = pool.apply(peak_rss_growth_mb, (data,))
        print(
            f"{label}: median {median:.2f} ms over {runs} runs; "
            f"peak tracemalloc {traced:.2f} MB; peak RSS growth {rss:.1f} MB"
        )


if __name__ == "__main__":
    main()
