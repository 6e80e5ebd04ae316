"""Range filters and sorting on NUMERIC and DATETIME fields, checked against plain Python."""

from __future__ import annotations

from vnsearch import ID, NUMERIC, TEXT, Index, Schema


def test_float_fields_can_be_written_and_filtered():
    # Whoosh's default for a float column (NaN) cannot be packed: writing a float failed
    ix = Index.in_memory(
        Schema(
            id=ID(stored=True, unique=True),
            body=TEXT(),
            price=NUMERIC(numtype="float", stored=True),
        )
    )
    with ix.writer() as w:
        w.add({"id": "a", "body": "phở bò", "price": 1.5})
        w.add({"id": "b", "body": "phở gà", "price": -2.0})
        w.add({"id": "c", "body": "phở"})
    assert [h.id for h in ix.search("phở", filter={"price": -2.0})] == ["b"]
    assert ix.search("phở", filter={"price": 1.5})[0].fields["price"] == 1.5
