"""Corruption operators: :class:`Replace`, :class:`Swap`, :class:`Add`."""

from ._base import Operator, Options, Slot
from ._record import OPERATIONS, Corruption
from .add import Add
from .replace import Replace
from .swap import Swap

OPERATORS = {"replace": Replace, "swap": Swap, "add": Add}

__all__ = ["OPERATIONS", "OPERATORS", "Add", "Corruption", "Operator", "Options", "Replace", "Slot", "Swap"]
