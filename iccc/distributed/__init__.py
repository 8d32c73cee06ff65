"""``iccc.distributed``: the ICCC build on Ray Data, from a laptop to a cluster (the ``ray`` extra).

The same stages as a local build, each a Ray Data operation, the row work done by the library's
own batch functions inside:

- parse: :func:`add_concepts`, ``map_batches`` over :class:`ParserActor` actors (one spaCy
  pipeline per actor; ``concurrency``; ``num_gpus`` for transformer pipelines), the ``concepts``
  column in the Arrow layout of :func:`iccc.add_concepts`;
- the concept base: :func:`concept_base`, partial bases per block merged on the driver with
  :meth:`iccc.ConceptBase.merge`, balanced on an even sample as locally;
- corruption and samples: :func:`build_samples` / :func:`corrupt`, ``map_batches`` over actors
  that fetch the base once from the object store (``ray.put``);
- sources and sinks: any ``ray.data.Dataset``, :func:`read_captions`, :func:`write_parquet`.

:func:`build_dataset` chains them. A row's draws are keyed by a stable row key
(:mod:`iccc.rowkeys`: an integer id column, else a content key of caption + image id), never by
its place in a block: the rows do not depend on partitioning, and with the row index as the id
they are the rows of :func:`iccc.build_dataset`. Nothing here imports Ray until it is called.

>>> import iccc.distributed
>>> iccc.distributed.MAX_RESTARTS >= 1
True
"""

from ._arrow import concepts_type
from ._base import BALANCE_ROWS, concept_base, merge_bases, partial_base
from ._build import CorruptActor, SampleActor, build_dataset, build_samples, corrupt, detect_group_column
from ._io import from_dataset, read_captions, write_parquet
from ._options import BATCH_SIZE, MAX_RESTARTS, MAX_TASK_RETRIES
from ._parse import ParserActor, add_concepts

__all__ = [
    "BALANCE_ROWS",
    "BATCH_SIZE",
    "CorruptActor",
    "MAX_RESTARTS",
    "MAX_TASK_RETRIES",
    "ParserActor",
    "SampleActor",
    "add_concepts",
    "build_dataset",
    "build_samples",
    "concept_base",
    "concepts_type",
    "corrupt",
    "detect_group_column",
    "from_dataset",
    "merge_bases",
    "partial_base",
    "read_captions",
    "write_parquet",
]
