"""The translation catalogs: every string in the code has an Indonesian translation.

The messages are extracted from the source the same way `pybabel extract -F babel.cfg -k _l
-k lazy_gettext` does, so a new string without an Indonesian translation fails here, named.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale, refresh

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "workshop" / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "_ln": (1, 2), "lazy_ngettext": (1, 2)}
# %(name)s, %(num)d, %s, %d ... ; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def _catalog(language: str) -> Catalog:
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def _extracted() -> Catalog:
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, filename="babel.cfg")
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _forms(message) -> list[str]:
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def _placeholders(text: str) -> list[str]:
    return sorted(found for found in PLACEHOLDER.findall(text) if found != "%%")


def _where(message) -> str:
    return ", ".join(f"{path}:{line}" for path, line in message.locations[:3])


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return _extracted()


@pytest.fixture(scope="module")
def indonesian() -> Catalog:
    return _catalog("id")


def test_extraction_finds_the_strings_of_templates_and_python_code(extracted):
    # Guards the test below: an extraction that found nothing would pass it vacuously.
    assert extracted.get("Staff login") is not None  # a template
    assert extracted.get("This field is required.") is not None  # lazy_gettext in a form
    assert extracted.get("%(num)d registration") is not None  # ngettext
    assert extracted.get("Field cannot be longer than %(max)d character.") is not None  # lazy_ngettext


def test_every_template_with_strings_is_read_by_the_extraction(extracted):
    # A template the extractor cannot parse (a tag of an extension babel.cfg does not name, such as
    # {% cache %}) yields nothing, silently: its strings would never reach the catalogs.
    read = {path for message in extracted for path, _ in message.locations}
    templates = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*")
        if path.suffix in (".html", ".txt")
        and re.search(r"\b_\(|gettext\(", path.read_text(encoding="utf-8"))
    }
    assert sorted(templates - read) == []


def test_every_string_in_the_code_has_an_indonesian_translation(extracted, indonesian):
    problems = []
    for message in extracted:
        if not message.id:
            continue
        found = indonesian.get(message.id, context=message.context)
        if found is None:
            problems.append(f"not in the id catalog (run pybabel update): {message.id!r} ({_where(message)})")
        elif not all(_strings(found)):
            problems.append(f"no Indonesian translation: {message.id!r} ({_where(message)})")
        elif isinstance(message.id, (list, tuple)) != isinstance(found.id, (list, tuple)):
            problems.append(f"plural form differs from the code (run pybabel update): {message.id!r}")
    assert problems == []


@pytest.mark.parametrize("language", ["id", "en"])
def test_no_translation_is_fuzzy(language):
    catalog = _catalog(language)
    assert not catalog.fuzzy, "the catalog header is marked fuzzy: pybabel compile would skip the catalog"
    assert [message.id for message in catalog if message.id and message.fuzzy] == []


@pytest.mark.parametrize("language", ["id", "en"])
def test_translations_keep_the_placeholders_of_their_msgid(language):
    catalog = _catalog(language)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        forms = _forms(message)
        for index, text in enumerate(_strings(message)):
            if not text:
                continue
            # msgstr[i] follows the singular for the first form, the plural otherwise; with one plural
            # form (Indonesian) msgstr[0] stands for every number, so it follows the plural msgid.
            source = forms[-1] if index > 0 or catalog.num_plurals == 1 else forms[0]
            if _placeholders(text) != _placeholders(source):
                problems.append(f"{message.id!r}: msgstr[{index}] {text!r}")
    assert problems == []


def test_catalog_headers_name_the_language_and_its_plural_forms():
    indonesian, english = _catalog("id"), _catalog("en")

    assert (str(indonesian.locale), indonesian.num_plurals, indonesian.plural_expr) == ("id", 1, "0")
    assert (str(english.locale), english.num_plurals, english.plural_expr) == ("en", 2, "(n != 1)")
    for catalog in (indonesian, english):
        assert catalog.charset == "utf-8"
        assert all(
            len(_strings(message)) == catalog.num_plurals for message in catalog if message.pluralizable
        )


def test_the_pages_speak_indonesian_by_default_and_english_on_request(client):
    indonesian = client.get("/").get_data(as_text=True)

    assert "Masuk petugas" in indonesian
    assert "Staff login" not in indonesian

    # Requests in tests share the app context (and `g`), where Flask-Babel caches the locale.
    refresh()
    client.post("/language/en")
    english = client.get("/").get_data(as_text=True)

    assert "Staff login" in english
    assert "Masuk petugas" not in english


# Templates take the catalog once per render (workshop/i18n.py install_template_gettext).

WORDS = (
    '{{ _("Page not found") }} | {{ ngettext("Stage %(numbers)s", "Stages %(numbers)s", 2, numbers="I, III") }}'
    " | {% trans %}Page not found{% endtrans %}"
)


def test_a_template_speaks_the_language_of_its_render(app):
    with app.test_request_context("/"):
        assert (
            render_template_string(WORDS)
            == "Halaman tidak ditemukan | Tahap I, III | Halaman tidak ditemukan"
        )
        with force_locale("en"):
            assert render_template_string(WORDS) == "Page not found | Stages I, III | Page not found"
        assert (
            render_template_string(WORDS)
            == "Halaman tidak ditemukan | Tahap I, III | Halaman tidak ditemukan"
        )


def test_a_template_rendered_without_flasks_context_asks_flask_babel(app):
    template = app.jinja_env.from_string(WORDS)  # no context processor: as a macro imported without context
    with app.test_request_context("/"):
        assert template.render() == "Halaman tidak ditemukan | Tahap I, III | Halaman tidak ditemukan"
        with force_locale("en"):
            assert template.render() == "Page not found | Stages I, III | Page not found"


def test_each_request_renders_in_the_language_its_session_chose(client):
    def error_title() -> str:
        page = client.get("/no-such-page")
        assert page.status_code == 404
        return re.search(r"<h1[^>]*>([^<]+)</h1>", page.get_data(as_text=True)).group(1).strip()

    assert error_title() == "Halaman tidak ditemukan"
    assert client.post("/language/en").status_code == 302
    assert error_title() == "Page not found"
    assert client.post("/language/id").status_code == 302
    assert error_title() == "Halaman tidak ditemukan"
