"""``iccc preferences --model RUN --data DATA -o OUT``: a model's own captions as calibrated DPO pairs.

Usage::

    iccc preferences --model out --data iccc_train -o prefs --embedder clip-dir     # calibrated (alpha 0.9)
    iccc preferences --model out --data images.jsonl -o prefs                      # likelihood only (alpha 0)
    iccc train --objective dpo --model out/merged --data prefs -o out_dpo

For each distinct image of DATA (one per ``image_id`` when the data has that column) the trained
model writes candidate answers to the captioning prompt by sentence-level beam search
(:func:`iccc.train.sample_candidates`); each candidate path is rewarded by its own likelihood
calibrated with an image relevance score (:func:`iccc.vision.calibrated_reward`) and the best and
worst become a TRL DPO row (:func:`iccc.dataset.calibrated_pairs`), saved with ``save_to_disk`` in
the format of ``iccc export dpo``, which ``iccc train --objective dpo --data OUT`` reads.

The image relevance scorer is the dual encoder named by ``--embedder`` (a CLIP/SigLIP-style
checkpoint folder; cosine of image and sentence). **Without** ``--embedder`` there is no image score:
the reward is the likelihood alone (``alpha`` 0), i.e. the model's most likely answer is preferred to
its least likely one, which teaches it nothing about the image; a note says so.
"""

from __future__ import annotations

import os

from ._cli_args import default_of, non_negative_int, positive_int


def add_arguments(p) -> None:
    from .train.candidates import sample_candidates

    p.add_argument("--model", required=True,
                   help="output folder of `iccc train` (or a merged / plain transformers checkpoint) to sample from")
    p.add_argument("--data", required=True, help="images to sample on: a save_to_disk folder (e.g. written by "
                   "`iccc build -o`) or a .jsonl/.json/.parquet/.csv/.tsv file with an image column")
    p.add_argument("-o", "--output", required=True, help="folder to write the DPO pairs to (save_to_disk; must not "
                   "exist yet)")
    p.add_argument("--split", default=None, help="split of a DatasetDict to read (default: train, else the only one)")
    p.add_argument("--image-column", default=None, help="column with the image (default: the run's, else 'image')")
    p.add_argument("--limit", type=positive_int, default=None, help="sample on at most N images (default: all)")
    p.add_argument("--prompt", default=None, help="instruction the candidates answer (default: the prompt of the "
                   "data's caption rows, else 'Write a short caption for this image.')")
    p.add_argument("--embedder", default=None, help="folder of a CLIP/SigLIP-style dual encoder scoring image "
                   "relevance (vision extra); without it the reward is the likelihood alone (alpha 0)")
    p.add_argument("--alpha", type=float, default=None,
                   help="weight of the image score in [0, 1] (default 0.9 with --embedder, 0 without)")
    p.add_argument("--mode", choices=("rank", "score"), default="rank",
                   help="rank: ranks among siblings (CSR's form); score: standardised scores (default rank)")
    for name in ("num_candidates", "beams", "keep_worst", "max_sentences", "max_sentence_tokens", "max_new_tokens"):
        default = default_of(sample_candidates, name)
        kind = non_negative_int if name == "keep_worst" else positive_int
        p.add_argument("--" + name.replace("_", "-"), type=kind, default=default,
                       help=f"beam search: {name.replace('_', ' ')} (default {default})")
    temperature = default_of(sample_candidates, "temperature")
    p.add_argument("--temperature", type=float, default=temperature,
                   help=f"sampling temperature, > 0 (default {temperature})")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the draws (default 0)")
    p.add_argument("--plain", action="store_true", help="plain-string prompts and answers instead of messages")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when available)")


