"""Fine-tuning entrypoint: tiny randomly initialised VLMs trained end to end on CPU (no downloads)."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os

import pytest

from iccc.train.config import TrainConfig
from iccc.train.evaluation import correction_scores, normalize_answer, wrong_span

HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None
QWEN_SKIP = pytest.mark.skipif(not HAS_TORCHVISION, reason="transformers 5 builds the Qwen2-VL processor with a "
                               "video processor that imports torchvision, which is not installed")
ARCHS = ["blip2", "instructblip", "llava", pytest.param("qwen2_vl", marks=QWEN_SKIP)]

COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220), "green": (30, 200, 30), "yellow": (230, 230, 20)}


def rows(n=4):
    """Correction and caption rows over plain coloured images (two of each task)."""
    from PIL import Image

    names = list(COLOURS)
    out = {"image": [], "prompt": [], "target": [], "task": []}
    for i in range(n):
        colour, wrong = names[i % len(names)], names[(i + 1) % len(names)]
        out["image"].append(Image.new("RGB", (24, 24), COLOURS[colour]))
        if i % 2 == 0:
            out["prompt"].append(f'Is this caption correct? "a {wrong} square" If not, say what is wrong.')
            out["target"].append(f'"{wrong}" should be "{colour}".')
            out["task"].append("correction")
        else:
            out["prompt"].append("Write a short caption for this image.")
            out["target"].append(f"a {colour} square")
            out["task"].append("caption")
    return out


def texts():
    data = rows(4)
    return data["prompt"] + data["target"]


@pytest.fixture(scope="module")
def torch_stack():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("peft")
    pytest.importorskip("accelerate")
    pytest.importorskip("PIL")
    pytest.importorskip("datasets")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="module")
def dataset(torch_stack):
    import datasets

    return datasets.Dataset.from_dict(rows(4)).cast_column("image", datasets.Image())


@pytest.fixture(scope="module")
def tiny(torch_stack, tmp_path_factory):
    """``tiny(arch)``: path of a tiny checkpoint, built once per module."""
    from iccc.train import build_tiny_model

    cache = {}

    def get(arch):
        if arch not in cache:
            cache[arch] = build_tiny_model(arch, tmp_path_factory.mktemp(f"tiny_{arch}"), texts=texts())
        return cache[arch]

    return get


def fast_config(model, data, out, **kw):
    base = dict(model=model, data=data, output_dir=str(out), max_steps=20, per_device_batch_size=4,
                learning_rate=1e-2, lora_dropout=0.0, full_finetune_modules=["lm_head"], logging_steps=5,
                save_steps=None, eval_batch_size=4, max_new_tokens=12)
    base.update(kw)
    return TrainConfig(**base)


def logits_of(model, processor, dataset):
    import torch

    from iccc.train.data import Collator
    from iccc.train.generation import to_device

    batch = Collator(processor)([{"image": r["image"], "prompt": r["prompt"], "target": r["target"]} for r in dataset])
    param = next(model.parameters())
    with torch.no_grad():
        return model(**to_device(batch, param.device, torch.float32)).logits.float()


# --------------------------------------------------------------------------------------- pure parts
def test_normalize_answer_and_span():
    assert normalize_answer('  "A Cat" should be "dog". ') == "a cat should be dog"
    assert normalize_answer("“cat” should be “dog”!") == "cat should be dog"
    assert wrong_span("The “black cat” should be “dog”.") == "black cat"
    assert wrong_span("it's a dog") is None
    assert correction_scores([], []) == {"correction_exact": None, "span_identified": None, "n_correction": 0,
                                         "n_span": 0}
    scores = correction_scores(['"cat" should be "dog"', '"dog" should be "cat"', "no idea"],
                               ['"cat" should be "dog".'] * 3)
    assert scores["correction_exact"] == pytest.approx(1 / 3)
    assert scores["span_identified"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("field, value, message", [
    ("lora_r", 0, "`lora_r` should be a positive int, got 0."),
    ("precision", "int8", "`precision` should be one of 'auto', 'bf16', 'fp16', 'fp32', got 'int8'."),
    ("lora_dropout", 1.0, "`lora_dropout` should be a number in [0, 1), got 1.0."),
    ("learning_rate", -1.0, "`learning_rate` should be a number in (0, inf], got -1.0."),
    ("max_steps", 0, "`max_steps` should be a positive int or None, got 0."),
    ("gradient_accumulation_steps", 1.5, "`gradient_accumulation_steps` should be a positive int, got 1.5."),
    ("eval_fraction", 1.0, "`eval_fraction` should be a number in [0, 1), got 1.0."),
    ("lr_scheduler", "step", "`lr_scheduler` should be one of 'linear', 'cosine', 'constant', got 'step'."),
    ("lora_target_modules", [], "`lora_target_modules` should be a non-empty list of module names, got []."),
    ("correction_template", "fix it", "`correction_template` should be a string containing '{caption}'"),
    ("model", "", "`model` should be a non-empty path or name, got ''."),
    ("lora", "yes", "`lora` should be True or False, got 'yes'."),
])
def test_config_validation_names_field_value_and_allowed(field, value, message):
    with pytest.raises(ValueError) as err:
        TrainConfig(**{"model": "m", "data": "d", "output_dir": "o", field: value})
    assert message in str(err.value)


def test_config_accepts_comma_lists_and_round_trips_json(tmp_path):
    cfg = TrainConfig(model="m", data="d", output_dir="o", lora_target_modules="q_proj, v_proj")
    assert cfg.lora_target_modules == ["q_proj", "v_proj"]
    cfg.save(tmp_path / "c.json")
    assert TrainConfig.load(tmp_path / "c.json") == cfg
    with pytest.raises(ValueError, match="`lora_target_modules` is set but `lora` is False"):
        TrainConfig(model="m", data="d", output_dir="o", lora=False, lora_target_modules=["q_proj"])


def test_every_config_field_has_help_and_a_cli_option():
    from iccc import _cli_train

    parser = argparse.ArgumentParser()
    _cli_train.add_arguments(parser)
    options = {a.dest: a for a in parser._actions}
    for f in dataclasses.fields(TrainConfig):
        assert f.metadata.get("help"), f.name
        assert f.name in options and f.metadata["help"].split(" (")[0][:30] in options[f.name].help
    args = parser.parse_args(["--model", "m", "--data", "d", "-o", "o", "--no-lora", "--max-steps", "7",
                              "--full-finetune-modules", "lm_head,language_projection", "--eval-split", "none"])
    cfg = _cli_train.config_from_args(args)
    assert (cfg.lora, cfg.max_steps, cfg.eval_split) == (False, 7, None)
    assert cfg.full_finetune_modules == ["lm_head", "language_projection"]
    assert cfg.lora_r == TrainConfig.__dataclass_fields__["lora_r"].default
    with pytest.raises(ValueError, match="Missing required option"):
        _cli_train.config_from_args(parser.parse_args(["--model", "m"]))


def test_default_correction_template_is_the_builders_first():
    from iccc.dataset import CORRECTION_PROMPTS
    from iccc.train.config import DEFAULT_CORRECTION_TEMPLATE

    # defined once: the builder's own object, also as TrainConfig's default
    assert DEFAULT_CORRECTION_TEMPLATE is CORRECTION_PROMPTS[0]
    assert TrainConfig.__dataclass_fields__["correction_template"].default is CORRECTION_PROMPTS[0]


def train_imports():
    """``{module: iccc.train modules it imports}``, function-level (lazy) imports included."""
    import ast
    import pathlib

    import iccc.train

    folder = pathlib.Path(iccc.train.__file__).parent
    names = {p.stem for p in folder.glob("*.py")} - {"__init__"}
    graph = {}
    for name in names:
        found = set()
        for node in ast.walk(ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found |= {node.module} if node.module else {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("iccc.train."):
                found.add(node.module.split(".")[2])
        graph[name] = found & names
    return graph


def test_train_modules_import_no_cycle():
    graph = train_imports()
    assert graph["inference"] >= {"generation"} and graph["evaluation"] >= {"generation", "inference"}

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    assert [m for m in sorted(graph) if m in reach(m)] == []


def test_import_stays_light():
    import subprocess
    import sys

    code = ("import sys, iccc, iccc.train, iccc._cli_train, iccc._cli_correct; "
            "print(sorted(m for m in ('torch', 'transformers', 'peft', 'accelerate', 'datasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------------------- label masks
def check_label_masks(processor, items, image_token):
    from iccc.train.data import Collator

    tok = processor.tokenizer
    image_id = tok.convert_tokens_to_ids(image_token)
    for side in ("right", "left"):
        collate = Collator(processor, padding_side=side)
        batch = collate(items)
        ids, labels, att = batch["input_ids"], batch["labels"], batch["attention_mask"]
        assert ids.shape == labels.shape == att.shape
        for i, item in enumerate(items):
            kept = labels[i] != -100
            # the answer is the target plus the end token (after the template's separator, if any)
            assert tok.decode(labels[i][kept]).strip() == item["target"] + tok.eos_token
            assert (labels[i][kept] == ids[i][kept]).all()
            assert (labels[i][att[i] == 0] == -100).all()                  # padding masked
            assert (ids[i] == image_id).sum() > 0                          # image tokens present ...
            assert (labels[i][ids[i] == image_id] == -100).all()           # ... and masked
            # everything before the first label is the prompt, exactly as encoded alone
            first = int(kept.nonzero()[0])
            prompt_only = collate([{**item, "target": None}])
            assert prompt_only["input_ids"][0][prompt_only["attention_mask"][0] == 1].tolist() == \
                ids[i][:first][att[i][:first] == 1].tolist()
            assert int(kept.sum()) == len(tok(collate.answer_text(item["prompt"], item["target"]),
                                              add_special_tokens=False)["input_ids"])
    # the answer is cut to fit max_length; the prompt is never cut
    prompt_len = int(Collator(processor)([{**items[0], "target": None}])["attention_mask"].sum())
    short = Collator(processor, max_length=prompt_len + 2)([items[0]])
    assert short["input_ids"].shape[1] == prompt_len + 2 and int((short["labels"] != -100).sum()) == 2
    whole = Collator(processor, max_length=3)([items[0]])
    assert whole["input_ids"].shape[1] == prompt_len and int((whole["labels"] != -100).sum()) == 0


@pytest.mark.parametrize("arch", ARCHS)
def test_labels_cover_exactly_the_answer(arch, tiny, dataset):
    from iccc.train.modeling import load_processor

    processor = load_processor(tiny(arch))
    items = [dataset[i] for i in range(len(dataset))]
    check_label_masks(processor, items, "<|image_pad|>" if arch == "qwen2_vl" else "<image>")


def qwen_processor_without_torchvision(tokenizer, image_processor):
    """A real ``Qwen2VLProcessor`` assembled without its video processor, whose module imports torchvision
    (the constructor insists on one); text and image processing are the class's own."""
    from transformers import Qwen2VLProcessor

    from iccc.train.tiny import QWEN_TEMPLATE

    processor = Qwen2VLProcessor.__new__(Qwen2VLProcessor)
    processor.image_processor, processor.tokenizer, processor.chat_template = image_processor, tokenizer, QWEN_TEMPLATE
    processor.image_token, processor.video_token = "<|image_pad|>", "<|video_pad|>"
    processor.image_token_id = tokenizer.convert_tokens_to_ids(processor.image_token)
    processor.video_token_id = tokenizer.convert_tokens_to_ids(processor.video_token)
    return processor


