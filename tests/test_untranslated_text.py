"""Text a person reads is marked for translation wherever it is written.

tests/test_translations.py checks that every *marked* string is translated in both catalogues;
what it cannot see is text that was never marked. These scanners look for it in the templates,
in the Python that hands text to people, and in the scripts. Each reports file:line and the text,
and each is first run on a small bad sample, so that a scanner broken into silence fails too.
"""

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.template.base import Lexer, TokenType

ROOT = Path(settings.BASE_DIR)
TEMPLATES = ROOT / "templates"
APPS = ["config", "neighbors", "talent_pool", "aid_posts", "messaging", "committee"]
SCRIPTS = ROOT / "static" / "js"

# Help pages are written once per language (templates/help/zh-hans/…, templates/help/en/…), so
# their text is meant to stand as it is, in the one language of the folder.
PER_LANGUAGE_TEMPLATES = ("help/", "neighbors/help/")

# Pages rendered without a request, so without the person's language (Django's server_error
# view renders 500.html with no context; config/errors.py renders 503.html when the database is
# away): they say everything in both languages, as the site's brand does.
BILINGUAL_TEMPLATES = {"500.html", "503.html"}

# Text that stays as it is in both languages, each with the reason.
ALLOWED_TEMPLATE_TEXT = {
    ("base.html", "近邻"): "the brand is shown in both of its forms in both languages",
    ("base.html", "Jinlin"): "the brand is shown in both of its forms in both languages",
}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def has_letter(text: str) -> bool:
    """Latin, CJK or any other script's letter: digits, punctuation and symbols need no words."""
    return any(character.isalpha() for character in text)


# --- Templates -------------------------------------------------------------------------------

# Blocks whose content Django translates (or drops) as a whole.
SKIPPED_BLOCKS = {
    "blocktranslate": "endblocktranslate",
    "blocktrans": "endblocktrans",
    "comment": "endcomment",
}

# Attributes read out or shown to people (WAI-ARIA's naming attributes, alt text, tooltips).
HUMAN_ATTRIBUTES = {
    "alt",
    "title",
    "placeholder",
    "label",
    "aria-label",
    "aria-description",
    "aria-placeholder",
    "aria-roledescription",
    "aria-valuetext",
}
BUTTON_INPUTS = {"button", "submit", "reset"}
DESCRIBING_META = {"description", "application-name"}


def template_text(source: str) -> str:
    """What is left of a template once Django has done its work and the catalogue has been
    consulted: the literal text outside blocktranslate and comments. Tags and variables become
    nothing, so a line of the result is the same line of the source."""
    kept: list[str] = []
    line = 1
    skip_until = None
    for token in Lexer(source).tokenize():
        if token.token_type is TokenType.BLOCK:
            name = token.contents.split(maxsplit=1)[0] if token.contents else ""
            if skip_until is None and name in SKIPPED_BLOCKS:
                skip_until = SKIPPED_BLOCKS[name]
            elif name == skip_until:
                skip_until = None
            continue
        if token.token_type is not TokenType.TEXT or skip_until is not None:
            continue
        # Tags and variables take no room; pad to the token's own line so lines still match.
        kept.append("\n" * (token.lineno - line))
        kept.append(token.contents)
        line = token.lineno + token.contents.count("\n")
    return "".join(kept)


