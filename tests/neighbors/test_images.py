import io
import re
import struct
import zlib

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image, ImageFile, PngImagePlugin

from neighbors.images import PipelineImageField, ProcessedImage, image_process

RED = (220, 20, 20)
BLUE = (20, 20, 220)
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def encoded(image: Image.Image, image_format: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def noisy(size: tuple[int, int]) -> Image.Image:
    """A photo-like image: noise compresses badly, so the file is mostly pixel data."""
    return Image.merge("RGB", [Image.effect_noise(size, 60) for _band in range(3)])


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def reopened(content) -> Image.Image:
    content.seek(0)
    return Image.open(io.BytesIO(content.read()))


def refusal(data: bytes, name: str = "photo.jpg") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        image_process(upload(data, name))
    return caught.value


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and header claiming width × height, with almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.fixture
def english():
    """Messages are translated when the error is raised, in the language active then."""
    with translation.override("en"):
        yield


@pytest.fixture
def no_decoding(monkeypatch):
    def load(self):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


class TestMetadataIsDropped:
    def test_jpeg_exif_with_gps_xmp_icc_and_comment(self):
        exif = Image.Exif()
        exif[ORIENTATION] = 1
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 14.0, 5.5), 3: "E", 4: (121.0, 28.0, 12.25)})
        original = encoded(
            Image.new("RGB", (64, 48), RED),
            "JPEG",
            exif=exif,
            xmp=b"<x:xmpmeta>Wang's flat</x:xmpmeta>",
            icc_profile=b"not really a profile",
            comment=b"2 Lianxing Road",
        )
        given = Image.open(io.BytesIO(original))
        assert given.getexif().get_ifd(GPS_IFD)
        assert {"exif", "xmp", "icc_profile", "comment"} <= set(given.info)

        processed = image_process(upload(original))

        for stored in (processed.image, processed.thumbnail):
            result = reopened(stored)
            assert dict(result.getexif()) == {}
            assert result.getexif().get_ifd(GPS_IFD) == {}
            assert not {"exif", "xmp", "icc_profile", "comment"} & set(result.info)
            stored.seek(0)
            raw = stored.read()
            assert b"Lianxing" not in raw
            assert b"Wang" not in raw

    def test_png_text_chunks_and_icc_profile(self):
        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", "2 Lianxing Road")
        text.add_itxt("Author", "王阿姨")
        original = encoded(Image.new("RGB", (64, 48), RED), "PNG", pnginfo=text, icc_profile=b"not really a profile")
        assert {"Comment", "Author", "icc_profile"} <= set(Image.open(io.BytesIO(original)).info)

        processed = image_process(upload(original, "door.png", "image/png"))

        result = reopened(processed.image)
        assert not {"Comment", "Author", "icc_profile", "exif"} & set(result.info)
        assert dict(result.getexif()) == {}


class TestOrientation:
    def test_orientation_6_is_applied_to_the_pixels(self):
        given = Image.new("RGB", (40, 20), BLUE)
        given.paste(RED, (0, 0, 20, 20))  # left half red
        exif = Image.Exif()
        exif[ORIENTATION] = 6  # the camera was turned: show it rotated 90° clockwise

        processed = image_process(upload(encoded(given, "JPEG", exif=exif, quality=95)))

        assert (processed.width, processed.height) == (20, 40)
        result = reopened(processed.image).convert("RGB")
        assert result.size == (20, 40)
        assert result.getexif().get(ORIENTATION) is None
        top, bottom = result.getpixel((10, 5)), result.getpixel((10, 35))
        assert top[0] > 150 > top[2]  # the left edge is now the top
        assert bottom[2] > 150 > bottom[0]

    def test_a_large_turned_photo_is_shrunk_and_turned(self):
        exif = Image.Exif()
        exif[ORIENTATION] = 6

        processed = image_process(upload(encoded(noisy((3000, 1000)), "JPEG", exif=exif)))

        assert (processed.width, processed.height) == (683, 2048)
        assert reopened(processed.thumbnail).size == (107, 320)


class TestPixelLimit:
    def test_a_header_past_pillows_own_limit_is_refused_without_decoding(self, no_decoding):
        error = refusal(png_header_only(20000, 20000), "photo.png")

        assert error.code == "too_many_pixels"

    def test_a_header_in_pillows_warning_range_is_refused_without_decoding(self, no_decoding):
        # 100 megapixels: Pillow warns (DecompressionBombWarning) rather than raises.
        error = refusal(png_header_only(10000, 10000), "photo.png")

        assert error.code == "too_many_pixels"

    def test_a_header_over_our_limit_is_refused_with_its_size(self, no_decoding, english):
        error = refusal(png_header_only(9000, 8000), "photo.png")

        assert error.code == "too_many_pixels"
        assert error.messages == ["This photo is too large (9000 × 8000 pixels). Choose one under 64 megapixels."]

    def test_the_limit_is_read_from_settings(self, settings):
        settings.IMAGE_MAX_PIXELS = 1000

        assert refusal(encoded(Image.new("RGB", (40, 30), RED), "JPEG")).code == "too_many_pixels"


