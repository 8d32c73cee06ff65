"""iccc.vision.embedder: TransformersEmbedder on tiny CLIP and SigLIP checkpoints, embed_dataset, ``iccc embed``."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
datasets = pytest.importorskip("datasets")
from PIL import Image  # noqa: E402

from iccc.vision.embedder import (  # noqa: E402
    Embedder,
    TransformersEmbedder,
    _features,
    embed_dataset,
    load_image,
)

pytestmark = pytest.mark.slow

CAPTIONS = ["a red circle", "a blue square on the left of a green triangle", "two small yellow squares", ""]


def _png(color=(200, 30, 30), size=16) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    from iccc.train.synthetic import make_shapes_dataset
    from iccc.vision.tiny import build_tiny_dual_encoder

    texts = list(make_shapes_dataset(6, image_size=16)["caption"]) + CAPTIONS
    root = tmp_path_factory.mktemp("dual")
    return {arch: build_tiny_dual_encoder(arch, root / arch, texts=texts, image_size=32, seed=0)
            for arch in ("clip", "siglip")}


@pytest.fixture(scope="module", params=["clip", "siglip"])
def embedder(request, checkpoints):
    return TransformersEmbedder(checkpoints[request.param], device="cpu", batch_size=4)


@pytest.fixture(scope="module")
def clip(checkpoints):
    return TransformersEmbedder(checkpoints["clip"], device="cpu", batch_size=4)


@pytest.fixture()
def image_files(tmp_path):
    good = tmp_path / "good.png"
    good.write_bytes(_png())
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(_png()[:40])  # a PNG header and then nothing
    return {"good": good, "corrupt": corrupt, "missing": tmp_path / "nope.png"}


# ---------------------------------------------------------------------------- encoding
def test_shapes_dtype_and_unit_rows(embedder):
    assert isinstance(embedder, Embedder)
    assert embedder.dim == 32 and embedder.name.endswith(("clip", "siglip"))
    texts = embedder.encode_texts(CAPTIONS)
    images = embedder.encode_images([Image.new("RGB", (20, 12), (0, 0, 255)), Image.new("L", (8, 8), 128)])
    for array, n in ((texts, len(CAPTIONS)), (images, 2)):
        assert array.dtype == np.float32 and array.shape == (n, embedder.dim)
        np.testing.assert_allclose(np.linalg.norm(array, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(texts[0], texts[1])  # different texts, different vectors


def test_a_text_has_the_same_vector_in_any_batch(embedder):
    alone = embedder.encode_texts(["a red circle"])[0]
    others = ["a much longer caption that goes on and on about a scene full of shapes and colours", "x", "",
              "a red circle", "two small yellow squares"]
    for batch_size in (1, 2, 5):
        in_batch = embedder.encode_texts(others, batch_size=batch_size)[3]
        np.testing.assert_allclose(in_batch, alone, atol=1e-6)
    np.testing.assert_array_equal(embedder.encode_texts(["a red circle"])[0], alone)  # deterministic


def test_texts_longer_than_max_length_are_truncated(clip):
    long = " ".join(["red circle"] * 200)
    assert clip.encode_texts([long]).shape == (1, clip.dim)
    assert clip.max_length <= 77


def test_every_image_form_gives_the_same_vector(embedder, image_files):
    path = image_files["good"]
    data = path.read_bytes()
    forms = [Image.open(path), path, str(path), data, {"bytes": data, "path": None}, {"bytes": None, "path": str(path)},
             np.asarray(Image.open(path).convert("RGB"))]
    vectors = embedder.encode_images(forms, batch_size=3)
    assert vectors.shape == (len(forms), embedder.dim)
    np.testing.assert_allclose(vectors, np.repeat(vectors[:1], len(forms), axis=0), atol=1e-6)
    other = embedder.encode_images([_png((10, 200, 10))])[0]
    assert not np.allclose(other, vectors[0], atol=1e-4)


def test_load_image_statuses(image_files):
    image, status = load_image(image_files["good"])
    assert status == "ok" and image.mode == "RGB" and image.size == (16, 16)
    assert load_image(image_files["corrupt"]) == (None, "unreadable")
    assert load_image(image_files["missing"]) == (None, "missing")
    assert load_image(str(image_files["missing"].parent)) == (None, "unreadable")  # a folder
    assert load_image(None) == (None, "missing")
    assert load_image("") == (None, "missing")
    assert load_image({"bytes": None, "path": None}) == (None, "missing")
    assert load_image(b"") == (None, "unreadable")
    assert load_image({"bytes": b"garbage", "path": "x.png"}) == (None, "unreadable")
    with pytest.raises(TypeError, match="An image should be a PIL image.*got int"):
        load_image(3)


def test_bad_images_raise_naming_the_position(clip, image_files):
    good = image_files["good"]
    with pytest.raises(ValueError, match=r"`images` item 2 is unreadable \(path '.*corrupt.png'\)"):
        clip.encode_images([good, good, image_files["corrupt"]], batch_size=2)
    with pytest.raises(ValueError, match="`images` item 1 is missing"):
        clip.encode_images([good, image_files["missing"]])
    with pytest.raises(TypeError, match="`images` item 0: An image should be"):
        clip.encode_images([1.5])


def test_empty_inputs(embedder):
    assert embedder.encode_texts([]).shape == (0, embedder.dim)
    assert embedder.encode_images([]).shape == (0, embedder.dim)
    assert embedder.encode_texts([]).dtype == np.float32


def test_bad_arguments(clip, checkpoints, tmp_path):
    with pytest.raises(ValueError, match="`batch_size` should be a positive int, got 0"):
        clip.encode_texts(["a"], batch_size=0)
    with pytest.raises(ValueError, match="`batch_size` should be a positive int, got 2.5"):
        clip.encode_images([], batch_size=2.5)
    with pytest.raises(TypeError, match="`texts` should be a list of strings, got str.*pass a list of one"):
        clip.encode_texts("a red circle")
    with pytest.raises(TypeError, match="`texts` should hold strings, but item 2 is NoneType"):
        clip.encode_texts(["a", "b", None])
    with pytest.raises(TypeError, match="`images` should be a list of images, got str"):
        clip.encode_images("x.png")
    with pytest.raises(TypeError, match="`progress` should be True or False, got 'yes'"):
        clip.encode_texts(["a"], progress="yes")
    path = checkpoints["clip"]
    with pytest.raises(ValueError, match="`batch_size` should be a positive int, got -1"):
        TransformersEmbedder(path, batch_size=-1)
    with pytest.raises(ValueError, match="`dtype` should be one of 'float32', 'float16', 'bfloat16', 'auto', got 'f64'"):
        TransformersEmbedder(path, dtype="f64")
    with pytest.raises(ValueError, match="`device` should be 'auto', 'cpu'.*got 'tpu'"):
        TransformersEmbedder(path, device="tpu")
    with pytest.raises(ValueError, match="'float16' is not supported on the CPU.*bfloat16"):
        TransformersEmbedder(path, device="cpu", dtype="float16")
    with pytest.raises(ValueError, match="`max_length` should be at most"):
        TransformersEmbedder(path, device="cpu", max_length=10_000)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        TransformersEmbedder(tmp_path / "no-model")
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(ValueError, match="is a file"):
        TransformersEmbedder(tmp_path / "file.bin")
    with pytest.raises(ValueError, match="`processor` is required"):
        TransformersEmbedder(clip._model)
    with pytest.raises(TypeError, match="dual-encoder model with get_image_features"):
        TransformersEmbedder(object(), processor=clip._processor)


def test_half_precision_on_the_cpu_is_bfloat16(checkpoints):
    full = TransformersEmbedder(checkpoints["clip"], device="cpu")
    half = TransformersEmbedder(checkpoints["clip"], device="cpu", dtype="bfloat16")
    a, b = full.encode_texts(CAPTIONS), half.encode_texts(CAPTIONS)
    assert b.dtype == np.float32 and b.shape == a.shape
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(axis=1).min() > 0.95  # close to the float32 vectors
    assert "bfloat16" in repr(half)


def test_features_of_a_tensor_or_a_model_output():
    import torch
    from transformers.modeling_outputs import BaseModelOutputWithPooling

    x = torch.ones(2, 3)
    assert _features(x, "f") is x  # transformers 4: the projected features
    out = BaseModelOutputWithPooling(last_hidden_state=torch.zeros(2, 4, 5), pooler_output=x)
    assert _features(out, "f") is x  # transformers 5: pooler_output holds them
    with pytest.raises(ValueError, match=r"shape \(2, 4, 5\)"):
        _features(torch.zeros(2, 4, 5), "f")
    with pytest.raises(TypeError, match="holds no feature tensor"):
        _features(object(), "f")


# ---------------------------------------------------------------------------- pickling
def test_pickle_by_path_reloads_lazily(embedder):
    texts = embedder.encode_texts(CAPTIONS)
    images = embedder.encode_images([_png()])
    data = pickle.dumps(embedder)
    assert len(data) < 10_000  # the path and options, not the weights
    copy = pickle.loads(data)
    assert copy._model is None and copy.dim == embedder.dim and copy.name == embedder.name
    assert copy.encode_texts([]).shape == (0, embedder.dim)  # no load needed for that
    np.testing.assert_allclose(copy.encode_texts(CAPTIONS), texts, atol=1e-6)
    np.testing.assert_allclose(copy.encode_images([_png()]), images, atol=1e-6)
    assert copy._model is not None


def test_pickle_of_a_model_object_carries_the_weights(checkpoints):
    from transformers import AutoModel, AutoProcessor

    path = checkpoints["siglip"]
    embedder = TransformersEmbedder(AutoModel.from_pretrained(path), AutoProcessor.from_pretrained(path), device="cpu")
    assert embedder.name == str(path)
    copy = pickle.loads(pickle.dumps(embedder))
    np.testing.assert_allclose(copy.encode_texts(CAPTIONS), embedder.encode_texts(CAPTIONS), atol=1e-6)
    np.testing.assert_allclose(copy.encode_texts(CAPTIONS), TransformersEmbedder(path, device="cpu")
                               .encode_texts(CAPTIONS), atol=1e-6)


# ---------------------------------------------------------------------------- datasets
def test_embed_dataset_on_the_shapes_world(embedder):
    from iccc.train.synthetic import make_shapes_dataset

    ds = make_shapes_dataset(6, image_size=16)
    result = embed_dataset(ds, embedder, batch_size=4)
    assert result.images.ids == tuple(range(6)) and result.images.vectors.shape == (6, embedder.dim)
    assert result.texts.ids == tuple(range(18)) and result.texts.vectors.shape == (18, embedder.dim)
    assert result.captions == tuple(ds["caption"])
    assert result.image_of_text == tuple(ds["image_id"])
    assert result.model == embedder.name and not result.statuses
    assert result.meta["images_embedded"] == 6 and result.meta["texts"] == 18 and result.meta["missing"] == 0
    np.testing.assert_allclose(result.texts.vectors, embedder.encode_texts(list(ds["caption"])), atol=1e-6)
    firsts = [ds[3 * i]["image"] for i in range(6)]  # decoded PIL images of each image's first row
    np.testing.assert_allclose(result.images.vectors, embedder.encode_images(firsts), atol=1e-6)


def test_embed_dataset_turns_bad_images_into_statuses(clip, image_files):
    ds = datasets.Dataset.from_dict({
        "image": [str(image_files["good"]), str(image_files["good"]), str(image_files["corrupt"]),
                  str(image_files["missing"]), None],
        "caption": ["a red square", "red", "a broken picture", None, "no image"],
        "image_id": ["a", "a", "b", "c", "d"],
    })
    result = embed_dataset(ds, clip)
    assert result.images.ids == ("a",)
    assert dict(result.statuses) == {"b": "unreadable", "c": "missing", "d": "missing"}
    assert result.meta["unreadable"] == 1 and result.meta["missing"] == 2 and result.meta["empty_captions"] == 1
    assert result.captions == ("a red square", "red", "a broken picture", "", "no image")
    assert result.image_of_text == ("a", "a", "b", "c", "d")
    np.testing.assert_allclose(result.texts.vectors[3], clip.encode_texts([""])[0], atol=1e-6)


def test_embed_dataset_without_an_id_column_uses_row_numbers(clip, image_files):
    ds = datasets.Dataset.from_dict({"image": [str(image_files["good"])] * 2, "caption": ["a", "b"]})
    result = embed_dataset(ds, clip, texts=False)
    assert result.images.ids == (0, 1) and result.texts is None and result.meta["id_column"] is None
    only_texts = embed_dataset(ds, clip, images=False)
    assert only_texts.images is None and only_texts.image_of_text == (0, 1)


def test_embed_dataset_bad_arguments(clip):
    ds = datasets.Dataset.from_dict({"image": [None], "caption": ["a"], "image_id": [1]})
    with pytest.raises(TypeError, match=r"DatasetDict with splits \['train'\].*dataset\['train'\]"):
        embed_dataset(datasets.DatasetDict({"train": ds}), clip)
    with pytest.raises(TypeError, match="`dataset` should be a datasets.Dataset, got list"):
        embed_dataset([{"caption": "a"}], clip)
    with pytest.raises(TypeError, match="`embedder` should be an iccc.vision.Embedder"):
        embed_dataset(ds, "clip")
    with pytest.raises(KeyError, match="`caption_column` 'text' is not a column"):
        embed_dataset(ds, clip, caption_column="text")
    with pytest.raises(ValueError, match="nothing to embed"):
        embed_dataset(ds, clip, images=False, texts=False)
    with pytest.raises(ValueError, match="no rows"):
        embed_dataset(ds.select([]), clip)
    bad = datasets.Dataset.from_dict({"image": [None], "caption": [["a", "b"]], "image_id": [1]})
    with pytest.raises(TypeError, match="row 0 holds list"):
        embed_dataset(bad, clip, images=False)


# ---------------------------------------------------------------------------- iccc embed
def test_iccc_embed_end_to_end(checkpoints, tmp_path, capsys):
    from iccc.cli import main
    from iccc.train.synthetic import make_shapes_dataset
    from iccc.vision import load_embeddings

    folder = tmp_path / "shapes"
    make_shapes_dataset(6, image_size=16).save_to_disk(str(folder))
    out = tmp_path / "emb.npz"
    assert main(["embed", str(folder), "-o", str(out), "--model", str(checkpoints["clip"]), "--device", "cpu",
                 "--batch-size", "4", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "Embedded 6 of 6 images (0 missing, 0 unreadable) and 18 texts (dim 32)" in printed
    loaded = load_embeddings(out)
    assert loaded.images.ids == tuple(range(6)) and len(loaded.texts) == 18
    assert loaded.model == str(checkpoints["clip"]) and len(loaded.captions) == 18
    direct = embed_dataset(make_shapes_dataset(6, image_size=16), TransformersEmbedder(checkpoints["clip"],
                                                                                       device="cpu"))
    np.testing.assert_allclose(loaded.images.vectors, direct.images.vectors, atol=1e-6)

    # an existing output is refused without --overwrite; parquet, --limit and --no-texts
    assert main(["embed", str(folder), "-o", str(out), "--model", str(checkpoints["clip"]), "-q"]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert main(["embed", str(folder), "-o", str(out), "--model", str(checkpoints["clip"]), "-q", "--overwrite",
                 "--limit", "4", "--no-texts"]) == 0
    again = load_embeddings(out)
    assert again.images.ids == (0, 1) and again.texts is None


def test_iccc_build_reads_what_iccc_embed_wrote(checkpoints, tmp_path, capsys):
    from iccc.cli import main
    from iccc.train.synthetic import make_shapes_dataset

    folder = tmp_path / "shapes"
    make_shapes_dataset(12, image_size=16).save_to_disk(str(folder))
    emb = tmp_path / "emb.npz"
    assert main(["embed", str(folder), "-o", str(emb), "--model", str(checkpoints["clip"]), "--device", "cpu",
                 "-q"]) == 0
    outs = {}
    for name, extra in (("plain", []), ("vision", ["--vision", str(emb), "--vision-candidates", "2"]),
                        ("again", ["--vision", str(emb), "--vision-candidates", "2"])):
        out = tmp_path / name
        assert main(["build", str(folder), "-o", str(out), "--seed", "3", "-q", *extra]) == 0, capsys.readouterr()
        outs[name] = datasets.load_from_disk(str(out))
    capsys.readouterr()
    plain, vision, again = outs["plain"], outs["vision"], outs["again"]
    assert len(vision) == len(plain) == 36  # every caption row kept, with a status
    assert vision.to_list() == again.to_list()  # deterministic for one seed
    assert "possibly_true" in set(vision["build_status"]) or vision["target"] != plain["target"]
    # a recorded model that is not a local folder: the scene prior still works, without the check
    assert main(["build", str(folder), "-o", str(tmp_path / "nocheck"), "-q", "--vision", str(emb),
                 "--vision-model", "none"]) == 0
    assert main(["build", str(folder), "-o", str(tmp_path / "bad"), "-q", "--vision", str(tmp_path / "no.npz")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_iccc_embed_reports_missing_images(checkpoints, tmp_path, capsys):
    import json

    from iccc.cli import main
    from iccc.vision import load_embeddings

    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(_png())
    rows = [{"image": "a.png", "caption": "a red square"}, {"image": "b.png", "caption": "a lost square"}]
    src = tmp_path / "data.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "emb.parquet"
    assert main(["embed", str(src), "-o", str(out), "--model", str(checkpoints["siglip"]), "--device", "cpu",
                 "--image-root", str(tmp_path / "img"), "-q"]) == 0
    assert "Embedded 1 of 2 images (1 missing, 0 unreadable) and 2 texts" in capsys.readouterr().out
    loaded = load_embeddings(out)
    assert loaded.images.ids == ("a.png",) and dict(loaded.statuses) == {"b.png": "missing"}


def test_iccc_embed_refuses_a_bad_output_before_loading(tmp_path, capsys):
    from iccc.cli import main

    src = tmp_path / "data.jsonl"
    src.write_text('{"caption": "a dog"}\n', encoding="utf-8")
    # the model does not exist: the output is refused first, so the error is about -o
    for name, needle in (("emb.txt", "can be written as .npz or .parquet; got the suffix '.txt'"),
                         ("emb", "no suffix")):
        code = main(["embed", str(src), "-o", str(tmp_path / name), "--model", str(tmp_path / "no-model")])
        err = capsys.readouterr().err
        assert code == 2 and "iccc embed: error:" in err and needle in err, err
    code = main(["embed", str(src), "-o", str(tmp_path / "e.npz"), "--model", "m", "--no-images", "--no-texts"])
    assert code == 2 and "nothing to embed" in capsys.readouterr().err
    code = main(["embed", str(src), "-o", str(tmp_path / "e.npz"), "--model", str(tmp_path / "no-model"), "-q"])
    assert code == 2 and "no such folder" in capsys.readouterr().err
    assert not (tmp_path / "e.npz").exists()