def test_qwen2_vl_masks_lora_training_and_reload(torch_stack, dataset, tmp_path):
    """Qwen2-VL (M-RoPE, image_grid_thw, mm_token_type_ids) through the collator, LoRA and peft reload,
    even where the processor cannot be loaded from disk (no torchvision)."""
    import torch
    from peft import PeftModel

    from iccc.train.data import Collator
    from iccc.train.modeling import default_lora_targets, prepare_trainable
    from iccc.train.tiny import qwen2_vl_parts

    model, tokenizer, image_processor = qwen2_vl_parts(texts())
    processor = qwen_processor_without_torchvision(tokenizer, image_processor)
    items = [dataset[i] for i in range(len(dataset))]
    check_label_masks(processor, items, "<|image_pad|>")
    assert all(t.startswith("model.language_model.") for t in default_lora_targets(model))
    model.save_pretrained(tmp_path / "base")
    model = prepare_trainable(model, fast_config(str(tmp_path / "base"), dataset, tmp_path / "o"))
    batch = Collator(processor)(items)
    assert {"pixel_values", "image_grid_thw", "mm_token_type_ids"} <= set(batch)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(15):
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    model.eval()
    model.save_pretrained(tmp_path / "adapter")
    from transformers import AutoModelForImageTextToText

    reloaded = PeftModel.from_pretrained(AutoModelForImageTextToText.from_pretrained(tmp_path / "base"),
                                         str(tmp_path / "adapter"))
    assert torch.equal(logits_of(reloaded, processor, dataset), logits_of(model, processor, dataset))
    from iccc.train.generation import generate_texts

    answers = generate_texts(model, processor, items[:2], batch_size=2, max_new_tokens=6)
    assert len(answers) == 2 and all(isinstance(a, str) for a in answers)


