"""Caption metrics from a dual encoder: how much of its image a generated caption keeps.

Given the images of caption rows, the captions a model generated for them and the reference
captions, :func:`caption_consistency` embeds all three with an :class:`iccc.vision.Embedder` (a
CLIP/SigLIP-style dual encoder) and reports, each as a mean over rows:

- ``image_text_similarity``: cosine(image, generated caption), a CLIPScore-like figure (without
  CLIPScore's rescaling), and ``reference_image_text_similarity`` the same for the references;
- ``reference_text_similarity``: cosine(generated caption, its reference);
- ``retrieval_qgr`` / ``retrieval_grc`` / ``retrieval_consistency``: the Cross-modal Identity Mapping
  scores of :func:`iccc.vision.retrieval_consistency` — the caption retrieves its ``k`` nearest
  images of the evaluated set (its own image left out), and QGR is how similar they are to the
  caption's image, GRC how similar they are to each other, the last their combination — with
  ``reference_retrieval_*`` the same for the references (the ceiling a model's captions compare to).

Images are deduplicated (several rows of one image embed it once and count as one gallery item):
by ``image_keys`` when given (an image id per row), else by the image's pixels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

#: Retrieved images per caption for the retrieval-consistency scores.
DEFAULT_K = 5


def _pixel_key(image) -> str:
    digest = hashlib.blake2b(image.tobytes(), digest_size=16)
    digest.update(repr((image.size, image.mode)).encode())
    return digest.hexdigest()


def caption_consistency(images: Sequence, generated: Sequence[str], references: Sequence[str], embedder: Any, *,
                        k: int = DEFAULT_K, image_keys: Sequence | None = None, batch_size: int | None = None) -> dict:
    """Dual-encoder metrics of generated captions against their images and references (see the module).

    Args:
        images: one PIL image per row.
        generated: the model's caption of each row (strings; ``None`` counts as ``""``).
        references: the reference caption of each row.
        embedder: an :class:`iccc.vision.Embedder` (``encode_images``, ``encode_texts``).
        k: images each caption retrieves (capped at the number of other images; the retrieval
            scores are ``None`` with fewer than two distinct images).
        image_keys: an image id per row (rows of one image share it); ``None``: by pixels.
        batch_size: passed to the embedder.

    Returns:
        The metrics named in the module docstring, plus ``n_rows``, ``n_images`` and ``k``.
    """
    from ..vision import retrieval_consistency

    n = len(images)
    for name, values in (("generated", generated), ("references", references)):
        if isinstance(values, str) or len(values) != n:
            raise ValueError(f"`{name}` should hold one caption per image ({n}), got "
                             f"{len(values) if not isinstance(values, str) else 'a string'}.")
    if image_keys is not None and (isinstance(image_keys, str) or len(image_keys) != n):
        raise ValueError(f"`image_keys` should hold one image id per image ({n}) or be None.")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"`k` should be a positive int, got {k!r}.")
    for method in ("encode_images", "encode_texts"):
        if not callable(getattr(embedder, method, None)):
            raise TypeError(f"`embedder` should be an iccc.vision.Embedder (with {method}), got "
                            f"{type(embedder).__name__}.")
    if n == 0:
        return {"n_rows": 0, "n_images": 0, "k": None}
    keys = list(image_keys) if image_keys is not None else [_pixel_key(im) for im in images]
    first: dict = {}
    for row, key in enumerate(keys):
        first.setdefault(key, row)
    gallery_keys = list(first)
    gallery = np.asarray(embedder.encode_images([images[first[key]] for key in gallery_keys], batch_size=batch_size),
                         dtype=np.float32)
    position = {key: i for i, key in enumerate(gallery_keys)}
    query = gallery[[position[key] for key in keys]]
    texts = [("" if t is None else str(t)) for t in generated]
    refs = [("" if t is None else str(t)) for t in references]
    vectors = np.asarray(embedder.encode_texts(texts + refs, batch_size=batch_size), dtype=np.float32)
    gen, ref = vectors[:n], vectors[n:]
    out: dict = {
        "image_text_similarity": float(np.mean(np.sum(gen * query, axis=1))),
        "reference_image_text_similarity": float(np.mean(np.sum(ref * query, axis=1))),
        "reference_text_similarity": float(np.mean(np.sum(gen * ref, axis=1))),
    }
    k_used = min(k, len(gallery_keys) - 1)
    gallery_ids = list(range(len(gallery_keys)))
    own = [position[key] for key in keys]
    for prefix, captions, emb in (("", texts, gen), ("reference_", refs, ref)):
        if k_used < 1:
            out.update({f"{prefix}retrieval_{m}": None for m in ("qgr", "grc", "consistency")})
            continue
        scores = retrieval_consistency(captions, query, gallery, emb, k=k_used, gallery_ids=gallery_ids, exclude=own)
        out[f"{prefix}retrieval_qgr"] = float(np.mean(scores["qgr"]))
        out[f"{prefix}retrieval_grc"] = float(np.mean(scores["grc"]))
        out[f"{prefix}retrieval_consistency"] = float(np.mean(scores["combined"]))
    out.update(n_rows=n, n_images=len(gallery_keys), k=k_used if k_used >= 1 else None)
    return out