class TestRefusals:
    @pytest.mark.parametrize(
        "data",
        [
            pytest.param(b"<!DOCTYPE html><html><script>alert(1)</script></html>", id="html"),
            pytest.param(
                b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
                id="svg",
            ),
            pytest.param(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n", id="pdf"),
            pytest.param(encoded(Image.new("P", (10, 10)), "GIF"), id="gif"),
            pytest.param(encoded(Image.new("RGB", (10, 10)), "BMP"), id="bmp"),
            pytest.param(encoded(Image.new("RGB", (10, 10)), "TIFF"), id="tiff"),
        ],
    )
    def test_other_formats_named_jpg_are_refused(self, data, english):
        error = refusal(data, "photo.jpg")

        assert error.code == "unsupported_format"
        assert error.messages == ["Upload a photo in JPEG, PNG or WebP format."]

    @pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
    def test_a_file_cut_in_half_is_broken(self, image_format, english):
        whole = encoded(noisy((200, 200)), image_format)

        error = refusal(whole[: len(whole) // 2])

        assert error.code == "broken"
        assert error.messages == ["This file is damaged or is not a complete image."]

    def test_an_empty_file_is_refused(self):
        assert refusal(b"").code == "empty"

    def test_a_file_over_the_byte_limit_is_refused_before_it_is_opened(self, settings, monkeypatch, english):
        settings.IMAGE_UPLOAD_MAX_BYTES = 1024 * 1024
        monkeypatch.setattr(Image, "open", lambda *args, **kwargs: pytest.fail("the file was opened"))

        error = refusal(b"\xff\xd8" + bytes(1024 * 1024))

        assert error.code == "too_large"
        assert error.messages == ["This file is larger than 1 MB. Choose a smaller photo."]

    def test_a_file_over_the_byte_limit_is_not_read(self, settings):
        settings.IMAGE_UPLOAD_MAX_BYTES = 1000

        class Unreadable(io.BytesIO):
            def read(self, size=-1):
                raise AssertionError("the file was read")

        with pytest.raises(ValidationError) as caught:
            image_process(Unreadable(bytes(1001)))

        assert caught.value.code == "too_large"

    def test_a_stream_of_unknown_size_is_read_only_up_to_the_limit(self, settings):
        settings.IMAGE_UPLOAD_MAX_BYTES = 1000

        class Stream:
            """Readable but not seekable, like a socket: its size is unknown up front."""

            def __init__(self, data: bytes):
                self.buffer = io.BytesIO(data)
                self.requested: list[int] = []

            def read(self, size: int = -1) -> bytes:
                self.requested.append(size)
                return self.buffer.read(size)

        stream = Stream(bytes(10_000))

        with pytest.raises(ValidationError) as caught:
            image_process(stream)

        assert caught.value.code == "too_large"
        assert stream.requested == [1001]


class TestStoredImage:
    def test_a_large_image_is_downscaled_and_thumbnailed(self):
        processed = image_process(upload(encoded(noisy((3000, 1000)), "JPEG")))

        assert (processed.width, processed.height) == (2048, 683)
        assert reopened(processed.image).size == (2048, 683)
        thumbnail = reopened(processed.thumbnail)
        assert max(thumbnail.size) <= 320
        assert thumbnail.size == (320, 107)

    def test_a_small_image_is_not_enlarged(self):
        processed = image_process(upload(encoded(Image.new("RGB", (100, 50), RED), "JPEG")))

        assert (processed.width, processed.height) == (100, 50)
        assert reopened(processed.thumbnail).size == (100, 50)

    def test_sizes_come_from_settings(self, settings):
        settings.IMAGE_STORED_MAX_SIDE = 500
        settings.IMAGE_THUMBNAIL_SIDE = 50

        processed = image_process(upload(encoded(noisy((1000, 800)), "JPEG")))

        assert (processed.width, processed.height) == (500, 400)
        assert reopened(processed.thumbnail).size == (50, 40)

    def test_names_are_random_and_never_the_uploaded_name(self):
        data = encoded(Image.new("RGB", (40, 30), RED), "JPEG")

        first = image_process(upload(data, "王阿姨家门牌.jpg"))
        second = image_process(upload(data, "王阿姨家门牌.jpg"))

        assert first.image.name != second.image.name
        assert first.thumbnail.name != second.thumbnail.name
        for processed in (first, second):
            assert re.fullmatch(r"[0-9a-f]{32}\.jpg", processed.image.name)
            assert re.fullmatch(r"[0-9a-f]{32}-thumb\.jpg", processed.thumbnail.name)
            assert "王阿姨" not in processed.image.name
            assert "门牌" not in processed.thumbnail.name

    def test_transparency_is_kept_as_png(self):
        given = Image.new("RGBA", (40, 30), (*RED, 255))
        given.paste((0, 0, 0, 0), (0, 0, 10, 10))

        processed = image_process(upload(encoded(given, "PNG"), "sticker.png", "image/png"))

        assert processed.image.name.endswith(".png")
        assert processed.thumbnail.name.endswith("-thumb.png")
        result = reopened(processed.image)
        assert result.format == "PNG"
        assert result.mode == "RGBA"
        assert result.getpixel((5, 5))[3] == 0
        assert result.getpixel((30, 20)) == (*RED, 255)

    def test_a_transparent_palette_png_is_kept_as_png(self):
        given = Image.new("P", (40, 30), 1)
        given.putpalette([0, 0, 0, *RED])
        given.paste(0, (0, 0, 10, 10))

        processed = image_process(upload(encoded(given, "PNG", transparency=0), "sticker.png", "image/png"))

        result = reopened(processed.image)
        assert result.mode == "RGBA"
        assert result.getpixel((5, 5))[3] == 0

    @pytest.mark.parametrize(
        ("mode", "color"), [("RGBA", (*RED, 255)), ("RGB", RED), ("L", 128), ("I;16", 40000), ("P", 1)]
    )
    def test_an_opaque_png_becomes_jpeg(self, mode, color):
        given = Image.new(mode, (40, 30), color)

        processed = image_process(upload(encoded(given, "PNG"), "scan.png", "image/png"))

        assert processed.image.name.endswith(".jpg")
        result = reopened(processed.image)
        assert result.format == "JPEG"
        assert result.mode == "RGB"

    def test_a_cmyk_jpeg_becomes_rgb(self):
        processed = image_process(upload(encoded(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG")))

        assert reopened(processed.image).mode == "RGB"

    @pytest.mark.parametrize(
        ("given", "stored_format"),
        [
            pytest.param(Image.new("RGB", (40, 30), RED), "JPEG", id="opaque"),
            pytest.param(Image.new("RGBA", (40, 30), (*RED, 0)), "PNG", id="transparent"),
        ],
    )
    def test_webp_is_accepted(self, given, stored_format):
        processed = image_process(upload(encoded(given, "WEBP"), "photo.webp", "image/webp"))

        assert (processed.width, processed.height) == (40, 30)
        assert reopened(processed.image).format == stored_format

    @pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
    def test_an_animation_keeps_its_first_frame(self, image_format):
        frames = [Image.new("RGB", (40, 30), RED), Image.new("RGB", (40, 30), BLUE)]
        data = encoded(frames[0], image_format, save_all=True, append_images=frames[1:], lossless=True)
        assert Image.open(io.BytesIO(data)).n_frames == 2

        processed = image_process(upload(data, "wave." + image_format.lower()))

        result = reopened(processed.image)
        assert getattr(result, "n_frames", 1) == 1
        red, _green, blue = result.convert("RGB").getpixel((20, 15))
        assert red > 150 > blue

    def test_any_binary_file_object_is_accepted(self):
        processed = image_process(io.BytesIO(encoded(Image.new("RGB", (40, 30), RED), "JPEG")))

        assert (processed.width, processed.height) == (40, 30)


class PhotoForm(forms.Form):
    photo = PipelineImageField()


class OptionalPhotoForm(forms.Form):
    photo = PipelineImageField(required=False)


class TestPipelineImageField:
    def test_a_good_image_cleans_to_a_processed_image(self):
        form = PhotoForm(files={"photo": upload(encoded(Image.new("RGB", (40, 30), RED), "JPEG"))})

        assert form.is_valid(), form.errors
        processed = form.cleaned_data["photo"]
        assert isinstance(processed, ProcessedImage)
        assert (processed.width, processed.height) == (40, 30)

    def test_a_bad_file_is_a_form_error(self):
        form = PhotoForm(files={"photo": upload(b"<html></html>", "photo.jpg")})

        with translation.override("en"):
            assert not form.is_valid()
            assert form.errors["photo"] == ["Upload a photo in JPEG, PNG or WebP format."]
        assert form.errors.as_data()["photo"][0].code == "unsupported_format"

    def test_an_empty_file_is_refused_by_the_file_field(self):
        form = PhotoForm(files={"photo": upload(b"")})

        assert not form.is_valid()
        assert form.errors.as_data()["photo"][0].code == "empty"

    def test_a_required_field_needs_a_file(self):
        form = PhotoForm(data={}, files={})

        assert not form.is_valid()
        assert form.errors.as_data()["photo"][0].code == "required"

    def test_an_optional_field_without_a_file_cleans_to_none(self):
        form = OptionalPhotoForm(data={}, files={})

        assert form.is_valid(), form.errors
        assert form.cleaned_data["photo"] is None

    def test_an_optional_field_keeps_what_is_stored_when_nothing_is_uploaded(self):
        form = OptionalPhotoForm(data={}, files={}, initial={"photo": "avatars/0123abcd.jpg"})

        assert form.is_valid(), form.errors
        assert form.cleaned_data["photo"] is None

    def test_ticking_clear_cleans_to_false(self):
        form = OptionalPhotoForm(data={"photo-clear": "on"}, files={}, initial={"photo": "avatars/0123abcd.jpg"})

        assert form.is_valid(), form.errors
        assert form.cleaned_data["photo"] is False

    def test_the_input_offers_only_accepted_formats(self):
        assert 'accept="image/jpeg,image/png,image/webp"' in str(PhotoForm()["photo"])