def run(args) -> int:
    if os.path.exists(args.output) and (not os.path.isdir(args.output) or os.listdir(args.output)):
        raise FileExistsError(f"`-o` {args.output!r} already exists; choose a new folder for the pairs.")
    if not os.path.exists(args.data):
        raise FileNotFoundError(f"`--data` {args.data!r} not found (a save_to_disk folder or a data file).")
    if not os.path.isdir(args.model):
        raise FileNotFoundError(f"`--model` {args.model!r} is not a folder (the output folder of `iccc train`).")
    if args.embedder is not None and not os.path.isdir(args.embedder):
        raise FileNotFoundError(f"`--embedder` {args.embedder!r} is not a folder (a dual-encoder checkpoint).")
    alpha = args.alpha if args.alpha is not None else (0.9 if args.embedder else 0.0)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`--alpha` should be in [0, 1], got {alpha!r}.")
    if args.embedder is None and alpha > 0:
        raise ValueError(f"`--alpha` {alpha!r} weighs an image relevance score, which needs --embedder (a dual "
                         "encoder folder); without one only --alpha 0 (likelihood only) is possible.")
    if not args.temperature > 0:
        raise ValueError(f"`--temperature` should be > 0, got {args.temperature!r}.")

    import datasets

    from ._cli_evaluate import _run_config
    from .train import load_trained
    from .train.data import load_data
    from .train.self_reward import default_prompt, distinct_images, make_preferences

    saved = _run_config(args.model)
    data = load_data(args.data)
    if isinstance(data, datasets.DatasetDict):
        names = sorted(data)
        split = args.split or ("train" if "train" in data else names[0] if len(names) == 1 else None)
        if split is None or split not in data:
            raise KeyError(f"`--split` {split!r} not in the data. Splits: {', '.join(names)}."
                           if split else f"The data has several splits ({', '.join(names)}); choose one with --split.")
        data = data[split]
    elif args.split is not None:
        raise ValueError(f"`--split` {args.split!r} given, but the data is a single split (no DatasetDict).")
    image_column = args.image_column or saved.get("image_column") or "image"
    base_dir = args.data if os.path.isdir(args.data) else os.path.dirname(os.path.abspath(args.data))
    images = distinct_images(data, image_column=image_column, limit=args.limit, base_dir=base_dir)
    if not images:
        raise ValueError(f"`--data` {args.data!r} has no images.")
    prompt = args.prompt or default_prompt(data, prompt_column=saved.get("prompt_column", "prompt"),
                                           task_column=saved.get("task_column", "task"))
    if args.embedder is None:
        print("No --embedder: the reward is the model's likelihood alone (alpha 0); the pairs prefer its most "
              "likely answer to its least likely one, without looking at the image.")
    model, processor = load_trained(args.model, device=args.device)
    sampling = {name: getattr(args, name) for name in ("num_candidates", "beams", "keep_worst", "max_sentences",
                                                       "max_sentence_tokens", "max_new_tokens", "temperature")}
    pairs, counts = make_preferences(model, processor, images, prompt=prompt, embedder=args.embedder, alpha=alpha,
                                     mode=args.mode, seed=args.seed, sampling=sampling, conversational=not args.plain)
    margins = [c - r for c, r in zip(pairs["chosen_reward"], pairs["rejected_reward"])]
    pairs = pairs.remove_columns(["chosen_reward", "rejected_reward"])
    pairs.save_to_disk(args.output)
    skipped = {r: n for r, n in counts.items() if r not in ("exported", "images")}
    print(f"Sampled {counts['images']} images with {prompt!r} (alpha {alpha:g}, {args.mode}): {len(pairs)} pairs"
          + (", skipped " + ", ".join(f"{r} {n}" for r, n in sorted(skipped.items())) if skipped else "") + ".")
    if margins:
        print(f"Mean calibrated reward margin (chosen - rejected): {sum(margins) / len(margins):.4f}")
        row = pairs[0]
        from .train.dpo import message_text

        print(f"  chosen:   {message_text(row['chosen'], 'chosen')}\n  rejected: {message_text(row['rejected'], 'rejected')}")
    print(f"Wrote {args.output} (train on it with: iccc train --objective dpo --data {args.output} ...)")
    return 0
