"""Tiny dual encoders (iccc.vision.tiny) and the shapes-world CLIP training (iccc.train.dual_encoder)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from iccc.train.dual_encoder import FOIL_KINDS, QUICK, make_foils, train_shapes_encoder  # noqa: E402
from iccc.train.synthetic import draw_scene, sample_scene  # noqa: E402
from iccc.vision.tiny import ARCHS, build_tiny_dual_encoder, train_bpe  # noqa: E402

CAPTIONS = ["a red circle to the left of a blue square.", "there is a big green triangle."]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module", params=ARCHS)
def built(request, tmp_path_factory):
    path = build_tiny_dual_encoder(request.param, tmp_path_factory.mktemp(request.param), texts=CAPTIONS,
                                   projection_dim=24, max_length=20)
    return request.param, path


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_builds_and_loads_through_auto_classes(built):
    arch, path = built
    model = transformers.AutoModel.from_pretrained(path)
    processor = transformers.AutoProcessor.from_pretrained(path)
    assert model.config.model_type == arch
    images = [draw_scene(sample_scene(np.random.default_rng(i)), image_size=32) for i in range(3)]
    texts = CAPTIONS + ["ünïcode ☃ and words never seen: zyzzyva!"]
    with torch.no_grad():
        t = model.get_text_features(**processor(text=texts, padding="max_length", truncation=True, max_length=20,
                                                return_tensors="pt"))
        i = model.get_image_features(**processor(images=images, return_tensors="pt"))
    t, i = getattr(t, "pooler_output", t), getattr(i, "pooler_output", i)
    assert tuple(t.shape) == (3, 24) and tuple(i.shape) == (3, 24)
    assert torch.isfinite(t).all() and torch.isfinite(i).all()
    assert not torch.allclose(i[0], i[1])  # different images, different features


def test_tokenizer_has_no_unknowns_and_learns_words(built):
    _, path = built
    tok = transformers.AutoProcessor.from_pretrained(path).tokenizer
    ids = tok("zyzzyva ☃ ünïcode")["input_ids"]
    assert ids.count(tok.unk_token_id) == (1 if tok.unk_token_id == tok.eos_token_id else 0)  # CLIP: unk is eos
    assert len(tok.tokenize("circle")) == 1  # a word of the training texts is one token
    decoded = tok.decode(tok("a red circle.")["input_ids"], skip_special_tokens=True)
    assert decoded.replace(" .", ".").strip() == "a red circle."  # CLIP's decoder spaces punctuation


@pytest.mark.parametrize("arch", ARCHS)
def test_same_seed_same_weights_other_seed_other_weights(arch, tmp_path):
    a = build_tiny_dual_encoder(arch, tmp_path / "a", texts=CAPTIONS, seed=3)
    b = build_tiny_dual_encoder(arch, tmp_path / "b", texts=CAPTIONS, seed=3)
    c = build_tiny_dual_encoder(arch, tmp_path / "c", texts=CAPTIONS, seed=4)
    wa, wb, wc = (_weights(transformers.AutoModel.from_pretrained(p)) for p in (a, b, c))
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert any(not torch.equal(wa[k], wc[k]) for k in wa)
    assert (a / "tokenizer.json").read_text() == (b / "tokenizer.json").read_text()


def test_train_bpe_is_deterministic_and_greedy():
    words = ["low", "lower", "lowest", "low", "newer", "wider"] * 3
    assert train_bpe(words, 5) == train_bpe(list(words), 5)
    assert train_bpe(words, 1) == [("l", "o")]
    assert train_bpe(["ab", "cd"], 10) == []  # no pair occurs twice
    assert train_bpe(["ab", "ab"], 1, end_of_word="</w>") == [("a", "b</w>")]


@pytest.mark.parametrize("kwargs, match", [
    (dict(arch="vit"), "`arch` should be one of"),
    (dict(image_size=30), "`patch_size` should divide `image_size`"),
    (dict(hidden_size=0), "`hidden_size` should be an int >= 2, got 0"),
    (dict(num_layers=1.5), "`num_layers` should be an int"),
    (dict(seed=-1), "`seed` should be an int >= 0, got -1"),
    (dict(texts="a red circle"), "`texts` should be a list of strings"),
    (dict(texts=["ok", 3]), r"`texts\[1\]` should be a string"),
    (dict(out_dir=3), "`out_dir` should be a path"),
])
def test_bad_arguments(kwargs, match, tmp_path):
    args = dict(arch="clip", out_dir=tmp_path / "x")
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        build_tiny_dual_encoder(args.pop("arch"), args.pop("out_dir"), **args)
    assert not (tmp_path / "x").exists()


def test_foils_are_false_variants():
    rng = np.random.default_rng(0)
    caption = "there is a big red circle on the left of a blue square."
    foils = make_foils(caption, rng)
    assert set(foils) == {"colour", "shape", "size", "left_right"}
    for kind, foil in foils.items():
        assert foil != caption and len(foil.split()) == len(caption.split()), kind
    assert "right" in foils["left_right"] and "small" in foils["size"]
    colour = set(foils["colour"].split()) - set(caption.split())
    assert colour and colour.isdisjoint({"red", "blue"})
    assert make_foils("a blue square below a red circle.", rng)["above_below"] == "a blue square above a red circle."
    with pytest.raises(TypeError, match="`caption` should be a string"):
        make_foils(None, rng)


def test_train_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="`batch_size` should be between 2 and `n_images`"):
        train_shapes_encoder(tmp_path, n_images=8, batch_size=16)
    with pytest.raises(ValueError, match="`eval_seed` should differ from `seed`"):
        train_shapes_encoder(tmp_path, seed=1, eval_seed=1)
    with pytest.raises(ValueError, match="`lr` should be a positive finite number"):
        train_shapes_encoder(tmp_path, lr=0)


@pytest.mark.slow
def test_quick_training_writes_a_loadable_checkpoint_and_its_record(tmp_path):
    info = train_shapes_encoder(tmp_path / "enc", **QUICK)
    record = json.loads((tmp_path / "enc" / "training.json").read_text())
    assert record == json.loads(json.dumps(info))
    assert record["steps"] == QUICK["steps"] and record["config"]["n_images"] == QUICK["n_images"]
    curve = [point["loss"] for point in record["loss_curve"]]
    assert len(curve) >= 2 and curve[-1] < curve[0]
    assert set(record["eval"]["foil_accuracy"]) == set(FOIL_KINDS)
    for key in ("i2t_R@1", "i2t_R@5", "t2i_R@1", "t2i_R@5"):
        assert 0.0 <= record["eval"][key] <= 1.0
    model = transformers.AutoModel.from_pretrained(tmp_path / "enc")
    processor = transformers.AutoProcessor.from_pretrained(tmp_path / "enc")
    with torch.no_grad():
        f = model.get_text_features(**processor(text=["a red circle."], padding="max_length", truncation=True,
                                                max_length=record["config"]["max_length"], return_tensors="pt"))
    assert getattr(f, "pooler_output", f).shape[-1] == QUICK["embed_dim"]
    # trained weights were saved, not the initial ones
    fresh = build_tiny_dual_encoder("clip", tmp_path / "fresh", hidden_size=QUICK["hidden_size"],
                                    projection_dim=QUICK["embed_dim"], num_layers=QUICK["num_layers"], patch_size=4,
                                    max_length=record["config"]["max_length"])
    initial = transformers.AutoModel.from_pretrained(fresh)
    assert not torch.equal(initial.vision_model.embeddings.patch_embedding.weight,
                           model.vision_model.embeddings.patch_embedding.weight)