class VisibleText(HTMLParser):
    """The text nodes (outside script and style) and the human-readable attributes of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.in_code = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.in_code = tag
        values = dict(attrs)
        for name, value in attrs:
            human = (
                name in HUMAN_ATTRIBUTES
                or (tag == "input" and name == "value" and values.get("type") in BUTTON_INPUTS)
                or (tag == "meta" and name == "content" and values.get("name") in DESCRIBING_META)
            )
            if human and value and has_letter(value):
                self.found.append((self._line_of(value), value.strip()))

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == self.in_code:
            self.in_code = None

    def handle_data(self, data: str) -> None:
        if self.in_code is None and has_letter(data):
            leading = data[: len(data) - len(data.lstrip())]
            self.found.append((self.getpos()[0] + leading.count("\n"), " ".join(data.split())))

    def _line_of(self, value: str) -> int:
        tag = self.get_starttag_text() or ""
        return self.getpos()[0] + tag[: max(tag.find(value), 0)].count("\n")


def untranslated_in_template(source: str, *, plain: bool = False) -> list[tuple[int, str]]:
    """(line, text) of every piece of text a person would read untranslated. A plain-text
    template (an email) is all text: every line with a letter left in it counts."""
    text = template_text(source)
    if plain:
        return [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1) if has_letter(line)]
    parser = VisibleText()
    parser.feed(text)
    parser.close()
    return parser.found


def untranslated_in_templates() -> list[Finding]:
    findings = []
    for path in sorted(TEMPLATES.rglob("*")):
        name = path.relative_to(TEMPLATES).as_posix()
        if path.suffix not in (".html", ".txt") or name.startswith(PER_LANGUAGE_TEMPLATES):
            continue
        if name in BILINGUAL_TEMPLATES:
            continue
        for line, text in untranslated_in_template(path.read_text(encoding="utf-8"), plain=path.suffix == ".txt"):
            if (name, text) not in ALLOWED_TEMPLATE_TEXT:
                findings.append(Finding(f"templates/{name}", line, text))
    return findings


# --- Python ----------------------------------------------------------------------------------

MESSAGE_LEVELS = {"debug", "info", "success", "warning", "error"}
# Exceptions whose message the views show: a PermissionDenied's text goes into messages.error.
MESSAGE_EXCEPTIONS = {"ValidationError", "PermissionDenied", "Http404"}
FIELD_TEXT_KEYWORDS = {"label", "help_text", "verbose_name", "verbose_name_plural", "empty_label"}
# Model fields whose first positional argument is the related model, not their verbose name.
RELATION_FIELDS = {"ForeignKey", "OneToOneField", "ManyToManyField"}
META_TEXT = {"verbose_name", "verbose_name_plural"}
META_TEXT_MAPS = {"labels", "help_texts", "error_messages"}


def literal_text(node: ast.AST | None) -> str | None:
    """The source of `node` if it is text written in place (not passed through gettext or
    taken from elsewhere) and has a letter in it; None otherwise."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) and has_letter(node.value) else None
    if isinstance(node, ast.JoinedStr):
        written = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
        return ast.unparse(node) if has_letter(written) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return literal_text(node.left) or (literal_text(node.right) if isinstance(node.op, ast.Add) else None)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return literal_text(node.func.value)
    if isinstance(node, ast.IfExp):
        return literal_text(node.body) or literal_text(node.orelse)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return next(filter(None, map(literal_text, node.elts)), None)
    if isinstance(node, ast.Dict):
        return next(filter(None, map(literal_text, node.values)), None)
    return None