def test_chat_template_used_when_present(tiny):
    from iccc.train.data import Collator
    from iccc.train.modeling import load_processor

    llava = Collator(load_processor(tiny("llava")))
    assert llava.use_chat_template
    assert llava.prompt_text("hi") == "USER: <image>\nhi ASSISTANT:"
    assert llava.answer_text("hi", "a cat") == " a cat</s>"
    blip = Collator(load_processor(tiny("blip2")))
    assert not blip.use_chat_template
    assert blip.prompt_text("hi") == "hi" and blip.answer_text("hi", "a cat") == " a cat</s>"


def test_default_lora_targets_stay_in_the_language_model(tiny):
    from iccc.train.modeling import default_lora_targets, load_model, match_modules

    for arch in ("blip2", "llava"):
        model = load_model(tiny(arch))
        targets = default_lora_targets(model)
        assert targets and all("language_model" in t and t.endswith(("q_proj", "v_proj")) for t in targets)
    assert match_modules(model, ["lm_head", "*language_model.layers.0.mlp"]) == ["lm_head", "model.language_model.layers.0.mlp"]
    with pytest.raises(ValueError, match="matches no module"):
        match_modules(model, ["no_such_module"])
    from iccc.train.modeling import resolve_lora_targets

    assert resolve_lora_targets(model, ["o_proj"]) == [f"model.language_model.layers.{i}.self_attn.o_proj"
                                                       for i in range(2)]
    assert resolve_lora_targets(model, ["vision_tower.*.q_proj"]) == [
        "model.vision_tower.encoder.layers.0.self_attn.q_proj"]
    with pytest.raises(ValueError, match="`lora_target_modules` entry 'qq' matches no module"):
        resolve_lora_targets(model, ["qq"])


