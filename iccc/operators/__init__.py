"""Corruption operators: :class:`Replace`, :class:`Swap`, :class:`Add`, :class:`Number`,
:class:`Existence`, and the machinery they share.

:data:`OPERATORS` is the registry :class:`iccc.Corruptor` builds from, in its fallback order:
name -> operator class. Each class declares what it takes (:attr:`Operator.settings`) and
whether it draws from the concept base (:attr:`Operator.needs_base`).
"""

from ._base import PER_CAPTION_LIMIT, Operator, Options, Prepared, Slot, as_index, run
from ._directions import DIRECTIONS_TABLE
from ._directions import count as count_directions
from ._directions import tables as direction_tables
from ._index import CandidateIndex, Pool
from ._record import Corruption
from ._weights import WeightRequest, candidate_weights, compute_weights
from .add import Add
from .existence import Existence
from .number import Number
from .replace import Replace
from .swap import Swap

OPERATORS: dict[str, type[Operator]] = {cls.name: cls for cls in (Replace, Swap, Add, Number, Existence)}
#: The operation names, in fallback order.
OPERATIONS = tuple(OPERATORS)

__all__ = [
    "DIRECTIONS_TABLE", "OPERATIONS", "OPERATORS", "PER_CAPTION_LIMIT", "Add", "CandidateIndex", "Corruption", "Existence",
    "Number", "Operator", "Options", "Pool", "Prepared", "Replace", "Slot", "Swap", "WeightRequest", "as_index",
    "candidate_weights", "compute_weights", "count_directions", "direction_tables", "run",
]
