"""Tiny randomly initialised dual encoders (CLIP, SigLIP) built locally, for tests and demos.

:func:`build_tiny_dual_encoder` writes a directory that ``AutoModel.from_pretrained`` and
``AutoProcessor.from_pretrained`` load like a hub checkpoint, with no network: a model from a
config with tiny sizes, a tokenizer trained here on the given texts (plus a small default English
set), the image processor sized to the images and the architecture's processor.

The tokenizers are byte-level BPE, so any text encodes without unknown tokens; the texts given
only make common words single tokens. The CLIP one is a ``CLIPTokenizer`` (its normaliser,
pre-tokeniser and ``</w>`` word ends, with our vocabulary); the SigLIP one is a plain fast
tokenizer that appends ``</s>`` (SigLIP pools the last position, so pad to ``max_length``).

torch and transformers are imported inside :func:`build_tiny_dual_encoder` only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

#: Architectures :func:`build_tiny_dual_encoder` builds.
ARCHS = ("clip", "siglip")

#: Always in the tokenizer's training texts, so short English captions get whole-word tokens.
DEFAULT_TEXTS = (
    "a photo of a cat. a picture of a dog sitting on the grass next to a red ball.",
    "there is a small blue circle to the left of a large green square, above a yellow triangle.",
    "two people are riding bikes down the street. a man holds an umbrella in the rain.",
    "an orange and a purple shape on a white background; the big one is below the little one.",
    "A woman is standing in front of the table with three cups, 1 2 3 4 5 6 7 8 9 0!",
)

_CLIP_SPECIALS = ("<|startoftext|>", "<|endoftext|>")
_SIGLIP_SPECIALS = ("<pad>", "</s>", "<unk>")


def _check_int(value, name: str, *, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"`{name}` should be an int >= {minimum}, got {value!r}.")
    return value


def _check_texts(texts) -> list[str]:
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"`texts` should be a list of strings, got a single string {texts[:40]!r}.")
    if not isinstance(texts, Iterable):
        raise TypeError(f"`texts` should be a list of strings, got {type(texts).__name__}.")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"`texts[{i}]` should be a string, got {type(text).__name__}: {text!r}.")
    return texts


def _heads(width: int) -> int:
    """Attention heads for a tower of ``width``: head size 16 where it divides, else one head."""
    return max(width // 16, 1) if width % 16 == 0 else 1


def train_bpe(words: Iterable[str], n_merges: int, *, end_of_word: str = "") -> list[tuple[str, str]]:
    """Byte-pair merges learned from ``words`` (already pre-tokenised), most frequent pair first.

    Deterministic: ties between pairs of the same count go to the smaller pair (string order), so
    the same words always give the same merges. Learning stops early when no pair occurs twice.

    Args:
        words: the words (each is split into characters; repeats count).
        n_merges: the most merges to learn (>= 0).
        end_of_word: a suffix glued to each word's last character (CLIP's ``"</w>"``), or ``""``.

    Returns:
        the merges in the order they are applied.

    >>> train_bpe(["low", "low", "lower"], 2)
    [('l', 'o'), ('lo', 'w')]
    """
    _check_int(n_merges, "n_merges", minimum=0)
    counts: dict[tuple[str, ...], int] = {}
    for word in words:
        if word:
            symbols = (*word[:-1], word[-1] + end_of_word)
            counts[symbols] = counts.get(symbols, 0) + 1
    vocab = [list(w) for w in counts]
    freq = list(counts.values())
    pairs: dict[tuple[str, str], int] = {}
    where: dict[tuple[str, str], set[int]] = {}
    for i, symbols in enumerate(vocab):
        for pair in zip(symbols, symbols[1:]):
            pairs[pair] = pairs.get(pair, 0) + freq[i]
            where.setdefault(pair, set()).add(i)
    merges: list[tuple[str, str]] = []
    while len(merges) < n_merges and pairs:
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] < 2:
            break
        merges.append(best)
        joined = best[0] + best[1]
        for i in sorted(where.pop(best, ())):
            symbols = vocab[i]
            for pair in zip(symbols, symbols[1:]):  # take the word out of the counts ...
                pairs[pair] -= freq[i]
                if pairs[pair] <= 0:
                    del pairs[pair]
            merged, k = [], 0
            while k < len(symbols):
                if k + 1 < len(symbols) and (symbols[k], symbols[k + 1]) == best:
                    merged.append(joined)
                    k += 2
                else:
                    merged.append(symbols[k])
                    k += 1
            vocab[i] = merged
            for pair in zip(merged, merged[1:]):  # ... and back in, merged
                pairs[pair] = pairs.get(pair, 0) + freq[i]
                where.setdefault(pair, set()).add(i)
    return merges


def _bpe_vocab(specials, alphabet: list[str], merges) -> dict[str, int]:
    vocab: dict[str, int] = {}
    for token in [*specials, *alphabet, *(a + b for a, b in merges)]:
        vocab.setdefault(token, len(vocab))
    return vocab


def _clip_tokenizer(texts: list[str], n_merges: int, max_length: int):
    """A ``CLIPTokenizer`` with a BPE vocabulary learned from ``texts`` (every byte, alone and as a word end)."""
    import transformers as tf

    base = tf.CLIPTokenizer(model_max_length=max_length)  # its normaliser and pre-tokeniser split the words
    backend = base.backend_tokenizer
    words = [w for text in texts for w, _ in backend.pre_tokenizer.pre_tokenize_str(backend.normalizer.normalize_str(text))]
    merges = train_bpe(words, n_merges, end_of_word="</w>")
    from tokenizers import pre_tokenizers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = _bpe_vocab(_CLIP_SPECIALS, alphabet + [c + "</w>" for c in alphabet], merges)
    return tf.CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=max_length)


def _siglip_tokenizer(texts: list[str], n_merges: int, max_length: int):
    """A fast byte-level BPE tokenizer that lowercases, appends ``</s>`` and pads with ``<pad>``."""
    import transformers as tf
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    normalizer = normalizers.Lowercase()
    pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    words = [w for text in texts for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text))]
    merges = train_bpe(words, n_merges)
    vocab = _bpe_vocab(_SIGLIP_SPECIALS, sorted(pre_tokenizers.ByteLevel.alphabet()), merges)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", vocab["</s>"])])
    return tf.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                      model_max_length=max_length)


def build_tiny_dual_encoder(arch: str, out_dir, *, texts=(), image_size: int = 32, patch_size: int = 8,
                            hidden_size: int = 32, projection_dim: int = 32, num_layers: int = 2,
                            vocab_size: int = 500, max_length: int = 32, seed: int = 0) -> Path:
    """Write a tiny randomly initialised ``arch`` dual encoder (model + processor) to ``out_dir``.

    Args:
        arch: ``"clip"`` (a ``CLIPModel``) or ``"siglip"`` (a ``SiglipModel``), see :data:`ARCHS`.
        out_dir: directory to write (created; files already there are overwritten).
        texts: texts to train the tokenizer on, besides :data:`DEFAULT_TEXTS` (captions, prompts).
        image_size: side of the square images the model and the image processor take.
        patch_size: side of a vision patch; divides ``image_size``.
        hidden_size: width of both towers (for SigLIP: of the text tower; its vision tower is
            ``projection_dim`` wide, since SigLIP's image features are the vision width).
        projection_dim: size of the image and text features.
        num_layers: transformer layers of each tower.
        vocab_size: the most BPE merges learned from the texts; the vocabulary holds them besides the
            special tokens and the 256 byte pieces (CLIP: 512, alone and as word ends).
        max_length: the longest text, in tokens (``model_max_length`` and the text positions).
        seed: seed of the random weights (``torch.manual_seed``); the same arguments give the same weights.

    Returns:
        ``out_dir`` as a :class:`pathlib.Path`.

    Example:
        >>> import tempfile
        >>> path = build_tiny_dual_encoder("clip", tempfile.mkdtemp(), texts=["a red circle."])  # doctest: +SKIP
        >>> transformers.AutoModel.from_pretrained(path).config.projection_dim  # doctest: +SKIP
        32
    """
    if arch not in ARCHS:
        raise ValueError(f"`arch` should be one of {', '.join(map(repr, ARCHS))}, got {arch!r}.")
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"`out_dir` should be a path (str or os.PathLike), got {type(out_dir).__name__}.")
    texts = _check_texts(texts)
    _check_int(image_size, "image_size", minimum=4)
    _check_int(patch_size, "patch_size")
    if image_size % patch_size:
        raise ValueError(f"`patch_size` should divide `image_size` ({image_size}), got {patch_size!r}.")
    _check_int(hidden_size, "hidden_size", minimum=2)
    _check_int(projection_dim, "projection_dim", minimum=2)
    _check_int(num_layers, "num_layers")
    _check_int(vocab_size, "vocab_size")
    _check_int(max_length, "max_length", minimum=2)
    _check_int(seed, "seed", minimum=0)

    import torch
    import transformers as tf

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    corpus = texts + list(DEFAULT_TEXTS)
    size = {"height": image_size, "width": image_size}

    def tower(width: int) -> dict:
        return dict(hidden_size=width, intermediate_size=2 * width, num_hidden_layers=num_layers,
                    num_attention_heads=_heads(width))

    if arch == "clip":
        from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

        tokenizer = _clip_tokenizer(corpus, vocab_size, max_length)
        text = dict(tower(hidden_size), vocab_size=len(tokenizer), max_position_embeddings=max_length,
                    bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                    pad_token_id=tokenizer.pad_token_id, projection_dim=projection_dim)
        vision = dict(tower(hidden_size), image_size=image_size, patch_size=patch_size, projection_dim=projection_dim)
        config = tf.CLIPConfig(text_config=tf.CLIPTextConfig(**text).to_dict(),
                               vision_config=tf.CLIPVisionConfig(**vision).to_dict(), projection_dim=projection_dim)
        image_processor = CLIPImageProcessorPil(size={"shortest_edge": image_size}, crop_size=size,
                                                do_center_crop=True)
        torch.manual_seed(seed)
        model = tf.CLIPModel(config)
        processor = tf.CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)
    else:
        from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

        tokenizer = _siglip_tokenizer(corpus, vocab_size, max_length)
        text = dict(tower(hidden_size), vocab_size=len(tokenizer), max_position_embeddings=max_length,
                    pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                    bos_token_id=tokenizer.eos_token_id, projection_size=projection_dim)
        vision = dict(tower(projection_dim), image_size=image_size, patch_size=patch_size)
        config = tf.SiglipConfig(text_config=tf.SiglipTextConfig(**text), vision_config=tf.SiglipVisionConfig(**vision))
        image_processor = SiglipImageProcessorPil(size=size)
        torch.manual_seed(seed)
        model = tf.SiglipModel(config)
        processor = tf.SiglipProcessor(image_processor=image_processor, tokenizer=tokenizer)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