# --------------------------------------------------------------------------------------- training
@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_training_lowers_loss_and_adapters_reload_identically(arch, tiny, dataset, tmp_path):
    import torch

    from iccc.train import evaluate, load_trained, train

    out = tmp_path / "out"
    result = train(fast_config(tiny(arch), dataset, out, eval_fraction=0.0))
    assert result.global_step == result.total_steps == 20 and result.first_step == 0
    assert result.world_size == 1
    assert len(result.losses) == 20
    assert sum(result.losses[-3:]) / 3 < 0.5 * result.losses[0], result.losses
    assert os.path.exists(out / "adapter" / "adapter_config.json")
    saved = json.loads((out / "iccc_train_config.json").read_text())
    assert saved["max_steps"] == 20 and saved["model"] == tiny(arch)
    model, processor = load_trained(out, device="cpu")
    assert torch.equal(logits_of(model, processor, dataset), logits_of(result.model, result.processor, dataset))
    # the trained model differs from the base one
    from iccc.train.modeling import load_model

    base = load_model(tiny(arch))
    assert not torch.allclose(logits_of(base, processor, dataset), logits_of(model, processor, dataset))
    metrics = evaluate(model, dataset, processor=processor, batch_size=2, max_new_tokens=12)
    assert metrics["n_correction"] == 2 and metrics["n_caption"] == 2
    assert metrics["caption_loss"] < result.losses[0]


