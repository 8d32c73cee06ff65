"""ICCC training data as HuggingFace datasets: loaders, the builder, on-the-fly epochs and exports.

``datasets`` is imported only when a function here runs. Every random draw of a build or an
export comes from :mod:`iccc.streams`. :func:`find_builder` and :data:`ROW_COLUMN` are for other
packages of iccc (training, evaluation) that read an on-the-fly build's rows without its images.
"""

from ._builder import build_dataset, concept_base, detect_group_column
from ._epochs import set_epoch
from ._export import (
    DEFAULT_IMAGE_TOKEN,
    read_negclip,
    to_dpo,
    to_negclip,
    to_sugarcrepe,
    write_negclip,
    write_sugarcrepe,
)
from ._inputs import iter_caption_rows, load_captions
from ._preferences import calibrated_pairs, image_scorer
from ._prompts import CAPTION_PROMPTS, CORRECTION_PROMPTS, NO_ERROR_TARGET, TARGET_FORMATS
from ._samples import BUILD_STATUS, OUTPUT_COLUMNS, ROW_COLUMN, TASKS, SampleBuilder, find_builder
from ._sft import SFT_FORMATS, to_sft
from ._summary import BuildSummary, build_summary, format_summary, image_check


def __getattr__(name):
    # OnTheFlyDataset subclasses datasets.Dataset: imported on first use, so that importing
    # iccc.dataset stays free of ``datasets``.
    if name == "OnTheFlyDataset":
        from ._view import OnTheFlyDataset

        return OnTheFlyDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BUILD_STATUS",
    "BuildSummary",
    "CAPTION_PROMPTS",
    "CORRECTION_PROMPTS",
    "DEFAULT_IMAGE_TOKEN",
    "NO_ERROR_TARGET",
    "OUTPUT_COLUMNS",
    "OnTheFlyDataset",
    "ROW_COLUMN",
    "SFT_FORMATS",
    "SampleBuilder",
    "TARGET_FORMATS",
    "TASKS",
    "build_dataset",
    "build_summary",
    "calibrated_pairs",
    "concept_base",
    "detect_group_column",
    "find_builder",
    "format_summary",
    "image_check",
    "image_scorer",
    "iter_caption_rows",
    "load_captions",
    "read_negclip",
    "set_epoch",
    "to_dpo",
    "to_negclip",
    "to_sft",
    "to_sugarcrepe",
    "write_negclip",
    "write_sugarcrepe",
]
