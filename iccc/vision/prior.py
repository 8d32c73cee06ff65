"""Image-conditioned negatives: what the image says is plausible (hard) and what it rules out (truly wrong).

An :class:`ImagePrior` gives the corruption engine two things, both optional and both computed
from embeddings only:

**Scene concepts (hard negatives).** Each image is mapped into the text space (a
:class:`iccc.vision.LinearMap` fitted on the data's image–caption pairs) and its ``k`` nearest
captions *of other images* are retrieved (:class:`iccc.vision.CaptionIndex`); their concepts that
the image's own captions never use are the image's *scene concepts*: things that go with a scene
like this one but are not said of this image ("a fork" for a kitchen table). ``Replace`` and
``Add`` draw a share ``p_scene`` of their candidates' weight from the scene concepts of the row's
image whenever one of them is a legal edit (:meth:`ImagePrior.reweight`; deterministic: no draw is
added, so the row streams stay as they are).

**The image check (truly wrong).** With a text encoder of the same dual encoder as the image
embeddings (an :class:`iccc.vision.Embedder`), a replacement or addition is scored against the
image: a candidate negative whose image–text cosine is not at least ``margin`` below the original
caption's is *possibly true* and dropped. The engine draws ``candidates`` negatives of the
operation it chose (from the row's own stream, so still deterministic per ``(seed, epoch, row)``),
scores them in one batch with the original, and keeps the *hardest* one that passes (the highest
similarity below ``sim(original) - margin``; ties: the first drawn). A row none of whose
candidates passes gets no corruption, with the status ``possibly_true``. Swaps are not checked: a
dual encoder barely sees word order, and a swap of two different concepts is wrong by
construction.

The margin is calibrated on the data (:func:`calibrate_margin`): the ``quantile`` (default 0.95) of
``sim(image, caption a) - sim(image, caption b)`` over pairs of true captions of one image, so that
a true caption would pass the check as a negative of a sibling caption at most 5% of the time.

Similarities are rounded to :data:`SIM_DECIMALS` decimals before they are compared, so that the
tiny float differences of encoding a text in different batches cannot change a row: the data is the
same for any ``num_proc`` and batch size (texts are also padded to one fixed length, see
:class:`iccc.vision.TransformersEmbedder`).

With no prior the engine's output is exactly what it is without ``iccc.vision``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: Operations whose records the image check scores (swaps are wrong by construction).
CHECKED_OPERATIONS = frozenset(("replace", "add"))
#: Kinds whose scene concepts are matched by what they name (:func:`iccc.base.entity_key`).
_NOUN_KINDS = frozenset(("noun", "entity"))
#: Decimals similarities are rounded to before the check compares them.
SIM_DECIMALS = 4
#: Default share of a slot's candidate weight drawn from the image's scene concepts.
DEFAULT_P_SCENE = 0.5
#: Default number of captions of other images whose concepts make an image's scene.
DEFAULT_NEIGHBOURS = 10
#: Default number of candidate negatives the image check ranks per row.
DEFAULT_CANDIDATES = 4
#: Default quantile of sibling-caption similarity gaps the margin is set to.
DEFAULT_QUANTILE = 0.95
#: Status of a row whose every candidate negative the image may support.
STATUS_POSSIBLY_TRUE = "possibly_true"


class ScoreRequest:
    """What a draw asks the engine's runner to score: ``texts`` (the original caption first, then
    the candidate negatives) against the image of ``group`` (see :meth:`ImagePrior.score`)."""

    __slots__ = ("group", "texts")

    def __init__(self, group: Any, texts: tuple[str, ...]):
        self.group = group
        self.texts = texts

    def __repr__(self):
        return f"ScoreRequest(group={self.group!r}, texts={len(self.texts)})"


def scene_key(kind: str, lemma: str) -> str:
    """The key a scene concept is matched by: what a noun or entity names (``"a fork"`` -> ``"fork"``),
    the lemma of any other kind.

    >>> scene_key("entity", "a tennis racket"), scene_key("attribute", "red")
    ('tennis racket', 'red')
    """
    if kind in _NOUN_KINDS:
        from ..base import entity_key

        return entity_key(lemma)
    return lemma


def calibrate_margin(image_emb, text_emb, image_of_text: Sequence, *, quantile: float = DEFAULT_QUANTILE) -> dict:
    """The image-check margin, calibrated on true captions.

    For every image with two or more captions, ``d = sim(image, a) - sim(image, b)`` for every
    ordered pair of its captions (cosine similarities); the margin is the ``quantile`` of ``d``. A
    candidate negative passes the check when ``sim(image, negative) <= sim(image, caption) -
    margin``, so a *true* caption would pass as a negative of a sibling caption with chance about
    ``1 - quantile``.

    Args:
        image_emb: :class:`iccc.vision.Embeddings` of the images (keyed by image id).
        text_emb: :class:`iccc.vision.Embeddings` or an ``(n, d)`` array of the captions.
        image_of_text: the image id of each caption (``None``: no image).
        quantile: in (0, 1).

    Returns:
        ``{"margin", "quantile", "pairs", "images", "median_gap"}`` (``margin`` is ``None`` when no
        image has two captions with vectors).

    >>> from iccc.vision import Embeddings
    >>> images = Embeddings.from_array(np.eye(2, dtype=np.float32), ids=["a", "b"])
    >>> texts = np.array([[1, 0], [0.8, 0.6], [0, 1]], dtype=np.float32)
    >>> round(calibrate_margin(images, texts, ["a", "a", "b"], quantile=0.5)["margin"], 3)
    0.0
    """
    from .embeddings import as_embeddings

    images = as_embeddings(image_emb, name="image_emb", normalize=True)
    texts = as_embeddings(text_emb, name="text_emb", normalize=True)
    if len(image_of_text) != len(texts):
        raise ValueError(f"`image_of_text` has {len(image_of_text)} items but `text_emb` has {len(texts)} rows.")
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not 0.0 < quantile < 1.0:
        raise ValueError(f"`quantile` should be a number in (0, 1), got {quantile!r}.")
    if images.dim != texts.dim:
        raise ValueError(f"`image_emb` has {images.dim} dimensions but `text_emb` {texts.dim}: the check "
                         "compares images and texts of one dual encoder.")
    by_image: dict = {}
    for row, image in enumerate(image_of_text):
        if image is not None and image in images:
            by_image.setdefault(image, []).append(row)
    gaps = []
    used = 0
    for image, rows in by_image.items():
        if len(rows) < 2:
            continue
        used += 1
        sims = texts.vectors[rows] @ images.take([image])[0]
        diff = sims[:, None] - sims[None, :]
        gaps.append(diff[~np.eye(len(rows), dtype=bool)])
    if not gaps:
        return {"margin": None, "quantile": float(quantile), "pairs": 0, "images": 0, "median_gap": None}
    gaps = np.concatenate(gaps)
    return {"margin": float(np.quantile(gaps, quantile)), "quantile": float(quantile), "pairs": int(len(gaps)),
            "images": used, "median_gap": float(np.median(np.abs(gaps)))}


class ImagePrior:
    """The image's say in corruption: scene concepts (hard negatives) and the image check (truly wrong).

    Build one from an embeddings file or set with :meth:`build` (the usual way); the constructor
    takes the parts directly. Give it to :func:`iccc.corrupt` / :class:`iccc.Corruptor`
    (``vision=``), :func:`iccc.dataset.build_dataset` (``vision=``) or ``iccc build --vision
    EMB``; rows are matched to images by their group (image id) value.

    Args:
        images: :class:`iccc.vision.Embeddings` of the images, keyed by image id.
        scene: image id -> kind -> scene keys (:func:`scene_key`); ``None``: no scene concepts.
        encoder: an :class:`iccc.vision.Embedder` of the same dual encoder as ``images`` (its
            ``encode_texts``); ``None``: no image check.
        margin: the check's margin (a float; see :func:`calibrate_margin`); required with ``encoder``.
        candidates: negatives the check ranks per row (>= 1).
        p_scene: share of a slot's candidate weight given to scene concepts, in [0, 1].
        report: how the prior was made (shown by :meth:`describe`).

    >>> from iccc.vision import Embeddings
    >>> prior = ImagePrior(Embeddings.from_array(np.eye(2, dtype=np.float32), ids=[0, 1]),
    ...                    scene={0: {"noun": frozenset({"fork"})}})
    >>> prior.scene_keys(0, "noun"), prior.checks
    (frozenset({'fork'}), False)
    """

    def __init__(self, images, *, scene: Mapping | None = None, encoder: Any = None, margin: float | None = None,
                 candidates: int = DEFAULT_CANDIDATES, p_scene: float = DEFAULT_P_SCENE, report: Mapping | None = None):
        from .embeddings import as_embeddings

        self.images = as_embeddings(images, name="images", normalize=True)
        if scene is not None and not isinstance(scene, Mapping):
            raise TypeError(f"`scene` should be a mapping image id -> kind -> keys, or None, got {type(scene).__name__}.")
        self.scene = {g: {k: frozenset(v) for k, v in kinds.items()} for g, kinds in (scene or {}).items()}
        if isinstance(candidates, bool) or not isinstance(candidates, (int, np.integer)) or candidates < 1:
            raise ValueError(f"`candidates` should be a positive int, got {candidates!r}.")
        self.candidates = int(candidates)
        if isinstance(p_scene, bool) or not isinstance(p_scene, (int, float)) or not 0.0 <= p_scene <= 1.0:
            raise ValueError(f"`p_scene` should be a probability in [0, 1], got {p_scene!r}.")
        self.p_scene = float(p_scene)
        if encoder is not None:
            for method in ("encode_texts",):
                if not callable(getattr(encoder, method, None)):
                    raise TypeError(f"`encoder` should be an iccc.vision.Embedder (with {method}), got "
                                    f"{type(encoder).__name__}.")
            if margin is None:
                raise ValueError("`margin` is needed with `encoder`: pass a float or build the prior with "
                                 "ImagePrior.build(..., margin='auto') to calibrate it on the data.")
            dim = getattr(encoder, "dim", None)
            if dim is not None and int(dim) != self.images.dim:
                raise ValueError(f"`encoder` gives {dim}-dimensional vectors but `images` has {self.images.dim}: "
                                 "the check needs the text encoder of the dual encoder that embedded the images.")
        if margin is not None and (isinstance(margin, bool) or not isinstance(margin, (int, float))
                                   or not math.isfinite(margin)):
            raise ValueError(f"`margin` should be a finite number or None, got {margin!r}.")
        self.encoder = encoder
        self.margin = None if margin is None else float(margin)
        self.report = dict(report or {})
        self._texts: dict[str, np.ndarray] = {}  # text -> its unit vector (the encoder's, cached)
        self._pool_keys: dict[int, tuple] = {}  # id(pool) -> (pool, kind, key -> positions)

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def build(cls, embeddings, *, encoder: Any = None, parsed: Sequence | None = None, neighbours: int = DEFAULT_NEIGHBOURS,
              p_scene: float = DEFAULT_P_SCENE, candidates: int = DEFAULT_CANDIDATES, margin: float | str | None = "auto",
              quantile: float = DEFAULT_QUANTILE, map: Any = "auto", nlp: Any = None, backend: str = "auto") -> ImagePrior:
        """A prior from an :class:`iccc.vision.EmbeddingSet` (what ``iccc embed`` writes; a path is loaded).

        The scene concepts need the set's caption texts, their vectors and image ids: a linear
        image→text map is fitted on those pairs (``map="auto"``; a :class:`LinearMap` to use one
        of your own; ``None``: images are searched as they are, in a shared dual-encoder space),
        every image retrieves its ``neighbours`` nearest captions of other images, and their
        concepts (``parsed``: the captions' :class:`iccc.ParsedCaption` in order, else they are
        parsed with ``nlp``) minus those of the image's own captions are its scene.

        The image check needs ``encoder``; ``margin="auto"`` calibrates it on the set's captions
        (:func:`calibrate_margin` with ``quantile``), a float sets it, ``None`` turns the check off.
        """
        from .embeddings import EmbeddingSet, load_embeddings

        if not isinstance(embeddings, EmbeddingSet):
            if isinstance(embeddings, (str, bytes)) or hasattr(embeddings, "__fspath__"):
                embeddings = load_embeddings(embeddings)
            else:
                raise TypeError(f"`embeddings` should be an iccc.vision.EmbeddingSet or a path to one, got "
                                f"{type(embeddings).__name__}: {embeddings!r:.80}.")
        if embeddings.images is None:
            raise ValueError("`embeddings` has no image vectors: an image prior needs them (iccc embed without --no-images).")
        if isinstance(neighbours, bool) or not isinstance(neighbours, (int, np.integer)) or neighbours < 1:
            raise ValueError(f"`neighbours` should be a positive int, got {neighbours!r}.")
        report: dict = {"images": len(embeddings.images), "model": embeddings.model}
        scene = None
        has_texts = embeddings.texts is not None and embeddings.captions is not None and embeddings.image_of_text is not None
        if has_texts and p_scene > 0:
            scene, found = _scene_concepts(embeddings, parsed=parsed, neighbours=int(neighbours), map=map, nlp=nlp,
                                           backend=backend)
            report.update(found)
        elif p_scene > 0:
            report["scene"] = "off: the embeddings have no caption texts, vectors and image ids"
        if margin == "auto":
            margin = None
            if encoder is not None:
                if has_texts:
                    calibration = calibrate_margin(embeddings.images, embeddings.texts, embeddings.image_of_text,
                                                   quantile=quantile)
                    report["calibration"] = calibration
                    margin = calibration["margin"]
                if margin is None:
                    raise ValueError("`margin='auto'` needs images with two or more captions in `embeddings` to "
                                     "calibrate on; pass a float margin instead.")
        elif isinstance(margin, str):
            raise ValueError(f"`margin` should be 'auto', a float or None, got {margin!r}.")
        if margin is None:
            encoder = None
        report["margin"] = margin
        return cls(embeddings.images, scene=scene, encoder=encoder, margin=margin, candidates=candidates,
                   p_scene=p_scene, report=report)

    # -- what the engine asks ---------------------------------------------------------------
    @property
    def checks(self) -> bool:
        """Whether the image check is on (an encoder and a margin)."""
        return self.encoder is not None and self.margin is not None

    def has_image(self, group: Any) -> bool:
        """Whether ``group`` (a row's image id) has an image vector."""
        if group is None:
            return False
        try:
            return group in self.images
        except TypeError:
            return False

    def scene_keys(self, group: Any, kind: str) -> frozenset:
        """The scene keys of ``kind`` for the image ``group`` (empty when it has none)."""
        kinds = self.scene.get(group) if group is not None else None
        return kinds.get(kind, frozenset()) if kinds else frozenset()

    def reweight(self, pool, w: np.ndarray, cumulative: np.ndarray, kind: str, group: Any):
        """``(w, cumulative)`` of a slot's candidates with ``p_scene`` of the weight moved onto the
        image's scene concepts (unchanged when it has none among the candidates, or ``p_scene`` is 0).

        The scene candidates keep their relative weights, as do the others:
        ``w' = (1 - p) w / sum(w) + p (w * scene) / sum(w * scene)``.
        """
        if self.p_scene <= 0.0 or group is None:
            return w, cumulative
        keys = self.scene_keys(group, kind)
        if not keys:
            return w, cumulative
        by_key = self._keys_of(pool, kind)
        positions = [p for key in keys for p in by_key.get(key, ())]
        if not positions:
            return w, cumulative
        scene_mass = float(w[positions].sum())
        total = float(cumulative[-1]) if cumulative is not None and len(cumulative) else float(w.sum())
        if not scene_mass > 0.0 or not total > 0.0:
            return w, cumulative
        out = w * ((1.0 - self.p_scene) / total)
        out[positions] += w[positions] * (self.p_scene / scene_mass)
        return out, np.cumsum(out)

    def _keys_of(self, pool, kind: str) -> dict:
        found = self._pool_keys.get(id(pool))
        if found is None or found[0] is not pool or found[1] != kind:
            by_key: dict = {}
            for position, lemma in enumerate(pool.lemmas):
                by_key.setdefault(scene_key(kind, lemma), []).append(position)
            if len(self._pool_keys) > 256:
                self._pool_keys.clear()
            found = self._pool_keys[id(pool)] = (pool, kind, by_key)
        return found[2]

    def score(self, requests: Sequence[ScoreRequest]) -> list[np.ndarray]:
        """The rounded cosine similarity of each request's texts to its image (one array per
        request); every text not seen before is encoded in one batch."""
        new = list(dict.fromkeys(t for r in requests for t in r.texts if t not in self._texts))
        if new:
            vectors = np.asarray(self.encoder.encode_texts(new), dtype=np.float32)
            if vectors.shape != (len(new), self.images.dim):
                raise ValueError(f"The encoder returned an array of shape {vectors.shape} for {len(new)} texts; "
                                 f"expected ({len(new)}, {self.images.dim}).")
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.where(norms > 0, norms, 1.0)
            if len(self._texts) + len(new) > 200_000:
                self._texts.clear()
            self._texts.update(zip(new, vectors))
        out = []
        for r in requests:
            image = self.images.take([r.group])[0]
            sims = np.stack([self._texts[t] for t in r.texts]) @ image
            out.append(np.round(sims.astype(np.float64), SIM_DECIMALS))
        return out

    def choose(self, sims: np.ndarray) -> int | None:
        """Which candidate the check keeps: ``sims`` holds the original's similarity first, then the
        candidates'; the position (0-based among the candidates) of the highest similarity at most
        ``sims[0] - margin`` (the first of equals), or ``None`` when the image may support them all."""
        limit = round(float(sims[0]) - self.margin, SIM_DECIMALS)
        best, best_sim = None, -math.inf
        for k, s in enumerate(sims[1:]):
            if s <= limit and s > best_sim:
                best, best_sim = k, s
        return best

    # -- pickling (a map with num_proc sends the prior to its workers) ------------------------
    def __getstate__(self):
        state = dict(self.__dict__)
        state["_texts"] = {}
        state["_pool_keys"] = {}
        return state

    def describe(self) -> dict:
        """How the prior was made and what it does (JSON-able)."""
        return {"images": len(self.images), "scene_images": len(self.scene), "p_scene": self.p_scene,
                "check": self.checks, "margin": self.margin, "candidates": self.candidates, **{
                    k: v for k, v in self.report.items() if k not in ("images", "margin")}}

    def __repr__(self):
        check = f"margin={self.margin:.4f}" if self.checks else "off"
        return (f"ImagePrior(images={len(self.images)}, scene={len(self.scene)}, p_scene={self.p_scene}, "
                f"check={check}, candidates={self.candidates})")


def _scene_concepts(embeddings, *, parsed, neighbours: int, map, nlp, backend: str) -> tuple[dict, dict]:
    """image id -> kind -> scene keys, and a report of how they were found."""
    from .index import CaptionIndex
    from .linear_map import LinearMap, paired

    captions = list(embeddings.captions)
    image_of_text = list(embeddings.image_of_text)
    if parsed is None:
        from ..parsing import parse

        parsed = parse([c if isinstance(c, str) else "" for c in captions], nlp=nlp)
    elif len(parsed) != len(captions):
        raise ValueError(f"`parsed` has {len(parsed)} captions but the embeddings have {len(captions)}.")
    keys = [frozenset((c.kind, scene_key(c.kind, c.lemma)) for c in p.concepts) if p is not None else frozenset()
            for p in parsed]
    if isinstance(map, str) and map == "auto":
        x, y = paired(embeddings.images, embeddings.texts, image_of_text)
        map = LinearMap.fit(x, y, method="lstsq" if len(x) > 2 * x.shape[1] else "ridge",
                            ridge=0.0 if len(x) > 2 * x.shape[1] else 1.0)
    images = embeddings.images
    query = images.vectors if map is None else map.transform(images.vectors)
    index = CaptionIndex(embeddings.texts.vectors, groups=image_of_text, backend=backend)
    _, positions = index.search(query, neighbours, exclude=list(images.ids))
    own: dict = {}
    for row, image in enumerate(image_of_text):
        if image is not None:
            own.setdefault(image, set()).update(keys[row])
    scene: dict = {}
    sizes = []
    for image, found in zip(images.ids, positions):
        mine = own.get(image, set())
        kinds: dict = {}
        for position in found:
            if position < 0:
                continue
            for kind, key in keys[position]:
                if (kind, key) not in mine:
                    kinds.setdefault(kind, set()).add(key)
        if kinds:
            scene[image] = {k: frozenset(v) for k, v in kinds.items()}
            sizes.append(sum(len(v) for v in kinds.values()))
    report = {"neighbours": neighbours, "map": None if map is None else getattr(map, "method", type(map).__name__),
              "index_backend": index.backend, "scene_images": len(scene),
              "mean_scene_concepts": float(np.mean(sizes)) if sizes else 0.0}
    return scene, report
