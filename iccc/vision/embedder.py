"""Computing embeddings: a dual encoder turns images and captions into unit vectors of one space.

:class:`Embedder` is the contract the rest of :mod:`iccc.vision` relies on (the image prior's check
calls :meth:`Embedder.encode_texts`); :class:`TransformersEmbedder` fulfils it for any CLIP- or
SigLIP-style checkpoint that ``transformers`` loads with ``AutoModel`` and ``AutoProcessor`` (a
local folder or a hub name), and :func:`embed_dataset` runs one over a caption dataset and returns
the :class:`iccc.vision.EmbeddingSet` that ``iccc embed`` saves and ``iccc build --vision`` reads.

Two choices keep the vectors reproducible:

- **Texts are padded to one fixed length** (``max_length``; truncation on), so a caption's vector
  does not depend on the other captions of its batch: the same text gives the same vector alone,
  in any batch, in any worker process.
- **Images are decoded lazily**, one batch at a time, by :func:`load_image`; a missing file or
  corrupt bytes is a *status* in :func:`embed_dataset` (the image gets no vector) and an error
  naming the position in :meth:`TransformersEmbedder.encode_images`.

Only numpy and PIL are imported at module level; torch and transformers when a model is loaded.
"""

from __future__ import annotations

import inspect
import io
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

#: Statuses of :func:`load_image`: decoded, no image at all (no file, ``None``), or bytes/a file PIL cannot decode.
IMAGE_STATUSES = ("ok", "missing", "unreadable")
#: ``dtype`` values of :class:`TransformersEmbedder`.
DTYPES = ("float32", "float16", "bfloat16", "auto")
#: The longest default text length (CLIP's 77 positions): texts are padded to
#: ``min(max_position_embeddings, tokenizer.model_max_length, DEFAULT_MAX_LENGTH)`` unless ``max_length`` is given.
DEFAULT_MAX_LENGTH = 77
#: Default number of images or texts per forward pass.
DEFAULT_BATCH_SIZE = 32


# ---------------------------------------------------------------------------- the contract
@runtime_checkable
class Embedder(Protocol):
    """What :mod:`iccc.vision` needs of a dual encoder.

    Attributes:
        name: the model's name or path (recorded in the :class:`iccc.vision.EmbeddingSet` it makes).
        dim: the size of the vectors.

    Both methods return a float32 array of shape ``(n, dim)`` whose rows are L2-normalised (unit
    length), and ``(0, dim)`` for an empty input. The contract:

    - row ``i`` is the vector of input ``i``;
    - deterministic: the same input gives the same vector on every call;
    - batch-independent: the same text (or image) gives the same vector whichever batch it is in
      and whatever ``batch_size`` is (up to float rounding, well under 1e-5).
    """

    name: str
    dim: int

    def encode_images(self, images: Sequence, *, batch_size: int | None = None, progress: bool = False) -> np.ndarray:
        """The unit vectors of ``images`` (PIL images, paths, bytes or ``{"bytes", "path"}`` dicts)."""
        ...

    def encode_texts(self, texts: Sequence[str], *, batch_size: int | None = None,
                     progress: bool = False) -> np.ndarray:
        """The unit vectors of ``texts`` (strings)."""
        ...