@pytest.mark.slow
def test_resume_continues_from_the_saved_step(tiny, dataset, tmp_path):
    from iccc.train import train

    common = dict(max_steps=6, per_device_batch_size=1, gradient_accumulation_steps=2, lr_scheduler="constant",
                  learning_rate=5e-3, save_steps=3, eval_split=None)
    full = train(fast_config(tiny("llava"), dataset, tmp_path / "a", **common))
    ckpt = tmp_path / "a" / "checkpoints" / "step-0000003"
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert state["global_step"] == 3 and (state["epoch"], state["micro_in_epoch"]) == (1, 2)
    resumed = train(fast_config(tiny("llava"), dataset, tmp_path / "b", resume=str(ckpt), **common))
    assert (resumed.first_step, resumed.global_step) == (3, 6)
    assert resumed.losses[:3] == full.losses[:3]                 # carried over from the checkpoint
    assert resumed.losses[3:] == pytest.approx(full.losses[3:], rel=1e-4, abs=1e-5)
    # "latest" picks the newest checkpoint; nothing is left to do at step 6
    again = train(fast_config(tiny("llava"), dataset, tmp_path / "a", resume="latest", **common))
    assert (again.first_step, again.global_step, len(again.losses)) == (6, 6, 6)
    assert sorted(os.listdir(tmp_path / "a" / "checkpoints")) == ["step-0000003", "step-0000006"]


@pytest.mark.slow
def test_merged_weights_and_full_finetuning(tiny, dataset, tmp_path):
    import torch
    from peft import PeftModel

    from iccc.train import load_trained, train
    from iccc.train.modeling import load_model

    result = train(fast_config(tiny("blip2"), dataset, tmp_path / "m", max_steps=4, merge_adapters=True))
    assert os.path.isdir(result.merged_dir)
    merged, processor = load_trained(tmp_path / "m", device="cpu")            # prefers OUTDIR/merged
    assert not isinstance(merged, PeftModel)
    adapter = PeftModel.from_pretrained(load_model(tiny("blip2")), str(tmp_path / "m" / "adapter"))
    assert torch.allclose(logits_of(merged, processor, dataset), logits_of(adapter, processor, dataset), atol=1e-4)

    full = train(fast_config(tiny("blip2"), dataset, tmp_path / "f", max_steps=3, lora=False,
                             full_finetune_modules=["language_projection"]))
    trained = {n for n, p in full.model.named_parameters() if p.requires_grad}
    assert trained == {"language_projection.weight", "language_projection.bias"}
    assert os.path.isdir(full.model_dir)
    reloaded, processor = load_trained(tmp_path / "f", device="cpu")
    assert torch.equal(logits_of(reloaded, processor, dataset), logits_of(full.model, processor, dataset))


