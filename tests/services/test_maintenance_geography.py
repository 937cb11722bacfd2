"""The borders of Occitanie's départements, and the order in which other units are offered."""

import pytest
from sqlalchemy import select

from app.models import Departement
from app.services.geography import NEIGHBOURS, distance, nearest_first

OCCITANIE = {"09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"}


def test_the_table_covers_the_thirteen_departements_and_only_them():
    assert set(NEIGHBOURS) == OCCITANIE
    assert set().union(*NEIGHBOURS.values()) == OCCITANIE


def test_the_table_covers_the_departements_the_site_knows(session):
    assert set(session.scalars(select(Departement.code))) <= set(NEIGHBOURS)


@pytest.mark.parametrize("code", sorted(OCCITANIE))
def test_every_border_is_written_on_both_sides_and_none_to_itself(code):
    assert code not in NEIGHBOURS[code]
    for other in NEIGHBOURS[code]:
        assert code in NEIGHBOURS[other], f"{code} borders {other} but not the other way round"


@pytest.mark.parametrize(
    ("code", "neighbours"),
    [
        ("34", {"11", "12", "30", "81"}),
        ("09", {"11", "31", "66"}),
        ("66", {"09", "11"}),
        ("12", {"30", "34", "46", "48", "81", "82"}),
        ("31", {"09", "11", "32", "65", "81", "82"}),
        ("65", {"31", "32"}),
        ("48", {"12", "30"}),
    ],
)
def test_known_borders(code, neighbours):
    assert NEIGHBOURS[code] == neighbours


def test_nearest_first_puts_home_then_neighbours_then_the_rest_by_borders_crossed_then_code():
    assert nearest_first("34", OCCITANIE) == [
        "34",
        "11", "12", "30", "81",  # neighbours
        "09", "31", "46", "48", "66", "82",  # two borders away
        "32", "65",  # three
    ]  # fmt: skip


def test_nearest_first_keeps_only_the_codes_given_once_each_unknown_ones_last():
    assert nearest_first("09", ["65", "75", "11", "11", "31"]) == ["11", "31", "65", "75"]
    assert nearest_first("75", ["34", "11"]) == ["11", "34"]


def test_distance_counts_borders_crossed():
    assert (distance("34", "34"), distance("34", "81"), distance("66", "65"), distance("66", "46")) == (0, 1, 3, 4)
