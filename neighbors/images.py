"""The one place the site accepts an uploaded image.

Avatars, certificates, request photos and chat images all go through
`image_process` (or `PipelineImageField`, which calls it), so the rules hold
everywhere at once:

- Cheap checks come before expensive ones. The byte size is checked before the
  file is read, and the pixel count is checked from the header, which
  `Image.open` parses without decoding: a file of a few dozen bytes claiming
  20000 × 20000 pixels is refused before it can take gigabytes to decode.
- Only JPEG, PNG and WebP are opened, whatever the file is called, so HTML,
  SVG, GIF or PDF renamed to .jpg never reach a decoder or a page.
- What is stored is re-encoded from the pixels alone. The EXIF orientation is
  applied to the pixels first; then every piece of metadata (EXIF with the GPS
  position of the phone, XMP, ICC profile, comments, PNG text chunks) is left
  behind.
- Stored names are random: a file name like "王阿姨家门牌.jpg" says who and
  where, and never reaches storage or a URL.
"""

import contextlib
import io
import os
import struct
import threading
import uuid
import warnings
from dataclasses import dataclass
from typing import IO, Literal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.http import Http404, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ["JPEG", "PNG", "WEBP"]


def private_storage():
    """The storage no URL reaches (STORAGES["private"]): certificates, request photos and chat
    images, each served by a view that checks who asks."""
    return storages["private"]


ACCEPTED_CONTENT_TYPES = "image/jpeg,image/png,image/webp"

# Read at call time, so a deployment (or a test) can change them.
_DEFAULTS = {
    "IMAGE_UPLOAD_MAX_BYTES": 8 * 1024 * 1024,
    "IMAGE_MAX_PIXELS": 64_000_000,
    "IMAGE_STORED_MAX_SIDE": 2048,
    "IMAGE_THUMBNAIL_SIDE": 320,
}

# What Pillow raises for a file that is the right format but damaged or cut short.
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError, struct.error)
_TOO_MANY_PIXELS = (Image.DecompressionBombError, Image.DecompressionBombWarning)

# warnings.catch_warnings() swaps process-wide state and is not thread-safe: two
# uploads decoded at once in a threaded server could restore each other's filters
# and leave them changed for good. Decoding one image at a time also bounds memory.
_decode_lock = threading.Lock()


@dataclass(frozen=True)
class ProcessedImage:
    image: ContentFile
    thumbnail: ContentFile
    width: int
    height: int


def image_process(upload: File | IO[bytes]) -> ProcessedImage:
    """Check, decode and re-encode an uploaded image; raise ValidationError if it is refused."""
    data = _read_within_limit(upload)
    with _decode_lock, warnings.catch_warnings():
        # Pillow warns about odd data in the file (corrupt EXIF and the like): that is
        # the uploader's business, not ours. Its bomb warning is a refusal.
        warnings.filterwarnings("ignore", module=r"PIL\.")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        picture = _decode(data)
    return _encode(picture)


class PipelineImageField(forms.FileField):
    """A file input that cleans to a ProcessedImage.

    Cleans to None when nothing new was uploaded and, as Django's FileField does,
    to False when the "clear" box was ticked, so a form can tell keep, remove and
    replace apart.
    """

    widget = forms.ClearableFileInput(attrs={"accept": ACCEPTED_CONTENT_TYPES})

    def clean(self, data, initial=None) -> ProcessedImage | Literal[False] | None:
        upload = super().clean(data, initial)
        if upload is False:
            return False
        if not data:
            return None
        return image_process(upload)


def private_image_response(stored, **cache_control) -> HttpResponse:
    """A stored pipeline image (JPEG, or PNG where it kept transparency) as a response for a
    view that has already checked who asks, never cached by a shared proxy; `cache_control`
    adds to `private` (e.g. no_store=True for certificates, max_age=3600 for request photos).

    Read whole, not streamed: the pipeline keeps images to a few hundred KB, and a
    FileResponse's synchronous iterator is consumed on the event loop under ASGI (Django warns).
    """
    if not stored:
        raise Http404
    try:
        with stored.open("rb") as file:
            content = file.read()
    except FileNotFoundError as error:
        raise Http404 from error
    response = HttpResponse(content, content_type="image/png" if stored.name.endswith(".png") else "image/jpeg")
    patch_cache_control(response, private=True, **cache_control)
    return response