@pytest.mark.slow
def test_cli_train_and_correct_end_to_end(tiny, dataset, tmp_path, capsys):
    import datasets

    from iccc import _cli_correct, _cli_train

    data_dir = tmp_path / "data"
    datasets.DatasetDict(train=dataset, validation=dataset).save_to_disk(str(data_dir))
    parser = argparse.ArgumentParser()
    _cli_train.add_arguments(parser)
    args = parser.parse_args(["--model", tiny("llava"), "--data", str(data_dir), "--output", str(tmp_path / "o"),
                              "--max-steps", "3", "--per-device-batch-size", "2", "--learning-rate", "5e-3",
                              "--max-new-tokens", "8", "--save-steps", "none"])
    assert _cli_train.run(args) == 0
    printed = capsys.readouterr().out
    assert "Trained steps 1-3 of 3" in printed and "correction_exact" in printed
    saved = json.loads((tmp_path / "o" / "eval.json").read_text())
    assert saved["n_correction"] == 2
    from iccc.train import evaluate

    again = evaluate(str(tmp_path / "o"), str(data_dir / "validation"), batch_size=4, max_new_tokens=8)
    assert {k: again[k] for k in ("correction_exact", "n_correction", "n_caption")} == \
        {k: saved[k] for k in ("correction_exact", "n_correction", "n_caption")}
    assert again["caption_loss"] == pytest.approx(saved["caption_loss"], rel=1e-5)
    image = tmp_path / "red.png"
    dataset[0]["image"].save(image)
    parser = argparse.ArgumentParser()
    _cli_correct.add_arguments(parser)
    args = parser.parse_args([str(image), "a blue square", "--model", str(tmp_path / "o"), "--max-new-tokens", "5",
                              "--device", "cpu"])
    assert _cli_correct.run(args) == 0
    assert capsys.readouterr().out.endswith("\n")


def test_train_rejects_bad_data(tiny, tmp_path):
    import datasets

    from iccc.train import train

    with pytest.raises(FileNotFoundError, match="`data` directory not found"):
        train(fast_config(tiny("llava"), str(tmp_path / "missing"), tmp_path / "o"))
    bad = datasets.Dataset.from_dict({"image": ["x.png"], "text": ["hi"]})
    with pytest.raises(KeyError, match=r"lacks column\(s\) \['prompt', 'target'\]"):
        train(fast_config(tiny("llava"), bad, tmp_path / "o"))


def test_images_open_from_every_stored_form(torch_stack, tmp_path):
    import datasets
    from PIL import Image

    from iccc.train.data import RowDataset, open_image

    Image.new("RGB", (8, 8), (1, 2, 3)).save(tmp_path / "a.png")
    raw = (tmp_path / "a.png").read_bytes()
    for value in (str(tmp_path / "a.png"), tmp_path / "a.png", raw, {"bytes": raw, "path": None},
                  {"bytes": None, "path": str(tmp_path / "a.png")}, Image.open(tmp_path / "a.png").convert("L")):
        image = open_image(value)
        assert image.mode == "RGB" and image.size == (8, 8)
    assert open_image("a.png", base_dir=str(tmp_path)).size == (8, 8)      # relative to the dataset directory
    with pytest.raises(FileNotFoundError, match="Image file not found"):
        open_image(str(tmp_path / "missing.png"))
    ds = datasets.Dataset.from_dict({"image": [str(tmp_path / "a.png"), None], "prompt": ["p", "p"],
                                     "target": ["t", None]})
    rows_ = RowDataset(ds)
    assert rows_[0]["image"].size == (8, 8)
    with pytest.raises(TypeError, match="Row 1: cannot open column 'image'"):
        rows_[1]


@pytest.mark.parametrize("name", ["rows.jsonl", "rows.ndjson.gz", "rows.json", "rows.parquet", "rows.csv.gz",
                                  "rows.tsv", "rows.tsv.gz", "saved"])
def test_load_data_reads_every_kind_a_build_writes(tmp_path, name):
    """Training reads whatever ``iccc build -o`` writes: the same table (``iccc.io.write_dataset``)."""
    from datasets import Dataset

    from iccc.io import write_dataset
    from iccc.train.data import load_data

    ds = Dataset.from_dict({"prompt": ["Caption:", "Fix:"], "target": ["A dog.", '"cat" should be "dog".']})
    path = write_dataset(ds, tmp_path / name)
    back = load_data(str(path))
    assert back["prompt"] == ds["prompt"] and back["target"] == ds["target"]


def test_load_data_names_what_it_reads(tmp_path):
    from iccc.train.data import load_data

    with pytest.raises(ValueError, match=r"`data` '.*rows\.txt': training data can be written as"):
        load_data(str(tmp_path / "rows.txt"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_data(str(tmp_path / "missing.jsonl"))
