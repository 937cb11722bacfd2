"""Fill the French catalogue's plural entries with the source text itself.

French is the source language, so its catalogue is empty but for one thing: plural forms.
Without a French catalogue, gettext falls back to the English rule (n == 1 is singular), and
"0 ressource" becomes "0 ressources"; French says the singular for 0 and 1 (nplurals=2;
plural=(n > 1)). Run by `make extract-messages`, after the catalogues are updated.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUE = Path(__file__).resolve().parents[1] / "app" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"


def main() -> int:
    with CATALOGUE.open("rb") as source:
        catalogue = read_po(source, locale="fr")
    filled = 0
    for message in catalogue:
        if message.id and isinstance(message.id, tuple | list):
            wanted = (message.id[0], message.id[1])
            if tuple(message.string) != wanted:
                message.string = wanted
                filled += 1
    with CATALOGUE.open("wb") as target:
        write_po(target, catalogue, width=76)
    print(f"French plural entries filled: {filled}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
