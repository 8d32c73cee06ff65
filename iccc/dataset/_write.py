"""Writing a ``datasets.Dataset`` where an ``-o`` name says: the format comes from the suffix.

* a name without a suffix, ending in ``/``, or an existing folder: ``save_to_disk`` (what
  ``iccc train``, ``iccc export`` and ``datasets.load_from_disk`` read; images embedded);
* ``.jsonl`` / ``.jsonl.gz`` (also ``.ndjson``): JSON Lines, one row per line;
* ``.json``: one JSON array of row objects;
* ``.parquet``: Parquet;
* ``.csv`` / ``.tsv`` (optionally ``.gz``): flat text columns only (nested columns are refused).

Any other suffix is refused with the accepted ones, so a name is never silently written in
another format.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

#: Accepted file suffixes per kind (a folder is a name without a suffix).
FILE_SUFFIXES = {
    "jsonl": (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"),
    "json": (".json",),
    "parquet": (".parquet",),
    "csv": (".csv", ".csv.gz"),
    "tsv": (".tsv", ".tsv.gz"),
}
FOLDER = "folder"


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] == ".gz":
        return "".join(suffixes[-2:])
    return suffixes[-1] if suffixes else ""


def describe(kinds) -> str:
    parts = []
    for kind in kinds:
        if kind == FOLDER:
            parts.append("a folder name without a suffix (save_to_disk)")
        else:
            parts.append("/".join(FILE_SUFFIXES[kind]))
    return ", ".join(parts)


def output_kind(path, allowed=(FOLDER, "jsonl", "json", "parquet", "csv", "tsv"), *, what: str = "the output",
                option: str = "-o") -> str:
    """What the name ``path`` asks for (``"folder"``, ``"jsonl"``, ...), or a ``ValueError``
    listing what ``allowed`` accepts.

    >>> output_kind("out"), output_kind("pairs.jsonl.gz")
    ('folder', 'jsonl')
    >>> output_kind("x.json", ("jsonl",))
    Traceback (most recent call last):
    ...
    ValueError: `-o` 'x.json': the output is written as .jsonl/.jsonl.gz/.ndjson/.ndjson.gz; got the suffix '.json'.
    """
    text = os.fspath(path)
    p = Path(text)
    if text.endswith(("/", os.sep)) or p.is_dir():
        kind = FOLDER
    else:
        suffix = _suffix(p)
        if not suffix:
            kind = FOLDER
        else:
            kind = next((k for k, names in FILE_SUFFIXES.items() if suffix in names), None)
            if kind is None or kind not in allowed:
                raise ValueError(f"`{option}` {text!r}: {what} is written as {describe(allowed)}; "
                                 f"got the suffix {suffix!r}.")
    if kind not in allowed:
        raise ValueError(f"`{option}` {text!r}: {what} is written as {describe(allowed)}; a folder is not "
                         "accepted here.")
    return kind


def _nested(features) -> list[str]:
    from datasets import Value

    return [name for name, f in features.items() if not isinstance(f, Value)]


def check_flat(ds, kind: str, path) -> None:
    """CSV/TSV hold flat text columns: refuse nested ones (lists, messages, images) by name."""
    if kind not in ("csv", "tsv"):
        return
    nested = _nested(ds.features)
    if nested:
        raise ValueError(f"`-o` {os.fspath(path)!r}: {kind.upper()} holds flat columns only, but {nested} are nested "
                         f"(lists, messages or images); write .jsonl, .json, .parquet or a folder instead.")


def write_dataset(ds, path, kind: str | None = None, *, num_proc: int | None = None) -> Path:
    """Write ``ds`` as ``kind`` (default: what the name says, see :func:`output_kind`)."""
    kind = kind or output_kind(path)
    path = Path(path)
    check_flat(ds, kind, path)
    if kind == FOLDER:
        ds.save_to_disk(str(path), num_proc=num_proc)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    gz = path.suffix.lower() == ".gz"
    if kind == "parquet":
        ds.to_parquet(str(path))
    elif kind == "jsonl":
        ds.to_json(str(path), lines=True, force_ascii=False, compression="gzip" if gz else None)
    elif kind == "json":
        with open(path, "w", encoding="utf-8") as f:
            f.write("[")
            first = True
            for batch in ds.iter(batch_size=1000):
                names = list(batch)
                for values in zip(*(batch[n] for n in names)):
                    f.write(("\n" if first else ",\n") + json.dumps(dict(zip(names, values)), ensure_ascii=False,
                                                                     default=str))
                    first = False
            f.write("\n]\n")
    else:
        import csv

        opener = gzip.open if gz else open
        with opener(path, "wt", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter="\t" if kind == "tsv" else ",", lineterminator="\n")
            writer.writerow(ds.column_names)
            for batch in ds.iter(batch_size=1000):
                names = list(batch)
                for values in zip(*(batch[n] for n in names)):
                    writer.writerow(["" if v is None else v for v in values])
    return path
