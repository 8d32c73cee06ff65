"""``iccc evaluate --model RUN --data DATA``: score a trained model on an ICCC dataset.

Usage::

    iccc evaluate --model out --data iccc_val2017                     # the split named by the run's eval_split
    iccc evaluate --model out --data built --split test --limit 200 --output metrics.json

Prints correction accuracy (``correction_exact``, ``span_identified``) and the captioning loss
(:func:`iccc.train.evaluate`) with a few shortened examples; ``--output`` also writes every metric
and the examples as JSON. Column names default to those the run was trained with.
"""

from __future__ import annotations

import json
import os

from ._cli_args import default_of, non_negative_int, positive_int, shorten

#: Splits tried, in order, when ``--split`` is not given and the run's ``eval_split`` is not in the data.
DEFAULT_SPLITS = ("validation", "test", "eval")
_COLUMNS = ("image_column", "prompt_column", "target_column", "task_column")


def add_arguments(p) -> None:
    from .train.evaluation import evaluate

    p.add_argument("--model", required=True,
                   help="output folder of `iccc train` (or a merged / plain transformers checkpoint)")
    p.add_argument("--data", required=True, help="dataset to score: a save_to_disk folder (Dataset or "
                   "DatasetDict, e.g. written by `iccc build -o`) or a .jsonl/.json/.parquet/.csv/.tsv file")
    p.add_argument("--split", default=None, help="split of a DatasetDict to score (default: the run's eval "
                   "split, else validation/test/eval, else the only split)")
    p.add_argument("--limit", type=positive_int, default=None,
                   help="score at most N correction rows and N caption rows (default: all)")
    batch_size, max_new_tokens = default_of(evaluate, "batch_size"), default_of(evaluate, "max_new_tokens")
    p.add_argument("--batch-size", type=positive_int, default=batch_size,
                   help=f"rows per generation / loss batch (default {batch_size})")
    p.add_argument("--max-new-tokens", type=positive_int, default=max_new_tokens,
                   help=f"generation length (default {max_new_tokens})")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    p.add_argument("--output", "-o", default=None, help="also write the metrics and examples to this .json file")
    p.add_argument("--embedder", default=None, help="folder of a CLIP/SigLIP-style dual encoder: also caption the "
                   "caption rows and report image-text similarity and retrieval consistency (vision extra)")
    k = default_of(evaluate, "consistency_k")
    p.add_argument("--consistency-k", type=positive_int, default=k,
                   help=f"images each caption retrieves for retrieval consistency (default {k})")
    p.add_argument("--show", type=non_negative_int, default=3, help="correction examples to print (default 3)")


def _run_config(model_dir: str) -> dict:
    """The ``TrainConfig`` fields saved by ``iccc train`` in ``model_dir`` (empty for a plain checkpoint)."""
    from .train.config import CONFIG_FILE

    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def pick_split(data, split, preferred=None):
    """``(dataset, split name or None)``: ``data`` itself when it is one split, else the split asked for,
    else ``preferred`` or the first of :data:`DEFAULT_SPLITS` present, else the only one."""
    import datasets

    if not isinstance(data, datasets.DatasetDict):
        if split is not None:
            raise ValueError(f"`--split` {split!r} given, but the data is a single split (no DatasetDict).")
        return data, None
    names = sorted(data)
    if split is not None:
        if split not in data:
            raise KeyError(f"`--split` {split!r} not in the data. Splits: {', '.join(names)}.")
        return data[split], split
    for name in (preferred, *DEFAULT_SPLITS):
        if name and name in data:
            return data[name], name
    if len(names) == 1:
        return data[names[0]], names[0]
    raise ValueError(f"The data has several splits ({', '.join(names)}) and none is called "
                     f"{'/'.join(DEFAULT_SPLITS)}: choose one with --split.")


def _format(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def run(args) -> int:
    if args.output is not None and not args.output.lower().endswith(".json"):
        raise ValueError(f"`--output` {args.output!r} should name a .json file (the metrics are written as JSON).")
    if args.output is not None and not os.path.isdir(os.path.dirname(os.path.abspath(args.output))):
        raise FileNotFoundError(f"Cannot write {args.output!r}: its folder does not exist.")
    if not os.path.exists(args.data):
        raise FileNotFoundError(f"`--data` {args.data!r} not found (a save_to_disk folder or a data file).")
    if not os.path.isdir(args.model):
        raise FileNotFoundError(f"`--model` {args.model!r} is not a folder (the output folder of `iccc train`).")
    if args.embedder is not None and not os.path.isdir(args.embedder):
        raise FileNotFoundError(f"`--embedder` {args.embedder!r} is not a folder (a dual-encoder checkpoint).")

    from .train import evaluate, load_trained
    from .train.data import load_data

    saved = _run_config(args.model)
    dataset, split = pick_split(load_data(args.data), args.split, saved.get("eval_split"))
    if len(dataset) == 0:
        raise ValueError(f"`--data` {args.data!r}" + (f" split {split!r}" if split else "") + " has no rows.")
    base_dir = args.data if os.path.isdir(args.data) else os.path.dirname(os.path.abspath(args.data))
    columns = {name: saved[name] for name in _COLUMNS if isinstance(saved.get(name), str)}
    model, processor = load_trained(args.model, device=args.device)
    metrics = evaluate(model, dataset, processor=processor, batch_size=args.batch_size,
                       max_new_tokens=args.max_new_tokens, max_samples=args.limit, n_examples=max(args.show, 5),
                       base_dir=base_dir, max_length=saved.get("max_length", default_of(evaluate, "max_length")),
                       embedder=args.embedder, consistency_k=args.consistency_k, **columns)
    where = f"{args.data}" + (f" [{split}]" if split else "")
    print(f"Evaluated {args.model} on {where}: {metrics['n_correction']} correction rows, "
          f"{metrics['n_caption']} caption rows" +
          (f", {metrics['n_skipped']} rows skipped (no usable prompt or target)" if metrics.get("n_skipped") else "")
          + ".")
    shown = {k: v for k, v in metrics.items()
             if k not in ("examples", "caption_examples", "n_correction", "n_caption", "n_skipped")}
    print("Metrics: " + ", ".join(f"{k} {_format(v)}" for k, v in shown.items()))
    for example in metrics["examples"][:args.show]:
        print(f"  {shorten(example['prompt'])}\n    target:     {shorten(example['target'])}\n"
              f"    prediction: {shorten(example['prediction'])}")
    if args.output is not None:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump({"model": args.model, "data": args.data, "split": split, **metrics}, f, indent=2,
                      ensure_ascii=False, default=str)
        print(f"Wrote {args.output}")
    return 0
