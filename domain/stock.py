"""The stock ledger's rules: what each kind of movement does to a product's on-hand and
reserved units, and what a stock count changes.

Every unit a product has on hand came in by a movement (``opening`` stock of a new product, a
``receipt``, what production made) and left by one; so on hand and reserved can always be
recomputed from the movements alone, which is what the ledger check does.
"""

from __future__ import annotations

from enum import StrEnum


class MovementKind(StrEnum):
    OPENING = "opening"  # the on-hand a product was created with
    RECEIPT = "receipt"  # goods received (a delivery note, a purchase order)
    COUNT_GAIN = "count_gain"  # a stock count found more than the books
    COUNT_LOSS = "count_loss"  # a stock count found fewer than the books
    RESERVE = "reserve"  # held for an order
    RELEASE = "release"  # an order's hold given back
    PRODUCE = "produce"  # made by a work order
    SHIP = "ship"  # dispatched with an order


# (change of on hand, change of reserved) per unit moved; quantities are always positive.
EFFECTS: dict[MovementKind, tuple[int, int]] = {
    MovementKind.OPENING: (1, 0),
    MovementKind.RECEIPT: (1, 0),
    MovementKind.COUNT_GAIN: (1, 0),
    MovementKind.COUNT_LOSS: (-1, 0),
    MovementKind.RESERVE: (0, 1),
    MovementKind.RELEASE: (0, -1),
    MovementKind.PRODUCE: (1, 0),
    MovementKind.SHIP: (-1, -1),
}

MOVEMENT_KINDS: tuple[str, ...] = tuple(kind.value for kind in MovementKind)


def count_movement(on_hand: int, counted: int) -> tuple[MovementKind, int] | None:
    """The movement that brings the books to a count: a gain or a loss of the difference, or
    nothing when the count agrees with them."""
    if counted > on_hand:
        return MovementKind.COUNT_GAIN, counted - on_hand
    if counted < on_hand:
        return MovementKind.COUNT_LOSS, on_hand - counted
    return None
