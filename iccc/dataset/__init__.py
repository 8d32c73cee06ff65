"""ICCC training data as HuggingFace datasets: loaders, the builder, on-the-fly epochs and exports.

``datasets`` is imported only when a function here runs.
"""

from ._builder import build_dataset, concept_base
from ._epochs import set_epoch
from ._export import read_negclip, to_dpo, to_negclip, to_sugarcrepe, write_negclip, write_sugarcrepe
from ._inputs import iter_caption_rows, load_captions
from ._prompts import CAPTION_PROMPTS, CORRECTION_PROMPTS, NO_ERROR_TARGET, TARGET_FORMATS
from ._samples import BUILD_STATUS, TASKS, SampleBuilder
from ._summary import build_summary, format_summary

__all__ = [
    "BUILD_STATUS",
    "CAPTION_PROMPTS",
    "CORRECTION_PROMPTS",
    "NO_ERROR_TARGET",
    "SampleBuilder",
    "TARGET_FORMATS",
    "TASKS",
    "build_dataset",
    "build_summary",
    "concept_base",
    "format_summary",
    "iter_caption_rows",
    "load_captions",
    "read_negclip",
    "set_epoch",
    "to_dpo",
    "to_negclip",
    "to_sugarcrepe",
    "write_negclip",
    "write_sugarcrepe",
]
