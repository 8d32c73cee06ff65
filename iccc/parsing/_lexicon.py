"""The old, private name of :mod:`iccc.parsing.lexicon`, kept while importers switch to that one."""

from .lexicon import *  # noqa: F403
from .lexicon import __all__ as __all__