# ---------------------------------------------------------------------------- images in
def load_image(x: Any) -> tuple[Any, str]:
    """Decode one image for an encoder: ``(PIL image in RGB, "ok")``, or ``(None, status)``.

    Accepted: a PIL image; a path (``str`` or ``os.PathLike``; ``~`` expanded); ``bytes`` of an
    encoded image (PNG, JPEG, ...); a ``datasets.Image(decode=False)`` value ``{"bytes": ..., "path":
    ...}`` (the bytes when present, else the path); a ``(H, W)``/``(H, W, 3|4)`` uint8 numpy array.

    Statuses (:data:`IMAGE_STATUSES`): ``"missing"`` when there is no image (``None``, an empty
    path, a path with no file, a dict with neither bytes nor path); ``"unreadable"`` when there is
    data PIL cannot decode (corrupt or empty bytes, a file that is no image, a folder).

    Raises:
        TypeError: ``x`` is of none of the accepted types.

    >>> load_image(None)
    (None, 'missing')
    >>> load_image(b"not an image")
    (None, 'unreadable')
    >>> from PIL import Image
    >>> image, status = load_image(Image.new("L", (4, 4)))
    >>> image.mode, status
    ('RGB', 'ok')
    """
    from PIL import Image

    if x is None:
        return None, "missing"
    if isinstance(x, Image.Image):
        return _to_rgb(x)
    if isinstance(x, Mapping):
        data, path = x.get("bytes"), x.get("path")
        if data is not None:
            return load_image(bytes(data))
        return load_image(path)
    if isinstance(x, (bytes, bytearray, memoryview)):
        if len(x) == 0:
            return None, "unreadable"
        try:
            return _to_rgb(Image.open(io.BytesIO(bytes(x))))
        except Exception:  # PIL raises UnidentifiedImageError, OSError, ValueError, SyntaxError, ...
            return None, "unreadable"
    if isinstance(x, (str, os.PathLike)):
        text = os.fspath(x)
        if not text:
            return None, "missing"
        path = Path(text).expanduser()
        if not path.exists():
            return None, "missing"
        try:
            with Image.open(path) as opened:
                return _to_rgb(opened)
        except Exception:
            return None, "unreadable"
    if isinstance(x, np.ndarray):
        if x.dtype != np.uint8 or not (x.ndim == 2 or (x.ndim == 3 and x.shape[2] in (3, 4))):
            raise TypeError(f"An image array should be uint8 of shape (H, W) or (H, W, 3|4), got dtype {x.dtype} "
                            f"and shape {x.shape}.")
        return _to_rgb(Image.fromarray(x))
    raise TypeError(f"An image should be a PIL image, a path (str or os.PathLike), bytes, a dict with 'bytes'/'path' "
                    f"(a datasets.Image value) or a uint8 array, got {type(x).__name__}: {x!r:.80}.")


def _to_rgb(image) -> tuple[Any, str]:
    try:
        rgb = image.convert("RGB")  # also forces the (lazy) decode: truncated data fails here
        rgb.load()
    except Exception:
        return None, "unreadable"
    return rgb, "ok"


def _describe(x: Any) -> str:
    if isinstance(x, Mapping):
        return f"an image dict with path {x.get('path')!r}" + (" and bytes" if x.get("bytes") is not None else "")
    if isinstance(x, (bytes, bytearray, memoryview)):
        return f"{len(x)} bytes"
    if isinstance(x, (str, os.PathLike)):
        return f"path {os.fspath(x)!r}"
    return type(x).__name__


# ---------------------------------------------------------------------------- argument checks
def _check_batch_size(value: Any, name: str = "batch_size") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` should be a positive int, got {value!r}.")
    return int(value)


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` should be True or False, got {value!r}.")
    return bool(value)


def _check_sequence(items: Any, name: str, what: str) -> list:
    if isinstance(items, (str, bytes)) or not isinstance(items, (Sequence, np.ndarray)) or (
            isinstance(items, np.ndarray) and items.ndim != 1):
        hint = f" (for one {what}, pass a list of one)" if isinstance(items, (str, bytes)) else ""
        raise TypeError(f"`{name}` should be a list of {what}s, got {type(items).__name__}: {items!r:.80}{hint}.")
    return list(items)


def check_texts(texts: Any, name: str = "texts") -> list[str]:
    """``texts`` as a list of ``str``; a TypeError names the first item that is not one.

    >>> check_texts(("a dog", "a cat"))
    ['a dog', 'a cat']
    """
    texts = _check_sequence(texts, name, "string")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"`{name}` should hold strings, but item {i} is {type(text).__name__}: {text!r:.80}.")
    return texts