def called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def owner_name(call: ast.Call) -> str:
    """ "messages" for messages.error(...), "" for a bare name."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id
    return ""


def argument(call: ast.Call, position: int, keyword: str) -> ast.AST | None:
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    return call.args[position] if len(call.args) > position else None


def choice_labels(node: ast.AST) -> Iterator[ast.AST]:
    """The labels of a literal choices list: the second item of each pair, and those of groups."""
    if not isinstance(node, ast.List | ast.Tuple):
        return
    for pair in node.elts:
        if isinstance(pair, ast.Tuple | ast.List) and len(pair.elts) == 2:
            label = pair.elts[1]
            if isinstance(label, ast.List | ast.Tuple):
                yield from choice_labels(label)
            else:
                yield label


class UserText(ast.NodeVisitor):
    """Literal text given to people through the ways Django has for it."""

    def __init__(self) -> None:
        self.found: list[tuple[int, int, str]] = []

    def flag(self, node: ast.AST | None) -> None:
        text = literal_text(node)
        if text is not None:
            self.found.append((node.lineno, node.col_offset, text))

    def visit_Call(self, call: ast.Call) -> None:
        name, owner = called_name(call), owner_name(call)
        if owner == "messages" and name in MESSAGE_LEVELS:
            self.flag(argument(call, 1, "message"))
        elif owner == "messages" and name == "add_message":
            self.flag(argument(call, 2, "message"))
        elif name in MESSAGE_EXCEPTIONS:
            self.flag(argument(call, 0, "message"))
        elif name == "add_error":
            self.flag(argument(call, 1, "error"))
        elif name.startswith("HttpResponse"):
            content_type = argument(call, 99, "content_type")
            # A body declared as something other than HTML (text/plain for a health check, a
            # CSV) is for machines or is data; a page is for people.
            if content_type is None or "html" in (literal_text(content_type) or "html"):
                self.flag(argument(call, 0, "content"))
        elif name == "send_mail":
            self.flag(argument(call, 0, "subject"))
        elif name.startswith("notification_send"):
            self.flag(argument(call, 99, "title"))
            self.flag(argument(call, 99, "body"))
        elif name in ("display", "action") and owner == "admin":
            self.flag(argument(call, 99, "description"))
        if name.endswith("Field") or name in RELATION_FIELDS:
            for item in call.keywords:
                if item.arg in FIELD_TEXT_KEYWORDS or item.arg == "error_messages":
                    self.flag(item.value)
            if owner == "models" and name not in RELATION_FIELDS and call.args:
                self.flag(call.args[0])
        for item in call.keywords:
            if item.arg == "choices":
                for label in choice_labels(item.value):
                    self.flag(label)
            elif item.arg == "attrs" and isinstance(item.value, ast.Dict):
                for key, value in zip(item.value.keys, item.value.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value in HUMAN_ATTRIBUTES:
                        self.flag(value)
        self.generic_visit(call)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "") for base in node.bases}
        if any(base.endswith("Choices") for base in bases):
            self.choices_members(node)
        elif node.name == "Meta":
            for statement in node.body:
                for target, value in assignments(statement):
                    if target in META_TEXT or target in META_TEXT_MAPS:
                        self.flag(value)
        self.generic_visit(node)

    def choices_members(self, node: ast.ClassDef) -> None:
        """A member of TextChoices/IntegerChoices shows its label; without one Django makes one
        from the member's name, in English whatever the language."""
        for statement in node.body:
            for target, value in assignments(statement):
                if not target.isupper():
                    continue
                if isinstance(value, ast.Tuple):
                    self.flag(value.elts[-1])
                else:
                    self.found.append((statement.lineno, 0, f"{target} (no label: Django makes one from the name)"))

    def visit_Assign(self, node: ast.Assign) -> None:
        for target, value in assignments(node):
            if target.endswith("CHOICES"):
                for label in choice_labels(value):
                    self.flag(label)
            elif target in ("error_messages", "default_error_messages"):
                self.flag(value)
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        # {"errors": [...]} is what the site's JSON answers and socket frames carry for people to
        # read (static/js/chat.js shows them); "error" and "code" name the case for the script.
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "errors":
                self.flag(value)
        self.generic_visit(node)


def assignments(statement: ast.stmt) -> Iterator[tuple[str, ast.AST]]:
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            if isinstance(target, ast.Name):
                yield target.id, statement.value
    elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
        yield statement.target.id, statement.value


def untranslated_in_source(source: str) -> list[tuple[int, str]]:
    visitor = UserText()
    visitor.visit(ast.parse(source))
    return [(line, text) for line, _column, text in sorted(visitor.found)]


def python_files() -> Iterator[Path]:
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts and "tests" not in path.parts:
                yield path


def untranslated_in_python() -> list[Finding]:
    findings = []
    for path in python_files():
        for line, text in untranslated_in_source(path.read_text(encoding="utf-8")):
            findings.append(Finding(path.relative_to(ROOT).as_posix(), line, text))
    return findings


# --- Scripts ---------------------------------------------------------------------------------

# Words only: letters, an apostrophe inside a word, closing punctuation. Class lists
# ("chat-message mine"), selectors, URLs, event and key names join their parts with - _ . / [ ]
# or are one word, so they never read as words only.
WORDS = re.compile(r"^\s*(?:[A-Za-z]+(?:'[a-z]+)?[.,:;!?…]?\s*)+$")


def is_phrase(text: str) -> bool:
    """Words a person would read: a sentence ("Saved."), two words that start with a capital
    ("Not shared"), or three words or more. One bare word ("Enter", "hidden") and two lower-case
    ones ("use strict", "badge urgent") are as often a key, a directive or a class list as text,
    and are let through."""
    if not WORDS.match(text):
        return False
    words, stripped = text.split(), text.strip()
    sentence = stripped[0].isupper() and stripped[-1] in ".!?…"
    return sentence or len(words) >= 3 or (len(words) == 2 and stripped[0].isupper())


CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# After one of these a "/" starts a regular expression rather than a division.
REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^") | {"", "return", "typeof", "case", "do", "else", "in", "of"}


def string_literals(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each string literal of a script, and of each written part of a template
    literal; comments and regular expressions are skipped. A tokeniser just big enough for
    the site's own scripts, which use no nested template literals."""
    index, line, previous = 0, 1, ""
    while index < len(source):
        character = source[index]
        if source.startswith("//", index):
            index = source.find("\n", index)
            index = len(source) if index == -1 else index
            continue
        if source.startswith("/*", index):
            end = source.index("*/", index) + 2
            line += source.count("\n", index, end)
            index = end
            continue
        if character in "'\"`":
            end = index + 1
            while source[end] != character:
                end += 2 if source[end] == "\\" else 1
            literal = source[index + 1 : end]
            if character == "`":
                for part in re.split(r"\$\{[^}]*\}", literal):
                    yield line, part
            else:
                yield line, literal
            line += literal.count("\n")
            index, previous = end + 1, "string"
            continue
        if character == "/" and previous in REGEX_BEFORE:
            end = index + 1
            in_class = False
            while source[end] != "/" or in_class:
                if source[end] == "\\":
                    end += 1
                elif source[end] in "[]":
                    in_class = source[end] == "["
                end += 1
            index, previous = end + 1, "regex"
            continue
        if character == "\n":
            line += 1
        if not character.isspace():
            word = re.match(r"[A-Za-z_$][\w$]*", source[index:])
            if word:
                previous = word.group()
                index += len(previous)
                continue
            previous = character
        index += 1


def sentences_in_script(source: str) -> list[tuple[int, str]]:
    return [(line, text) for line, text in string_literals(source) if CJK.search(text) or is_phrase(text)]


def sentences_in_scripts() -> list[Finding]:
    findings = []
    for path in sorted(SCRIPTS.glob("*.js")):
        for line, text in sentences_in_script(path.read_text(encoding="utf-8")):
            findings.append(Finding(path.relative_to(ROOT).as_posix(), line, text))
    return findings


# --- The self-tests: each scanner finds what it is for ---------------------------------------

BAD_TEMPLATE = """{% load i18n %}<h1>Nearby requests</h1>
<p>{% translate "Fine" %} · {{ count }} km</p>
{# a comment with words #}{% comment %}Also words{% endcomment %}
<p>{% blocktranslate %}Translated as a whole{% endblocktranslate %}</p>
<img src="x.png" alt="A map of the buildings">
<input type="submit" value="发送"><input type="text" value="{{ value }}" name="plain">
<button title="{% translate 'Fine' %}" aria-label="Close">×</button>
<meta name="description" content="Neighbours helping neighbours">
<script>const label = "Not text a person reads here";</script><style>p::after { content: "x"; }</style>
<p>
  求助列表
</p>
"""


def test_the_template_scanner_finds_each_kind_of_untranslated_text():
    # Given a template with text in every place a person reads it, and some marked properly
    found = untranslated_in_template(BAD_TEMPLATE)

    # Then each untranslated piece is found on its own line, and nothing marked or hidden
    assert found == [
        (1, "Nearby requests"),
        (2, "· km"),
        (5, "A map of the buildings"),
        (6, "发送"),
        (7, "Close"),
        (8, "Neighbours helping neighbours"),
        (11, "求助列表"),
    ]


def test_the_template_scanner_reads_a_plain_text_email_line_by_line():
    source = '{% load i18n %}{% translate "Hello" %}\nOpen it on Jinlin: {{ url }}\n{{ body }}\n'
    assert untranslated_in_template(source, plain=True) == [(2, "Open it on Jinlin:")]


BAD_PYTHON = """
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _


class Thing(models.Model):
    class Colour(models.TextChoices):
        RED = "red", "Red"
        BLUE = "blue"
        GREEN = "green", _("Green")

    name = models.CharField("name", max_length=10, help_text="What it is called")
    owner = models.ForeignKey("auth.User", on_delete=models.CASCADE, verbose_name="owner")
    size = models.CharField(max_length=5, choices=[("s", "Small"), ("m", _("Medium"))])

    class Meta:
        verbose_name_plural = "things"


class ThingForm(forms.Form):
    name = forms.CharField(label="Name", widget=forms.TextInput(attrs={"placeholder": "e.g. 王阿姨", "class": "wide"}))
    count = forms.IntegerField(label=_("Count"), error_messages={"required": "Say how many."})

    class Meta:
        labels = {"name": "Their name"}

    def clean(self):
        self.add_error("name", f"{self} is not a name")
        raise ValidationError({"count": "Too many."})


SIZE_CHOICES = [("xl", "Extra large")]


def view(request):
    messages.success(request, "Saved.")
    messages.error(request, _("Fine"))
    messages.add_message(request, messages.INFO, "Look %s" % request.user)
    if request.user.is_anonymous:
        raise PermissionDenied("Only members.")
    if request.GET:
        return HttpResponseBadRequest("That page number is wrong.")
    if request.POST:
        return JsonResponse({"errors": ["Too big."], "code": "too_big"})
    return HttpResponse("ok", content_type="text/plain")
"""


def test_the_python_scanner_finds_each_way_of_showing_untranslated_text():
    # Given source that hands literal text to people in every way the scanner knows
    found = untranslated_in_source(BAD_PYTHON)

    # Then each is found by its line, and the translated ones and a machine's "ok" are not
    texts = [text for _line, text in found]
    assert texts == [
        "Red",
        "BLUE (no label: Django makes one from the name)",
        "name",
        "What it is called",
        "owner",
        "Small",
        "things",
        "Name",
        "e.g. 王阿姨",
        "Say how many.",
        "Their name",
        "f'{self} is not a name'",
        "Too many.",
        "Extra large",
        "Saved.",
        "Look %s",
        "Only members.",
        "That page number is wrong.",
        "Too big.",
    ]


BAD_SCRIPT = r"""
(function () {
  "use strict";
  const ok = element("p", "body status-note", labels.held);
  const title = "Not sent yet";
  const state = 'connecting';
  note.textContent = `Failed to send: ${error}`;
  button.textContent = "发送";
  // "A comment is not shown to anyone."
  /* "Nor is this one." */
  const pattern = /%\((\w+)\)s "quoted in a regex"/g;
  const half = total / 2 + "px wide margin";
  alert("Saved.");
})();
"""


def test_the_script_scanner_finds_phrases_and_chinese_but_not_names():
    # Given a script with text written into it, beside class names, keys and comments
    found = sentences_in_script(BAD_SCRIPT)

    # Then the phrases and the Chinese are found, with their lines, and nothing else
    assert found == [(5, "Not sent yet"), (7, "Failed to send: "), (8, "发送"), (12, "px wide margin"), (13, "Saved.")]


# --- The scans of the site -------------------------------------------------------------------


def test_the_templates_have_no_untranslated_text():
    scanned = [path for path in TEMPLATES.rglob("*.html") if "help" not in path.parts]
    assert len(scanned) > 50
    assert [str(finding) for finding in untranslated_in_templates()] == []


def test_the_python_hands_people_no_untranslated_text():
    assert len(list(python_files())) > 50
    assert [str(finding) for finding in untranslated_in_python()] == []


def test_the_scripts_write_no_text_of_their_own():
    # Text a script shows comes from the page (data-* attributes, the json_script config),
    # rendered by a template in the person's language.
    assert list(SCRIPTS.glob("*.js"))
    assert [str(finding) for finding in sentences_in_scripts()] == []


def test_the_allowed_text_is_still_there():
    # An allowance for text that is gone would hide the next piece of text written there.
    for name, text in ALLOWED_TEMPLATE_TEXT:
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        assert text in [found for _line, found in untranslated_in_template(source)], (name, text)


def test_the_pages_without_a_language_say_everything_in_both():
    for name in BILINGUAL_TEMPLATES:
        # Given a page rendered before any language is known
        texts = [text for _line, text in untranslated_in_template((TEMPLATES / name).read_text(encoding="utf-8"))]

        # Then it has Chinese and English, and no translation tag that could not work there
        assert any(CJK.search(text) for text in texts), name
        assert any(re.search(r"[A-Za-z]{3}", text) for text in texts), name
        assert "{% trans" not in (TEMPLATES / name).read_text(encoding="utf-8"), name
