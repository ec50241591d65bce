"""Both catalogues are complete for what the source says, and compiled as committed."""

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

from tests.conftest import IN_CI

LOCALES = ["zh_Hans", "en"]
SOURCE_DIRS = ["config", "neighbors", "talent_pool", "aid_posts", "messaging", "committee", "templates"]
LOCALE_DIR = Path(settings.BASE_DIR) / "locale"


def catalogue(locale: str) -> polib.POFile:
    return polib.pofile(str(LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"))


def translations(entry: polib.POEntry) -> list[str]:
    """The msgstr, or every plural form of it (Chinese has one, English two)."""
    if entry.msgid_plural:
        return [text for _form, text in sorted(entry.msgstr_plural.items())]
    return [entry.msgstr]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_entry_is_translated_and_none_is_fuzzy(locale):
    po = catalogue(locale)
    assert len(po) > 100
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogue_matches_its_source(locale):
    po = catalogue(locale)
    mo = polib.mofile(str(LOCALE_DIR / locale / "LC_MESSAGES" / "django.mo"))
    compiled = {(entry.msgctxt, entry.msgid): translations(entry) for entry in mo if entry.msgid}
    source = {(entry.msgctxt, entry.msgid): translations(entry) for entry in po if not entry.obsolete}
    assert compiled == source, "run `make messages`"


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{[^}]*\}")


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_survive_translation(locale):
    """A translation uses the source's placeholders and no others. A plural form may use
    those of either source form ("helped once" / "helped %(n)s times"): in Chinese the one
    form serves every count, so it must say the number."""
    for entry in catalogue(locale):
        if entry.obsolete:
            continue
        allowed = sorted(PLACEHOLDER.findall(entry.msgid + entry.msgid_plural))
        for text in translations(entry):
            used = PLACEHOLDER.findall(text)
            if entry.msgid_plural:
                assert set(used) <= set(allowed), entry.msgid
            else:
                assert sorted(used) == sorted(PLACEHOLDER.findall(entry.msgid)), entry.msgid


def test_the_source_has_no_string_missing_from_the_catalogues(tmp_path, monkeypatch, settings):
    """Extract the strings afresh, as `make messages` does, and compare."""
    if shutil.which("xgettext") is None:
        message = "xgettext (Debian's gettext) is needed to extract strings"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    for name in SOURCE_DIRS:
        shutil.copytree(Path(settings.BASE_DIR) / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(LOCALE_DIR, tmp_path / "locale")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)

    call_command("makemessages", locale=LOCALES, verbosity=0)

    for locale in LOCALES:
        fresh = polib.pofile(str(tmp_path / "locale" / locale / "LC_MESSAGES" / "django.po"))
        missing = sorted(entry.msgid for entry in fresh if not entry.obsolete and not all(translations(entry)))
        assert missing == [], f"untranslated in {locale}: run `make messages` and translate"
