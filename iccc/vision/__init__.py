"""Bringing the image into data construction through embeddings (``pip install "iccc[vision]"``).

numpy at the core; torch and transformers are imported only where a model is loaded.

- Embeddings in (:mod:`iccc.vision.embeddings`): arrays, dataset columns or ``.npy``/``.npz``/parquet
  files keyed by image id or caption row, validated (:func:`as_embeddings`, :func:`load_embeddings`).
- Embeddings computed (:mod:`iccc.vision.embedder`): the :class:`Embedder` protocol and
  :class:`TransformersEmbedder` for any CLIP/SigLIP-style dual encoder; :func:`embed_dataset`
  (``iccc embed``).
- A closed-form image→text map and caption retrieval (:mod:`iccc.vision.linear_map`,
  :mod:`iccc.vision.index`): :class:`LinearMap`, :class:`CaptionIndex` (faiss when installed),
  :func:`retrieve_captions`, :func:`retrieval_metrics`.
- Retrieval-consistency scores (:mod:`iccc.vision.consistency`): :func:`retrieval_consistency`.
- Image-conditioned negatives (:mod:`iccc.vision.prior`): :class:`ImagePrior`, given to
  :func:`iccc.corrupt` / :func:`iccc.dataset.build_dataset` (``vision=``) or ``iccc build --vision``.
"""

from __future__ import annotations

import importlib

#: Public name -> the module defining it (imported on first use: ``import iccc.vision`` stays cheap).
_EXPORTS = {
    "Embeddings": "embeddings",
    "EmbeddingSet": "embeddings",
    "as_embeddings": "embeddings",
    "load_embeddings": "embeddings",
    "save_embeddings": "embeddings",
    "Embedder": "embedder",
    "TransformersEmbedder": "embedder",
    "embed_dataset": "embedder",
    "LinearMap": "linear_map",
    "paired": "linear_map",
    "CaptionIndex": "index",
    "retrieve_captions": "index",
    "retrieval_metrics": "metrics",
    "image_to_caption_metrics": "metrics",
    "retrieval_consistency": "consistency",
    "ImagePrior": "prior",
    "calibrate_margin": "prior",
    "calibrated_reward": "reward",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'iccc.vision' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