def _resolve_device(device: Any) -> str:
    import torch

    if not isinstance(device, str) or not device:
        raise TypeError(f"`device` should be a string such as 'auto', 'cpu', 'cuda', 'cuda:0' or 'mps', got "
                        f"{device!r}.")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"`device` should be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}.") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`device` is {device!r} but CUDA is not available here; use device='cpu' (or 'auto').")
    if parsed.type == "cuda" and parsed.index is not None and parsed.index >= torch.cuda.device_count():
        raise ValueError(f"`device` is {device!r} but only {torch.cuda.device_count()} CUDA device(s) are visible.")
    if parsed.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"`device` is {device!r} but MPS is not available here; use device='cpu' (or 'auto').")
    if parsed.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"`device` should be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}.")
    return str(parsed)


def _check_dtype(dtype: Any) -> str:
    if dtype not in DTYPES:
        raise ValueError(f"`dtype` should be one of {', '.join(map(repr, DTYPES))}, got {dtype!r}.")
    return dtype


def _resolve_dtype(dtype: str, device: str):
    import torch

    if dtype == "auto":
        dtype = "float16" if device.startswith("cuda") else "float32"
    if dtype == "float16" and device == "cpu":
        raise ValueError("`dtype` 'float16' is not supported on the CPU (slow or missing kernels); use 'bfloat16' "
                         "for half precision on the CPU, 'float32', or a CUDA device.")
    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype]


def _is_local(model: Any) -> bool:
    """Whether the str/PathLike ``model`` names a local folder (else a hub name); a path-looking name
    with no folder is refused here, so the user is not sent to the hub with a typo'd path."""
    text = os.fspath(model)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ValueError(f"`model` {text!r} is a file; pass the checkpoint folder (with config.json) or a hub name.")
        return True
    looks_like_path = (not isinstance(model, str) or text.startswith((".", "~", os.sep, "/"))
                       or text.count("/") > 1 or "\\" in text)
    if looks_like_path:
        raise FileNotFoundError(f"`model` {text!r}: no such folder (pass a local checkpoint folder or a hub name "
                                "such as 'openai/clip-vit-base-patch32').")
    return False


def _features(output: Any, what: str):
    """The ``(n, dim)`` tensor of a ``get_*_features`` call: a tensor (transformers 4) or a model
    output whose ``pooler_output`` holds the projected features (transformers 5)."""
    import torch

    if isinstance(output, torch.Tensor):
        tensor = output
    else:
        tensor = None
        for key in ("image_embeds", "text_embeds", "pooler_output"):
            value = output.get(key) if isinstance(output, Mapping) else getattr(output, key, None)
            if isinstance(value, torch.Tensor):
                tensor = value
                break
        if tensor is None and isinstance(output, (tuple, list)) and len(output) > 1:
            tensor = output[1]  # (last_hidden_state, pooler_output, ...)
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"The model's {what} returned {type(output).__name__}, which holds no feature tensor "
                            "(expected a tensor or an output with pooler_output).")
    if tensor.ndim != 2:
        raise ValueError(f"The model's {what} returned features of shape {tuple(tensor.shape)}; expected (n, dim).")
    return tensor


def _accepted(function, inputs: Mapping) -> dict:
    """The entries of ``inputs`` that ``function`` takes as parameters (all of them when it takes ``**kwargs``
    without naming them, i.e. when its signature cannot tell)."""
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return dict(inputs)
    named = {n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    return {k: v for k, v in inputs.items() if k in named}


def _l2_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1)).astype(np.float32, copy=False)


