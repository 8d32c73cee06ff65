"""Candidate responses by sentence-level beam search: the sampling side of Calibrated Self-Rewarding.

CSR (arXiv 2405.14622) lets a vision-language model write its answer one sentence at a time. Each
kept partial answer (a *beam*) is continued by several sampled next sentences; a step ends at a
sentence end (``.``, ``!``, ``?``) or at the end-of-sequence token. Every sentence gets the model's
own length-normalised log-probability (the mean log-probability of its tokens), optionally an
image-text score, and the siblings of one depth are ranked; the best ``beams`` partial paths and
the worst ``keep_worst`` ones go on to the next depth, so both a preferred and a dispreferred answer
are grown. Paths stop at the end-of-sequence token, after ``max_sentences`` sentences or once
``max_new_tokens`` tokens are written.

A path's score is the mean of its steps' scores: without an image scorer the step score is the
sentence's length-normalised log-probability (likelihood only); with ``image_scorer`` it is the
calibrated reward of :func:`iccc.vision.calibrated_reward` among the step's siblings (the sentences
continuing one parent), so a path's score is CSR's path reward.

Generation goes through ``model.generate`` (ancestral sampling at ``temperature``, no top-k/top-p,
so a sentence is drawn from the model's own distribution); the log-probabilities are taken from the
raw logits of each step. The prompt is encoded by :class:`iccc.train.data.Collator` exactly as for
generation elsewhere in ``iccc.train`` (every supported architecture's image handling applies), and
a partial path is continued from its token ids, so scores are those of the exact tokens kept.
Draws are reproducible from ``seed`` (per image: ``(seed, image index)``) and leave the global torch
random state as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: A sentence ends at one of these (a closing quote or bracket may follow).
SENTENCE_END = re.compile(r"[.!?]")


@dataclass(frozen=True)
class CandidatePath:
    """One response grown sentence by sentence.

    Attributes:
        sentences: the sentences, in order (each stripped of surrounding space).
        logps: each sentence's mean token log-probability under the model.
        token_counts: tokens per sentence.
        score: the path score (mean of ``step_scores``) the search ranked by.
        step_scores: per sentence, its length-normalised log-prob, or its calibrated reward when an
            image scorer was given.
        image_scores: per sentence, the image scorer's score (empty without one).
        finished: the model ended the response (end-of-sequence token); False when a limit cut it.
        token_ids: the response's token ids (sentences concatenated, end token excluded).
        text: the decoded response.
    """

    sentences: tuple
    logps: tuple
    token_counts: tuple
    score: float
    step_scores: tuple
    image_scores: tuple = ()
    finished: bool = False
    token_ids: tuple = field(default=(), repr=False)
    text: str = ""

    @property
    def n_tokens(self) -> int:
        return sum(self.token_counts)


def sentence_end(text: str) -> int | None:
    """The index just after the first sentence end in ``text`` (None when there is none).

    >>> sentence_end("a red square. a blue"), sentence_end("no end yet") is None
    (13, True)
    """
    m = SENTENCE_END.search(text)
    return m.end() if m else None


def sample_candidates(model, processor, images, prompt: str, *, num_candidates: int = 4, beams: int = 2,
                      keep_worst: int = 1, max_sentences: int = 4, max_sentence_tokens: int = 32,
                      max_new_tokens: int = 96, temperature: float = 1.0, seed: int = 0, image_scorer=None,
                      alpha: float = 0.9, mode: str = "rank") -> list[list[CandidatePath]]:
    """Sentence-level beam search of responses to ``prompt`` about each image (see the module docstring).

    Args:
        model: an image-text-to-text model (as ``iccc.train`` loads or trains it; peft-wrapped or not).
        processor: its processor.
        images: a list of images (PIL images, paths, bytes or ``{"bytes", "path"}`` dicts); one image
            alone is taken as a list of one.
        prompt: the instruction (e.g. ``"Describe the image."``).
        num_candidates: sentences sampled per beam and step.
        beams: best partial paths kept per depth.
        keep_worst: worst partial paths kept per depth as well (0: plain beam search).
        max_sentences: at most this many sentences per path.
        max_sentence_tokens: a sentence is cut after this many tokens.
        max_new_tokens: at most this many tokens per path.
        temperature: sampling temperature, > 0.
        seed: seed of the draws (image ``i`` draws from ``(seed, i)``).
        image_scorer: optional ``image_scorer(image, sentences) -> scores`` (one float per sentence,
            higher = more about the image, e.g. a dual encoder's cosine); turns the step score into
            the calibrated reward.
        alpha, mode: options of :func:`iccc.vision.calibrated_reward` (used with ``image_scorer``).

    Returns:
        Per image, its paths, best score first (ties: the order they were found). Every path that
        ended (end token) or hit a limit is returned, partial paths dropped at a depth are not.

    Example::

        paths = sample_candidates(model, processor, [image], "Describe the image.", seed=0)[0]
        best, worst = paths[0], paths[-1]
    """
    import numpy as np
    import torch

    from .data import Collator, open_image
    from .generation import autocast_for, device_dtype
    from .modeling import is_seq2seq

    if not callable(getattr(model, "generate", None)):
        raise TypeError(f"`model` should be a generating image-text-to-text model, got {type(model).__name__}.")
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is None:
        raise TypeError(f"`processor` should be the model's processor (with a tokenizer), got "
                        f"{type(processor).__name__}.")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(f"`prompt` should be a non-empty string, got {prompt!r}.")
    images = _as_list(images)
    for name, value, low in (("num_candidates", num_candidates, 1), ("beams", beams, 1),
                             ("keep_worst", keep_worst, 0), ("max_sentences", max_sentences, 1),
                             ("max_sentence_tokens", max_sentence_tokens, 1), ("max_new_tokens", max_new_tokens, 1),
                             ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"`{name}` should be an int >= {low}, got {value!r}.")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"`temperature` should be a positive number, got {temperature!r}.")
    if image_scorer is not None and not callable(image_scorer):
        raise TypeError(f"`image_scorer` should be a callable (image, sentences) -> scores, got "
                        f"{type(image_scorer).__name__}.")
    if image_scorer is not None:
        from ..vision.reward import calibrated_reward

        calibrated_reward([0.0], [0.0], alpha=alpha, mode=mode)  # checks alpha and mode before any work

    seq2seq = is_seq2seq(model)
    collate = Collator(processor, padding_side="left", seq2seq=seq2seq)
    device, dtype = device_dtype(model)
    search = _Search(model, tokenizer, seq2seq=seq2seq, device=device, dtype=dtype, num_candidates=num_candidates,
                     max_sentence_tokens=max_sentence_tokens, temperature=float(temperature))
    limits = dict(beams=beams, keep_worst=keep_worst, max_sentences=max_sentences, max_new_tokens=max_new_tokens)
    results = []
    was_training = model.training
    model.eval()
    devices = [device.index or 0] if device.type == "cuda" else []
    try:
        with torch.no_grad(), autocast_for(model), torch.random.fork_rng(devices=devices):
            for i, value in enumerate(images):
                image = open_image(value)
                torch.manual_seed(int(np.random.SeedSequence([seed, i]).generate_state(1)[0]))
                if devices:
                    torch.cuda.manual_seed_all(int(np.random.SeedSequence([seed, i, 1]).generate_state(1)[0]))
                encoded = collate([{"image": image, "prompt": prompt, "target": None}])
                scorer = None if image_scorer is None else (lambda texts, image=image: image_scorer(image, texts))
                results.append(search.run(encoded, scorer=scorer, alpha=alpha, mode=mode, **limits))
    finally:
        model.train(was_training)
    return results


def _decoder_start(model, tokenizer) -> int:
    """The first decoder token of an encoder-decoder language model (generation config, configs, pad)."""
    config = model.config
    for source in (getattr(model, "generation_config", None), config, getattr(config, "text_config", None)):
        start = getattr(source, "decoder_start_token_id", None) if source is not None else None
        if isinstance(start, int):
            return start
    return tokenizer.pad_token_id


def _as_list(images) -> list:
    from PIL import Image

    if isinstance(images, (Image.Image, str, bytes, bytearray, dict)) or hasattr(images, "__fspath__"):
        return [images]
    if not isinstance(images, (list, tuple)) or not images:
        raise ValueError(f"`images` should be an image or a non-empty list of images, got {images!r}.")
    return list(images)


@dataclass
class _Partial:
    ids: list
    sentences: list
    logps: list
    counts: list
    steps: list
    image_scores: list
    finished: bool = False
    new: str | None = None  # the sentence this step added (None: the step only ended the response)

    @property
    def score(self) -> float:
        return sum(self.steps) / len(self.steps) if self.steps else 0.0


class _Search:
    """The sentence-level search for one encoded prompt (state: the model and the limits)."""

    def __init__(self, model, tokenizer, *, seq2seq, device, dtype, num_candidates, max_sentence_tokens,
                 temperature):
        self.model, self.tokenizer, self.seq2seq = model, tokenizer, seq2seq
        self.device, self.dtype = device, dtype
        self.num_candidates, self.max_sentence_tokens, self.temperature = num_candidates, max_sentence_tokens, \
            temperature

    def run(self, encoded, *, scorer, alpha, mode, beams, keep_worst, max_sentences, max_new_tokens):
        from .generation import to_device

        encoded = to_device(encoded, self.device, self.dtype)
        encoded.pop("labels", None)
        live, done = [_Partial([], [], [], [], [], [])], []
        for depth in range(max_sentences):
            children, parents = [], []
            for parent_index, parent in enumerate(live):
                room = max_new_tokens - len(parent.ids)
                for child in self._continue(encoded, parent, min(self.max_sentence_tokens, room)):
                    children.append(child)
                    parents.append(parent_index)
            if not children:
                break
            self._score(children, parents, scorer, alpha, mode)
            last_depth = depth + 1 == max_sentences
            ongoing = []
            for child in children:
                if child.finished or last_depth or len(child.ids) >= max_new_tokens or not child.sentences:
                    done.append(child)
                else:
                    ongoing.append(child)
            order = sorted(range(len(ongoing)), key=lambda k: -ongoing[k].score)
            keep = order[:beams] + [k for k in order[::-1][:keep_worst] if k not in order[:beams]]
            live = [ongoing[k] for k in sorted(keep, key=order.index)]
            if not live:
                break
        done = [p for p in done if p.sentences]
        done.sort(key=lambda p: -p.score)
        return [self._path(p) for p in done]

    def _continue(self, encoded, parent, limit):
        """Up to ``num_candidates`` distinct next sentences of ``parent`` (new ``_Partial`` objects)."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        tokenizer = self.tokenizer
        inputs = dict(encoded)
        prefix = torch.as_tensor([parent.ids], dtype=torch.long, device=self.device)
        if self.seq2seq:
            head = torch.full((1, 1), _decoder_start(self.model, tokenizer), dtype=torch.long, device=self.device)
            inputs["decoder_input_ids"] = torch.cat([head, prefix], dim=1)
            offset = inputs["decoder_input_ids"].shape[1]
        else:
            from .data import PER_TOKEN_KEYS

            if parent.ids:
                inputs["input_ids"] = torch.cat([inputs["input_ids"], prefix], dim=1)
                inputs["attention_mask"] = torch.cat([inputs["attention_mask"], torch.ones_like(prefix)], dim=1)
                for key in PER_TOKEN_KEYS:
                    if key in inputs:
                        inputs[key] = torch.cat([inputs[key], torch.zeros_like(prefix)], dim=1)
            offset = inputs["input_ids"].shape[1]
        eos = tokenizer.eos_token_id

        class SentenceStop(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                texts = tokenizer.batch_decode(input_ids[:, offset:], skip_special_tokens=True)
                return torch.tensor([sentence_end(t) is not None for t in texts], device=input_ids.device)

        out = self.model.generate(**inputs, do_sample=True, temperature=self.temperature, top_k=0, top_p=1.0,
                                  num_beams=1, num_return_sequences=self.num_candidates, max_new_tokens=limit,
                                  stopping_criteria=StoppingCriteriaList([SentenceStop()]), output_logits=True,
                                  return_dict_in_generate=True, pad_token_id=tokenizer.pad_token_id,
                                  eos_token_id=eos)
        new = out.sequences[:, offset:]
        logps = torch.stack(out.logits, dim=1).float().log_softmax(-1)  # (n, steps, vocab)
        token_logps = torch.gather(logps, -1, new[:, :logps.shape[1]].unsqueeze(-1)).squeeze(-1)
        seen, children = set(), []
        for j in range(new.shape[0]):
            ids, lps, finished = [], [], False
            for k in range(token_logps.shape[1]):
                token = int(new[j, k])
                if token == eos:
                    finished = True
                    break
                ids.append(token)
                lps.append(float(token_logps[j, k]))
                if sentence_end(tokenizer.decode(ids, skip_special_tokens=True)) is not None:
                    break
            key = (tuple(ids), finished)
            if key in seen:
                continue
            seen.add(key)
            text = tokenizer.decode(ids, skip_special_tokens=True).strip()
            if not ids or not text:  # the model ended the response (or wrote only special tokens)
                children.append(_Partial(list(parent.ids), list(parent.sentences), list(parent.logps),
                                         list(parent.counts), list(parent.steps), list(parent.image_scores),
                                         finished=True))
                continue
            children.append(_Partial(parent.ids + ids, parent.sentences + [text],
                                     parent.logps + [sum(lps) / len(lps)], parent.counts + [len(ids)],
                                     list(parent.steps), list(parent.image_scores), finished, new=text))
        return children

    @staticmethod
    def _score(children, parents, scorer, alpha, mode):
        """Append each new sentence's step score (and image score) to its child."""
        fresh = [k for k, c in enumerate(children) if c.new is not None]
        if not fresh:
            return
        if scorer is None:
            for k in fresh:
                children[k].steps.append(children[k].logps[-1])
            return
        from ..vision.reward import calibrated_reward

        texts = [children[k].new for k in fresh]
        scores = [float(s) for s in scorer(texts)]
        if len(scores) != len(texts):
            raise ValueError(f"`image_scorer` returned {len(scores)} scores for {len(texts)} sentences.")
        rewards = calibrated_reward([children[k].logps[-1] for k in fresh], scores, alpha=alpha, mode=mode,
                                    groups=[parents[k] for k in fresh])
        for k, score, reward in zip(fresh, scores, rewards):
            children[k].image_scores.append(score)
            children[k].steps.append(float(reward))

    def _path(self, p) -> CandidatePath:
        return CandidatePath(sentences=tuple(p.sentences), logps=tuple(p.logps), token_counts=tuple(p.counts),
                             score=p.score, step_scores=tuple(p.steps), image_scores=tuple(p.image_scores),
                             finished=p.finished, token_ids=tuple(p.ids),
                             text=self.tokenizer.decode(p.ids, skip_special_tokens=True).strip())
