"""French says the singular for 0 and 1: « 0 place restante », never « 0 places restantes »."""

from pathlib import Path

from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext

CATALOGUE = Path(__file__).resolve().parents[2] / "app" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"


def test_every_plural_of_the_french_catalogue_is_filled_with_its_source():
    catalogue = read_po(CATALOGUE.open("rb"), locale="fr")
    plurals = [m for m in catalogue if m.id and isinstance(m.id, tuple | list)]
    assert plurals
    assert [m.id for m in plurals if tuple(m.string) != (m.id[0], m.id[1])] == []


def test_zero_and_one_take_the_singular_in_french_and_only_one_in_english(app):
    with app.test_request_context(), force_locale("fr"):
        said = [ngettext("%(num)d place restante", "%(num)d places restantes", n) for n in (0, 1, 2)]
    assert said == ["0 place restante", "1 place restante", "2 places restantes"]
    with app.test_request_context(), force_locale("en"):
        english = ngettext("%(num)d place restante", "%(num)d places restantes", 0)
    assert "0" in english and english != "0 place restante"