# ---------------------------------------------------------------------------- the transformers embedder
class TransformersEmbedder:
    """An :class:`Embedder` for a CLIP/SigLIP-style dual encoder of ``transformers``: images through
    ``model.get_image_features``, texts through ``model.get_text_features``.

    Args:
        model: a local checkpoint folder or a hub name (``str`` or ``os.PathLike``; loaded with
            ``AutoModel.from_pretrained``), or a loaded ``PreTrainedModel`` (then ``processor`` is required).
        processor: the processor (tokenizer + image processor); ``None``: ``AutoProcessor.from_pretrained(model)``;
            a path or hub name is loaded the same way.
        device: ``"auto"`` (CUDA when available, else the CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
        dtype: the model's float type: ``"float32"`` (default), ``"float16"``, ``"bfloat16"``, or
            ``"auto"`` (float16 on CUDA, float32 elsewhere). ``"float16"`` on the CPU is refused with a
            ValueError (use ``"bfloat16"`` there). Vectors are returned as float32 whatever the dtype.
        batch_size: default inputs per forward pass.
        max_length: the one length every text is padded (and truncated) to, so a text's vector does not
            depend on its batch; default ``min(max_position_embeddings, tokenizer.model_max_length,``
            :data:`DEFAULT_MAX_LENGTH` ``)`` (77 for CLIP, 64 for SigLIP). At most ``max_position_embeddings``.

    Attributes:
        name: ``model`` as given (a path as a string), or the loaded model's ``name_or_path``.
        dim: the size of the vectors (the projection dimension).
        max_length: the text length in use.

    The model is put in eval mode and run under ``torch.inference_mode``.

    **Pickling** (``datasets.map(num_proc=...)``, multiprocessing): an embedder built from a path or hub
    name pickles as that name and its options only; the model is loaded again on first use after
    unpickling (``device="auto"`` is resolved again there). One built from a model object pickles the
    model and processor themselves (their weights; large, but it works).

    >>> TransformersEmbedder(".no/such/folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: `model` '.no/such/folder': no such folder (pass a local checkpoint folder or a hub name such as 'openai/clip-vit-base-patch32').
    """

    def __init__(self, model: Any, processor: Any = None, *, device: str = "auto", dtype: str = "float32",
                 batch_size: int = DEFAULT_BATCH_SIZE, max_length: int | None = None):
        self.batch_size = _check_batch_size(batch_size)
        if max_length is not None:
            max_length = _check_batch_size(max_length, "max_length")
        self._dtype_name = _check_dtype(dtype)
        if not isinstance(device, str) or not device:
            raise TypeError(f"`device` should be a string such as 'auto', 'cpu', 'cuda', 'cuda:0' or 'mps', got "
                            f"{device!r}.")
        _resolve_dtype(self._dtype_name, _resolve_device(device))  # refused before any loading
        self._device_name = device
        self._requested_max_length = max_length
        if processor is not None and not isinstance(processor, (str, os.PathLike)) and not (
                hasattr(processor, "tokenizer") or callable(processor)):
            raise TypeError(f"`processor` should be a transformers processor, a path or None, got "
                            f"{type(processor).__name__}.")
        self._processor_source = os.fspath(processor) if isinstance(processor, (str, os.PathLike)) else None
        if isinstance(model, (str, os.PathLike)):
            if not os.fspath(model):
                raise ValueError("`model` should be a checkpoint folder or a hub name, got ''.")
            local = _is_local(model)
            self._source = str(Path(os.fspath(model)).expanduser()) if local else os.fspath(model)
            self.name = os.fspath(model)
            self._model = self._processor = None
            self._load()
        else:
            if not (callable(getattr(model, "get_image_features", None))
                    and callable(getattr(model, "get_text_features", None))):
                raise TypeError(f"`model` should be a path, a hub name or a dual-encoder model with get_image_features "
                                f"and get_text_features (CLIP, SigLIP, ...), got {type(model).__name__}.")
            if processor is None:
                raise ValueError("`processor` is required when `model` is a loaded model (pass its AutoProcessor).")
            self._source = None
            self.name = str(getattr(model, "name_or_path", "") or getattr(getattr(model, "config", None),
                                                                         "_name_or_path", "") or type(model).__name__)
            self._model = model
            self._processor = processor
            self._setup()

    # -- loading ---------------------------------------------------------------------------
    def _load(self) -> None:
        from transformers import AutoModel, AutoProcessor

        source = self._source
        try:
            model = AutoModel.from_pretrained(source)
        except OSError as err:
            raise OSError(f"Could not load the model {self.name!r} with AutoModel.from_pretrained: {err}") from None
        if not (callable(getattr(model, "get_image_features", None))
                and callable(getattr(model, "get_text_features", None))):
            raise TypeError(f"The model {self.name!r} ({type(model).__name__}) is no dual encoder: it lacks "
                            "get_image_features/get_text_features (use a CLIP- or SigLIP-style checkpoint).")
        processor = self._processor
        if processor is None:
            try:
                processor = AutoProcessor.from_pretrained(self._processor_source or source)
            except OSError as err:
                raise OSError(f"Could not load the processor of {self.name!r} with AutoProcessor.from_pretrained: "
                              f"{err}") from None
        self._model, self._processor = model, processor
        self._setup()

    def _setup(self) -> None:
        import torch

        device = _resolve_device(self._device_name)
        dtype = _resolve_dtype(self._dtype_name, device)
        self._tokenizer = getattr(self._processor, "tokenizer", None) or self._processor
        self._image_processor = getattr(self._processor, "image_processor", None) or self._processor
        self._model = self._model.to(device=device, dtype=dtype).eval()
        self._torch_device = torch.device(device)
        self._torch_dtype = dtype
        self.max_length = self._text_length(self._requested_max_length)
        if getattr(self, "dim", None) is None:
            self.dim = int(self._encode_text_batch([""]).shape[1])

    def _text_length(self, requested: int | None) -> int:
        config = getattr(self._model, "config", None)
        text_config = getattr(config, "text_config", None) or config
        positions = getattr(text_config, "max_position_embeddings", None)
        positions = int(positions) if isinstance(positions, int) and positions > 0 else None
        if requested is not None:
            if positions is not None and requested > positions:
                raise ValueError(f"`max_length` should be at most the text model's {positions} positions, got "
                                 f"{requested}.")
            return requested
        candidates = [DEFAULT_MAX_LENGTH]
        if positions is not None:
            candidates.append(positions)
        tokenizer_max = getattr(self._tokenizer, "model_max_length", None)
        if isinstance(tokenizer_max, int) and 0 < tokenizer_max < 100_000:
            candidates.append(tokenizer_max)
        return min(candidates)

    def _ensure_loaded(self) -> None:
        if self._model is None:
            self._load()

    # -- pickling --------------------------------------------------------------------------
    def __getstate__(self) -> dict:
        options = dict(name=self.name, dim=self.dim, batch_size=self.batch_size, max_length=self.max_length,
                       _requested_max_length=self._requested_max_length, _dtype_name=self._dtype_name,
                       _device_name=self._device_name, _source=self._source, _processor_source=self._processor_source)
        if self._source is None:  # built from a model object: its weights travel
            options.update(_model=self._model, _processor=self._processor)
        return options

    def __setstate__(self, state: dict) -> None:
        model, processor = state.pop("_model", None), state.pop("_processor", None)
        self.__dict__.update(state)
        # the processor is reloaded with the model when it came from a path; a processor object is kept
        self._model, self._processor = None, processor if self._source is None else None
        if model is not None:
            self._model = model
            self._setup()

    def __repr__(self) -> str:
        device = str(self._torch_device) if self._model is not None else self._device_name
        return (f"TransformersEmbedder({self.name!r}, dim={self.dim}, device={device!r}, dtype={self._dtype_name!r}, "
                f"max_length={self.max_length})")

    # -- encoding --------------------------------------------------------------------------
    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        inputs = self._tokenizer(texts, padding="max_length", truncation=True, max_length=self.max_length,
                                 return_tensors="pt")
        inputs = _accepted(self._model.get_text_features, dict(inputs))
        inputs = {k: v.to(self._torch_device) if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
        with torch.inference_mode():
            features = _features(self._model.get_text_features(**inputs), "get_text_features")
        return _l2_rows(features.float().cpu().numpy())

    def _encode_image_batch(self, images: list) -> np.ndarray:
        import torch

        inputs = self._image_processor(images=images, return_tensors="pt")
        inputs = _accepted(self._model.get_image_features, dict(inputs))
        inputs = {k: (v.to(self._torch_device, dtype=self._torch_dtype) if torch.is_floating_point(v)
                      else v.to(self._torch_device)) if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
        with torch.inference_mode():
            features = _features(self._model.get_image_features(**inputs), "get_image_features")
        return _l2_rows(features.float().cpu().numpy())

    def _batches(self, items: list, batch_size: int | None, progress: Any, what: str, encode) -> np.ndarray:
        batch_size = self.batch_size if batch_size is None else _check_batch_size(batch_size)
        progress = _check_flag(progress, "progress")
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._ensure_loaded()
        from tqdm.auto import tqdm

        out = []
        with tqdm(total=len(items), desc=f"Embedding {what}", unit=f" {what}", disable=not progress) as bar:
            for start in range(0, len(items), batch_size):
                batch = items[start:start + batch_size]
                out.append(encode(batch, start))
                bar.update(len(batch))
        return np.concatenate(out, axis=0)

    def encode_texts(self, texts: Sequence[str], *, batch_size: int | None = None,
                     progress: bool = False) -> np.ndarray:
        """The unit vectors of ``texts``: float32 ``(len(texts), dim)``; ``(0, dim)`` for no texts.

        Every text is padded to :attr:`max_length` tokens (longer ones are truncated), so its vector is
        the same in any batch. ``""`` is a valid text.

        Args:
            texts: a list (or tuple) of strings.
            batch_size: texts per forward pass (default: the embedder's).
            progress: show a tqdm progress bar.
        """
        texts = check_texts(texts)
        return self._batches(texts, batch_size, progress, "texts", lambda batch, _: self._encode_text_batch(batch))

    def encode_images(self, images: Sequence, *, batch_size: int | None = None,
                      progress: bool = False) -> np.ndarray:
        """The unit vectors of ``images``: float32 ``(len(images), dim)``; ``(0, dim)`` for no images.

        Args:
            images: a list of PIL images, paths, encoded bytes or ``{"bytes", "path"}`` dicts (see
                :func:`load_image`); decoded one batch at a time.
            batch_size: images per forward pass (default: the embedder's).
            progress: show a tqdm progress bar.

        Raises:
            ValueError: an image is missing or cannot be decoded (the message names its position);
                :func:`embed_dataset` records such images as statuses instead.
            TypeError: an item is of no accepted type.
        """
        images = _check_sequence(images, "images", "image")

        def encode(batch, start):
            decoded = []
            for offset, item in enumerate(batch):
                try:
                    image, status = load_image(item)
                except TypeError as err:
                    raise TypeError(f"`images` item {start + offset}: {err}") from None
                if status != "ok":
                    raise ValueError(f"`images` item {start + offset} is {status} ({_describe(item)}); every image "
                                     "should decode (embed_dataset records such images as statuses instead).")
                decoded.append(image)
            return self._encode_image_batch(decoded)

        return self._batches(images, batch_size, progress, "images", encode)


# ---------------------------------------------------------------------------- datasets
def embed_dataset(dataset: Any, embedder: Embedder, *, image_column: str = "image", caption_column: str = "caption",
                  id_column: str | None = "image_id", batch_size: int | None = None, images: bool = True,
                  texts: bool = True, progress: bool = False):
    """Embed the images and captions of a caption dataset (one row per caption) into an
    :class:`iccc.vision.EmbeddingSet`.

    - **Images**: one vector per distinct image id, from the first row of that id (ids in order of
      first appearance). Without ``id_column`` in the dataset (or with ``id_column=None``) every row is
      its own image and its row number is the image id. Rows whose id is ``None`` have no image (their
      caption's ``image_of_text`` is ``None``). Images are decoded lazily, a batch at a time (an
      ``Image`` column is read with ``decode=False``); one that is missing or cannot be decoded gets
      no vector and a status ``"missing"``/``"unreadable"`` in ``statuses`` (never an error).
    - **Texts**: one vector per caption row, in row order (text ids ``0..n-1``), with ``captions``
      (the text of each row) and ``image_of_text`` (the image id of each row). A ``None`` caption is
      embedded as the empty string ``""`` (row alignment is kept; counted in ``meta["empty_captions"]``).
      Each distinct caption is encoded once.

    Args:
        dataset: a ``datasets.Dataset``. A ``DatasetDict`` is refused: pick a split (``ds["train"]``) or
            concatenate the splits (``datasets.concatenate_datasets``) first. ``iccc embed`` concatenates.
        embedder: an :class:`Embedder` (e.g. :class:`TransformersEmbedder`).
        image_column: the column of images (an ``Image`` feature, paths, bytes or image dicts).
        caption_column: the column of captions (strings or ``None``).
        id_column: the column of image ids (a group of captions shares one); ``None`` or absent: row numbers.
        batch_size: inputs per forward pass (default: the embedder's).
        images: embed the images (``False``: ``images=None`` in the result).
        texts: embed the captions (``False``: ``texts`` and ``captions`` are ``None``).
        progress: show progress bars.

    Returns:
        An :class:`iccc.vision.EmbeddingSet` with ``model=embedder.name`` and ``meta`` holding the counts
        (rows, images, images_embedded, missing, unreadable, texts, empty_captions, distinct_texts, dim,
        seconds) and the columns used. ``images`` is ``None`` when no image could be embedded.
    """
    from .embeddings import Embeddings, EmbeddingSet

    dataset = _check_dataset(dataset)
    if not callable(getattr(embedder, "encode_texts", None)) or not callable(getattr(embedder, "encode_images", None)):
        raise TypeError(f"`embedder` should be an iccc.vision.Embedder (with encode_images and encode_texts), got "
                        f"{type(embedder).__name__}.")
    images = _check_flag(images, "images")
    texts = _check_flag(texts, "texts")
    progress = _check_flag(progress, "progress")
    if not images and not texts:
        raise ValueError("`images` and `texts` are both False: there is nothing to embed.")
    if batch_size is not None:
        batch_size = _check_batch_size(batch_size)
    for name, value in (("image_column", image_column), ("caption_column", caption_column)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"`{name}` should be a non-empty string, got {value!r}.")
    if id_column is not None and (not isinstance(id_column, str) or not id_column):
        raise TypeError(f"`id_column` should be a non-empty string or None, got {id_column!r}.")
    columns = list(dataset.column_names)
    needed = ([("image_column", image_column)] if images else []) + ([("caption_column", caption_column)]
                                                                      if texts else [])
    for name, column in needed:
        if column not in columns:
            raise KeyError(f"`{name}` {column!r} is not a column of the dataset (columns: {columns}).")

    start_time = time.perf_counter()
    n_rows = len(dataset)
    if n_rows == 0:
        raise ValueError("`dataset` has no rows: there is nothing to embed.")
    if id_column is not None and id_column in columns:
        ids = [_plain(i) for i in dataset[id_column]]
        used_id_column = id_column
    else:
        ids = list(range(n_rows))
        used_id_column = None
    first_row: dict = {}
    for row, image_id in enumerate(ids):
        if image_id is not None and image_id not in first_row:
            try:
                first_row[image_id] = row
            except TypeError:
                raise TypeError(f"`id_column` {id_column!r} should hold hashable ids (ints or strings), but row {row} "
                                f"holds {type(image_id).__name__}: {image_id!r:.80}.") from None
    meta: dict = {"rows": n_rows, "images": len(first_row), "rows_without_id": sum(i is None for i in ids),
                  "image_column": image_column if images else None, "caption_column": caption_column if texts else None,
                  "id_column": used_id_column}
    statuses: dict = {}
    image_emb = None
    if images:
        vectors, kept, statuses = _embed_images(dataset, image_column, list(first_row.items()), embedder,
                                                batch_size or getattr(embedder, "batch_size", DEFAULT_BATCH_SIZE),
                                                progress)
        counts = {s: sum(1 for v in statuses.values() if v == s) for s in IMAGE_STATUSES[1:]}
        meta.update(images_embedded=len(kept), **counts)
        if kept:
            image_emb = Embeddings.from_array(vectors, ids=kept)
    text_emb = captions = None
    if texts:
        raw = list(dataset[caption_column])
        captions = []
        empty = 0
        for row, caption in enumerate(raw):
            if caption is None:
                caption, empty = "", empty + 1
            elif not isinstance(caption, str):
                raise TypeError(f"`caption_column` {caption_column!r} should hold strings (or None), but row {row} holds "
                                f"{type(caption).__name__}: {caption!r:.80}.")
            captions.append(caption)
        distinct = list(dict.fromkeys(captions))
        kwargs = {"batch_size": batch_size} if batch_size is not None else {}
        vectors = np.asarray(embedder.encode_texts(distinct, progress=progress, **kwargs), dtype=np.float32)
        if vectors.shape[0] != len(distinct):
            raise ValueError(f"The embedder returned {vectors.shape[0]} text vectors for {len(distinct)} texts.")
        position = {text: i for i, text in enumerate(distinct)}
        meta.update(texts=n_rows, empty_captions=empty, distinct_texts=len(distinct))
        if n_rows:
            text_emb = Embeddings.from_array(vectors[[position[c] for c in captions]], ids=list(range(n_rows)))
        captions = tuple(captions)
    dim = getattr(embedder, "dim", None)
    meta.update(dim=int(dim) if dim is not None else None, seconds=round(time.perf_counter() - start_time, 3))
    return EmbeddingSet(images=image_emb, texts=text_emb, captions=captions if text_emb is not None else None,
                        image_of_text=tuple(ids) if text_emb is not None else None,
                        model=str(getattr(embedder, "name", type(embedder).__name__)),
                        statuses=statuses or None, meta=meta)


def _plain(x: Any) -> Any:
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.str_):
        return str(x)
    return x


def _check_dataset(dataset: Any):
    try:
        import datasets
    except ImportError:  # pragma: no cover - datasets is a dependency of the vision extra's users
        datasets = None
    if datasets is not None and isinstance(dataset, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        raise TypeError(f"`dataset` is a DatasetDict with splits {sorted(dataset)}; embed one split "
                        f"(dataset[{sorted(dataset)[0]!r}]) or concatenate them (datasets.concatenate_datasets).")
    if datasets is None or not isinstance(dataset, datasets.Dataset):
        hint = " (an IterableDataset: materialise it with Dataset.from_generator or load it without streaming)" if (
            datasets is not None and isinstance(dataset, datasets.IterableDataset)) else ""
        raise TypeError(f"`dataset` should be a datasets.Dataset, got {type(dataset).__name__}{hint}.")
    return dataset


def _embed_images(dataset, column: str, firsts: list, embedder, batch_size: int, progress: bool):
    """Decode and embed the image of each ``(image id, row)`` of ``firsts``, a batch at a time:
    ``(vectors, ids embedded, {image id: status} of the others)``."""
    from datasets import Image as ImageFeature

    table = dataset.select_columns([column])
    if isinstance(table.features[column], ImageFeature):
        table = table.cast_column(column, ImageFeature(decode=False))
    from tqdm.auto import tqdm

    vectors, kept, statuses = [], [], {}
    with tqdm(total=len(firsts), desc="Embedding images", unit=" images", disable=not progress) as bar:
        for start in range(0, len(firsts), batch_size):
            chunk = firsts[start:start + batch_size]
            values = table[[row for _, row in chunk]][column]
            decoded, ids = [], []
            for (image_id, row), value in zip(chunk, values):
                try:
                    image, status = load_image(value)
                except TypeError as err:
                    raise TypeError(f"`image_column` {column!r}, row {row}: {err}") from None
                if status == "ok":
                    decoded.append(image)
                    ids.append(image_id)
                else:
                    statuses[image_id] = status
            if decoded:
                batch = np.asarray(embedder.encode_images(decoded, batch_size=len(decoded)), dtype=np.float32)
                if batch.shape[0] != len(decoded):
                    raise ValueError(f"The embedder returned {batch.shape[0]} image vectors for {len(decoded)} images.")
                vectors.append(batch)
                kept.extend(ids)
            bar.update(len(chunk))
    array = np.concatenate(vectors, axis=0) if vectors else None
    return array, kept, statuses
