"""Sentence-level beam search (iccc.train.candidates) on tiny random VLMs: score order, limits, exact
log-probabilities, sentence ends, calibrated scoring, reproducibility."""

from __future__ import annotations

import pytest

from iccc.train.candidates import sentence_end

PROMPT = "Describe the image."
TEXTS = [PROMPT, "a red square. a blue circle! is it green? yes."]


@pytest.fixture(scope="module")
def torch_stack():
    torch = pytest.importorskip("torch")
    for name in ("transformers", "PIL"):
        pytest.importorskip(name, reason=f"candidate sampling needs {name}")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="module")
def loaded(torch_stack, tmp_path_factory):
    """``loaded(arch) -> (model, processor)``, built once per module (Qwen2-VL without torchvision)."""
    from iccc.train import build_tiny_model
    from iccc.train.modeling import load_model, load_processor

    cache = {}

    def get(arch):
        if arch not in cache:
            if arch == "qwen2_vl":
                from test_train import qwen_processor_without_torchvision

                from iccc.train.tiny import qwen2_vl_parts

                model, tokenizer, image_processor = qwen2_vl_parts(TEXTS)
                cache[arch] = model.eval(), qwen_processor_without_torchvision(tokenizer, image_processor)
            else:
                path = build_tiny_model(arch, tmp_path_factory.mktemp(f"tiny_{arch}"), texts=TEXTS)
                cache[arch] = load_model(path).eval(), load_processor(path)
        return cache[arch]

    return get


def image(colour=(220, 30, 30)):
    from PIL import Image

    return Image.new("RGB", (24, 24), colour)


def test_sentence_end():
    assert sentence_end("a red square. a blue") == 13
    assert sentence_end("Is it? Yes!") == 6
    assert sentence_end("no end yet") is None and sentence_end("") is None


LIMITS = dict(num_candidates=3, beams=2, keep_worst=1, max_sentences=3, max_sentence_tokens=4, max_new_tokens=10)


def check_paths(paths, limits):
    assert paths, "the search returned no path"
    scores = [p.score for p in paths]
    assert scores == sorted(scores, reverse=True)
    # every path: at most (beams + keep_worst) parents x num_candidates children per depth
    width = (limits["beams"] + limits["keep_worst"]) * limits["num_candidates"]
    assert len(paths) <= limits["num_candidates"] + width * (limits["max_sentences"] - 1)
    for p in paths:
        assert 1 <= len(p.sentences) <= limits["max_sentences"]
        assert len(p.sentences) == len(p.logps) == len(p.token_counts) == len(p.step_scores)
        assert all(1 <= n <= limits["max_sentence_tokens"] for n in p.token_counts)
        assert p.n_tokens == len(p.token_ids) <= limits["max_new_tokens"]
        assert all(lp < 0 for lp in p.logps)
        assert p.score == pytest.approx(sum(p.step_scores) / len(p.step_scores))
        assert list(p.step_scores) == pytest.approx(list(p.logps))     # likelihood only without a scorer
        if not p.finished:  # a limit stopped it
            assert len(p.sentences) == limits["max_sentences"] or p.n_tokens == limits["max_new_tokens"]


@pytest.mark.parametrize("arch", ["blip2", "instructblip", "llava", "qwen2_vl"])
def test_paths_come_in_score_order_and_respect_the_limits(arch, loaded):
    import torch

    from iccc.train.candidates import sample_candidates

    model, processor = loaded(arch)
    state = torch.get_rng_state()
    out = sample_candidates(model, processor, [image(), image((30, 30, 220))], PROMPT, seed=3, **LIMITS)
    assert torch.equal(torch.get_rng_state(), state)            # the global random state is left alone
    assert len(out) == 2
    for paths in out:
        check_paths(paths, LIMITS)
    again = sample_candidates(model, processor, [image()], PROMPT, seed=3, **LIMITS)[0]
    assert [p.token_ids for p in again] == [p.token_ids for p in out[0]]      # image 0 draws from (seed, 0)
    other = sample_candidates(model, processor, image(), PROMPT, seed=4, **LIMITS)[0]
    assert [p.token_ids for p in other] != [p.token_ids for p in out[0]]


def boost_sentence_ends(model, processor, amount=5.0):
    """A forward hook raising the logit of '.' so that the random model ends sentences early."""
    dot = processor.tokenizer.convert_tokens_to_ids(".")
    head = model.get_output_embeddings()

    def hook(module, args, output):
        output[..., dot] += amount
        return output

    return head.register_forward_hook(hook)


