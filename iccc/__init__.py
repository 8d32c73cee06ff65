"""iccc: Image-Conditioned Caption Correction data for vision-language models.

Parse captions into typed concepts, corrupt them into truly-wrong, grammatical negatives, and
build correction + captioning training data (Learning by Correction, CVPR 2024, arXiv 2404.00909).

``import iccc`` is light: spaCy is imported on first parse, ``datasets`` when a dataset
function runs, torch/transformers only in ``iccc.train``.
"""

from ._schema import KINDS, STATUSES, Concept, ParsedCaption
from ._version import __version__ as __version__
from .base import ConceptBase
from .corrupt import Corruptor, corrupt
from .dataset import build_dataset, build_summary, load_captions, set_epoch
from .operators import Add, Corruption, Replace, Swap
from .parsing import (
    ConceptParser,
    ParserNotFoundError,
    add_concepts,
    extract,
    iter_parse,
    load_parser,
    parse,
)
from .samples import sample_captions

__all__ = [
    "Add",
    "Concept",
    "ConceptBase",
    "ConceptParser",
    "Corruption",
    "Corruptor",
    "KINDS",
    "ParsedCaption",
    "ParserNotFoundError",
    "Replace",
    "STATUSES",
    "Swap",
    "add_concepts",
    "build_dataset",
    "build_summary",
    "corrupt",
    "extract",
    "iter_parse",
    "load_captions",
    "load_parser",
    "parse",
    "sample_captions",
    "set_epoch",
]
