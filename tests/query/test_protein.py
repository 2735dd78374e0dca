"""Protein changes match whatever notation the data and the query use."""

from __future__ import annotations

import pytest

from beacon.genome.protein import canonical_protein_change


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("V600E", "V600E"),
        ("Val600Glu", "V600E"),
        ("p.Val600Glu", "V600E"),
        ("p.(Val600Glu)", "V600E"),
        ("Arg534Gln", "R534Q"),
        ("p.Trp24Ter", "W24*"),
        ("W24X", "W24*"),
        ("p.Gly12_Gly13del", "G12_G13del"),
    ],
)
def test_canonical_protein_change(text: str, canonical: str) -> None:
    assert canonical_protein_change(text) == canonical
