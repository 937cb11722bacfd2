"""How French names a place « dans » or « en »: each département of the region with its article
and preposition, as a French reader expects them (« dans l'Hérault », « en Ariège », « dans le
Gard », « dans les Pyrénées-Orientales »). The rules behind them (gender, number, an initial
vowel, a compound name) have enough exceptions that a table is the reliable form."""

from __future__ import annotations

from collections.abc import Mapping

# tests/services/test_places.py checks that every département of the region is here.
IN_DEPARTEMENT: Mapping[str, str] = {
    "09": "en Ariège",
    "11": "dans l'Aude",
    "12": "en Aveyron",
    "30": "dans le Gard",
    "31": "en Haute-Garonne",
    "32": "dans le Gers",
    "34": "dans l'Hérault",
    "46": "dans le Lot",
    "48": "en Lozère",
    "65": "dans les Hautes-Pyrénées",
    "66": "dans les Pyrénées-Orientales",
    "81": "dans le Tarn",
    "82": "dans le Tarn-et-Garonne",
}


def in_departement_fr(code: str, name: str) -> str:
    """« dans l'Hérault »; a département beyond the table (its name as given) reads « dans le
    département X », which is right whatever its gender."""
    return IN_DEPARTEMENT.get(code) or f"dans le département {name}"