class _MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PipelineImagesField(forms.FileField):
    """Several images in one file input, each through the pipeline; cleans to a list.

    The count is checked before any file is decoded, so that twenty photos cost
    nothing but a refusal.
    """

    def __init__(self, *, max_count: int, **kwargs) -> None:
        self.max_count = max_count
        kwargs.setdefault("widget", _MultipleImageInput(attrs={"accept": ACCEPTED_CONTENT_TYPES}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None) -> list[ProcessedImage]:
        uploads = [upload for upload in (data if isinstance(data, list | tuple) else [data]) if upload]
        if not uploads:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        if len(uploads) > self.max_count:
            raise ValidationError(_("Choose at most %(count)d photos.") % {"count": self.max_count}, code="too_many")
        return [image_process(super(PipelineImagesField, self).clean(upload, initial)) for upload in uploads]


def _setting(name: str) -> int:
    return getattr(settings, name, _DEFAULTS[name])


def _read_within_limit(upload: File | IO[bytes]) -> bytes:
    limit = _setting("IMAGE_UPLOAD_MAX_BYTES")
    size = _declared_size(upload)
    if size is not None and size > limit:
        raise _too_large(limit)
    with contextlib.suppress(AttributeError, OSError):
        upload.seek(0)
    # Read one byte more than allowed, so a stream with no size, or a wrong one,
    # is still refused without being read to its end.
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    if not data:
        raise ValidationError(_("This file is empty. Choose a photo."), code="empty")
    return data


def _declared_size(upload: File | IO[bytes]) -> int | None:
    size = getattr(upload, "size", None)
    if size is not None:
        return size
    try:
        upload.seek(0, os.SEEK_END)
        return upload.tell()
    except (AttributeError, OSError):
        return None


def _decode(data: bytes) -> Image.Image:
    max_pixels = _setting("IMAGE_MAX_PIXELS")
    try:
        opened = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError as error:
        raise ValidationError(_("Upload a photo in JPEG, PNG or WebP format."), code="unsupported_format") from error
    except _TOO_MANY_PIXELS as error:
        # Past Pillow's own limit the header is refused inside Image.open, before
        # it tells us the size.
        raise _too_many_pixels(max_pixels) from error
    except _DAMAGED as error:
        raise _broken() from error

    with opened as image:
        width, height = image.size
        if width * height > max_pixels:
            raise ValidationError(
                _("This photo is too large (%(width)s × %(height)s pixels). Choose one under %(limit)s megapixels."),
                code="too_many_pixels",
                params={"width": width, "height": height, "limit": _number(max_pixels / 1_000_000)},
            )
        # JPEG can decode straight to 1/2, 1/4 or 1/8 size: take the smallest that
        # still covers the stored size, which saves most of the time and memory on
        # very large photos. Other formats ignore this.
        side = _setting("IMAGE_STORED_MAX_SIDE")
        image.draft(None, (side, side))
        try:
            # A fresh image loads its first frame only, which is what an animated
            # upload keeps.
            image.load()
            return _upright_within(image, side)
        except _TOO_MANY_PIXELS as error:
            raise _too_many_pixels(max_pixels) from error
        except _DAMAGED as error:
            raise _broken() from error


def _upright_within(image: Image.Image, side: int) -> Image.Image:
    """A new image, turned upright, at most side × side, in RGB or RGBA."""
    if image.mode in ("1", "P", "PA"):
        # A palette image shrinks only by nearest neighbour: give it full colour first.
        image = _flatten(image)
    # Shrink first (in place, dropping the full-size pixels), so that turning and
    # converting copy at most side × side pixels: on a 4000 × 3000 photo the peak
    # went from 138 to 82 MB (bench/images.py). The EXIF orientation stays in info.
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return _flatten(ImageOps.exif_transpose(image))


def _flatten(image: Image.Image) -> Image.Image:
    """RGBA if some pixel is at least partly transparent, RGB otherwise."""
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        lowest_alpha, _highest = rgba.getchannel("A").getextrema()
        if lowest_alpha < 255:
            return rgba
        return rgba.convert("RGB")
    if image.mode == "RGB":
        return image
    return image.convert("RGB")


def _encode(picture: Image.Image) -> ProcessedImage:
    # Saving writes what it is given plus some of im.info (PNG takes the ICC profile
    # from there, JPEG the comment): with info emptied, no metadata is written.
    picture.info.clear()
    thumbnail = picture.copy()
    thumbnail_side = _setting("IMAGE_THUMBNAIL_SIDE")
    thumbnail.thumbnail((thumbnail_side, thumbnail_side), Image.Resampling.LANCZOS)

    stem = uuid.uuid4().hex
    extension = "png" if picture.mode == "RGBA" else "jpg"
    return ProcessedImage(
        image=ContentFile(_encoded(picture), name=f"{stem}.{extension}"),
        thumbnail=ContentFile(_encoded(thumbnail), name=f"{stem}-thumb.{extension}"),
        width=picture.width,
        height=picture.height,
    )


def _encoded(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    if picture.mode == "RGBA":
        picture.save(buffer, "PNG")
    else:
        picture.save(buffer, "JPEG", quality=85, optimize=True, progressive=True)
    return buffer.getvalue()


def _too_large(limit: int) -> ValidationError:
    return ValidationError(
        _("This file is larger than %(limit)s MB. Choose a smaller photo."),
        code="too_large",
        params={"limit": _number(limit / (1024 * 1024))},
    )


def _too_many_pixels(limit: int) -> ValidationError:
    return ValidationError(
        _("This photo has too many pixels. Choose one under %(limit)s megapixels."),
        code="too_many_pixels",
        params={"limit": _number(limit / 1_000_000)},
    )


def _broken() -> ValidationError:
    return ValidationError(_("This file is damaged or is not a complete image."), code="broken")


def _number(value: float) -> str:
    return f"{value:g}"