def test_logps_are_the_models_and_steps_end_at_sentence_ends(loaded):
    import torch

    from iccc.train.candidates import sample_candidates
    from iccc.train.data import Collator

    model, processor = loaded("llava")
    handle = boost_sentence_ends(model, processor)
    try:
        limits = dict(LIMITS, max_sentence_tokens=8, max_new_tokens=24)
        paths = sample_candidates(model, processor, [image()], PROMPT, seed=0, **limits)[0]
        check_paths(paths, limits)
        ended = [s for p in paths for s, n in zip(p.sentences, p.token_counts) if n < limits["max_sentence_tokens"]]
        assert ended and all(sentence_end(s) is not None for s in ended)
        assert any(len(p.sentences) > 1 for p in paths)
        # teacher forcing: the prompt, then the path's tokens, in one forward pass
        prompt = Collator(processor, padding_side="left")([{"image": image(), "prompt": PROMPT, "target": None}])
        for p in paths[:3] + paths[-2:]:
            ids = torch.cat([prompt["input_ids"], torch.tensor([p.token_ids])], dim=1)
            with torch.no_grad():
                logits = model(input_ids=ids, attention_mask=torch.ones_like(ids),
                               pixel_values=prompt["pixel_values"]).logits[0].float()
            start = prompt["input_ids"].shape[1]
            token_logps = logits[start - 1:-1].log_softmax(-1).gather(-1, ids[0, start:, None]).squeeze(-1)
            at = 0
            for n, lp in zip(p.token_counts, p.logps):
                assert lp == pytest.approx(float(token_logps[at:at + n].mean()), abs=1e-4)
                at += n
    finally:
        handle.remove()


def test_an_image_scorer_gives_the_calibrated_reward(loaded):
    from iccc.train.candidates import sample_candidates

    model, processor = loaded("llava")
    seen = []

    def scorer(img, sentences):  # stands in for a dual encoder: prefers short sentences
        seen.append((img.getpixel((0, 0)), list(sentences)))
        return [-len(s) for s in sentences]

    paths = sample_candidates(model, processor, [image()], PROMPT, seed=1, image_scorer=scorer, alpha=1.0, **LIMITS)[0]
    assert seen and all(colour == (220, 30, 30) for colour, _ in seen)
    scores = [p.score for p in paths]
    assert scores == sorted(scores, reverse=True)
    for p in paths:
        assert len(p.image_scores) == len(p.sentences)
        assert p.image_scores == tuple(-len(s) for s in p.sentences)
        assert all(0 < s <= 1 for s in p.step_scores)                # ranks among siblings
    # at depth 0 all candidates are siblings of the root: alpha = 1 ranks them by the scorer alone
    first = {p.sentences[0]: p.step_scores[0] for p in paths}
    by_length = sorted(first, key=len)
    assert first[by_length[0]] == max(first.values()) and first[by_length[-1]] == min(first.values())

    def wrong(img, sentences):
        return [0.0]

    with pytest.raises(ValueError, match="`image_scorer` returned 1 scores for 3 sentences"):
        sample_candidates(model, processor, [image()], PROMPT, image_scorer=wrong, **LIMITS)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(prompt=""), ValueError, "`prompt` should be a non-empty string, got ''."),
    (dict(images=[]), ValueError, "`images` should be an image or a non-empty list of images, got []."),
    (dict(beams=0), ValueError, "`beams` should be an int >= 1, got 0."),
    (dict(keep_worst=-1), ValueError, "`keep_worst` should be an int >= 0, got -1."),
    (dict(max_sentences=1.5), ValueError, "`max_sentences` should be an int >= 1, got 1.5."),
    (dict(temperature=0), ValueError, "`temperature` should be a positive number, got 0."),
    (dict(image_scorer="clip"), TypeError, "`image_scorer` should be a callable"),
    (dict(image_scorer=lambda i, s: s, alpha=2.0), ValueError, "`alpha` should be a number in [0, 1]"),
])
def test_bad_inputs_are_named(loaded, kwargs, error, message):
    from iccc.train.candidates import sample_candidates

    model, processor = loaded("llava")
    call = dict(images=[image()], prompt=PROMPT)
    call.update(kwargs)
    with pytest.raises(error) as err:
        sample_candidates(model, processor, call.pop("images"), call.pop("prompt"), **call)
    assert message in str(err.value)


def test_an_encoder_decoder_language_model_continues_in_the_decoder(loaded, tmp_path):
    """BLIP-2 with a T5 (as BLIP-2 Flan-T5): paths grow in the decoder; log-probs match teacher forcing."""
    import torch
    from test_dpo import tiny_blip2_t5

    from iccc.train import build_tiny_model
    from iccc.train.candidates import _decoder_start, sample_candidates
    from iccc.train.data import Collator

    model, processor = tiny_blip2_t5(build_tiny_model("blip2", tmp_path / "blip2", texts=TEXTS))
    paths = sample_candidates(model, processor, [image()], PROMPT, seed=0, **LIMITS)[0]
    check_paths(paths, LIMITS)
    prompt = Collator(processor, padding_side="left", seq2seq=True)([{"image": image(), "prompt": PROMPT,
                                                                      "target": None}])
    for p in paths[:2] + paths[-1:]:
        decoder = torch.tensor([[_decoder_start(model, processor.tokenizer)] + list(p.token_ids)])
        with torch.no_grad():
            logits = model(input_ids=prompt["input_ids"], attention_mask=prompt["attention_mask"],
                           pixel_values=prompt["pixel_values"], decoder_input_ids=decoder).logits[0].float()
        token_logps = logits[:-1].log_softmax(-1).gather(-1, decoder[0, 1:, None]).squeeze(-1)
        at = 0
        for n, lp in zip(p.token_counts, p.logps):
            assert lp == pytest.approx(float(token_logps[at:at + n].mean()), abs=1e-4)
            at += n
