"""Tiny randomly initialised vision-language checkpoints for tests and demos (no download needed).

``build_tiny_model(arch, out_dir)`` writes a directory that ``AutoProcessor.from_pretrained`` and
``AutoModelForImageTextToText.from_pretrained`` load exactly like a hub checkpoint: a model built from a
transformers config with tiny sizes, a byte-level BPE tokenizer trained locally on the given texts
(so any text round-trips through encode/decode), an image processor and the architecture's processor,
with a chat template for the chat-style architectures (LLaVA, Qwen2-VL).
"""

from __future__ import annotations

import os

ARCHS = ("blip2", "instructblip", "llava", "qwen2_vl")

# Chat templates in the style of the real checkpoints; content may be a string or a list of parts.
_LLAVA_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}USER: {% else %}ASSISTANT: {% endif %}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}<image>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "{% if message['role'] == 'user' %} {% else %}</s>{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)
QWEN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_DEFAULT_TEXTS = (
    'a red circle on the left of a blue square. Is this caption correct? "cat" should be "dog".',
    "Describe the image. Write a short caption for this image. What is wrong in this caption?",
)


def _train_tokenizer(texts, special_tokens, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(special_tokens), initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    return tok


def qwen2_vl_parts(texts, *, vocab_size=600, hidden_size=32, num_layers=2, image_size=32, seed=0):
    """``(model, tokenizer, image_processor)`` of a tiny Qwen2-VL (the processor is assembled by the caller).

    Kept separate because transformers 5 cannot build a ``Qwen2VLProcessor`` without torchvision, while
    the model, tokenizer and PIL image processor need none.
    """
    import torch
    import transformers as tf

    torch.manual_seed(seed)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                "<|image_pad|>", "<|video_pad|>"]
    tok = _train_tokenizer(list(texts) + list(_DEFAULT_TEXTS), specials, vocab_size)
    tokenizer = tf.PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": specials[1:]})
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in specials}
    heads = max(hidden_size // 16, 1)
    half = hidden_size // heads // 2
    section = [half - 2 * (half // 3), half // 3, half // 3]  # temporal, height, width rotary sections
    rope = {"rope_type": "default", "mrope_section": section, "rope_theta": 10000.0}
    config = tf.Qwen2VLConfig(
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
            num_hidden_layers=num_layers, num_attention_heads=heads, num_key_value_heads=heads,
            max_position_embeddings=1024, rope_scaling={"type": "mrope", "mrope_section": section},
            rope_parameters=rope, tie_word_embeddings=False, bos_token_id=None,
            eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
        ),
        vision_config=dict(depth=1, embed_dim=hidden_size, hidden_size=hidden_size, num_heads=heads, mlp_ratio=2,
                           patch_size=8, spatial_merge_size=2, temporal_patch_size=2, in_channels=3),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    model = tf.Qwen2VLForConditionalGeneration(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    pixels = image_size * image_size
    kwargs = dict(patch_size=8, merge_size=2, temporal_patch_size=2, min_pixels=pixels, max_pixels=pixels,
                  size={"shortest_edge": pixels, "longest_edge": pixels})
    try:
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

        image_processor = Qwen2VLImageProcessorPil(**kwargs)
    except ImportError:  # older transformers: one class
        image_processor = tf.Qwen2VLImageProcessor(**kwargs)
    return model, tokenizer, image_processor


def build_tiny_model(arch: str, out_dir, *, texts=(), image_size: int = 32, seed: int = 0, vocab_size: int = 600,
                     hidden_size: int = 32, num_layers: int = 2) -> str:
    """Write a tiny randomly initialised ``arch`` checkpoint (model + processor) to ``out_dir``.

    Args:
        arch: one of ``"blip2"``, ``"instructblip"``, ``"llava"``, ``"qwen2_vl"``.
        out_dir: directory to write (created; existing files are overwritten).
        texts: texts to train the byte-level BPE tokenizer on (prompts, captions, targets); any text
            still encodes (byte fallback), the texts only make tokens shorter.
        image_size: square input size of the image processor (a multiple of 16).
        seed: seed of the random weights.
        vocab_size: BPE vocabulary size (at most; small corpora give fewer merges).
        hidden_size: width of the language model and the vision tower.
        num_layers: layers of the language model (the vision tower and Q-Former get one).

    Returns:
        ``out_dir`` as a string.

    Example:
        >>> import tempfile
        >>> path = build_tiny_model("llava", tempfile.mkdtemp(), texts=["a red circle"])  # doctest: +SKIP
    """
    if arch not in ARCHS:
        raise ValueError(f"Unknown `arch` {arch!r}. Available: {', '.join(map(repr, ARCHS))}.")
    if not isinstance(image_size, int) or image_size < 16 or image_size % 16:
        raise ValueError(f"`image_size` should be a positive multiple of 16, got {image_size!r}.")
    if isinstance(texts, str):
        raise TypeError("`texts` should be a list of strings, got a single string.")
    for name, value in (("vocab_size", vocab_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` should be a positive int, got {value!r}.")
    if hidden_size % 16:
        raise ValueError(f"`hidden_size` should be a multiple of 16, got {hidden_size!r}.")

    import torch
    import transformers as tf

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    corpus = [t for t in texts if isinstance(t, str)] + list(_DEFAULT_TEXTS)
    torch.manual_seed(seed)

    if arch == "qwen2_vl":
        import importlib.util

        if importlib.util.find_spec("torchvision") is None:
            raise ImportError("The Qwen2-VL processor of transformers 5 needs torchvision (its video processor "
                              "imports it); install torchvision to build or load a Qwen2-VL checkpoint.")
        model, tokenizer, image_processor = qwen2_vl_parts(corpus, vocab_size=vocab_size, hidden_size=hidden_size,
                                                           num_layers=num_layers, image_size=image_size, seed=seed)
        from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

        pixels = image_size * image_size
        video_processor = Qwen2VLVideoProcessor(patch_size=8, merge_size=2, temporal_patch_size=2,
                                                min_pixels=pixels, max_pixels=pixels,
                                                size={"shortest_edge": pixels, "longest_edge": pixels})
        processor = tf.Qwen2VLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                        video_processor=video_processor, chat_template=QWEN_TEMPLATE)
    else:
        specials = ["<pad>", "<s>", "</s>", "<unk>", "<image>"]
        tok = _train_tokenizer(corpus, specials, vocab_size)
        tokenizer = tf.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<s>",
                                               eos_token="</s>", unk_token="<unk>")
        tokenizer.add_special_tokens({"additional_special_tokens": ["<image>"]})
        ids = {t: tokenizer.convert_tokens_to_ids(t) for t in specials}
        heads = max(hidden_size // 16, 1)
        vision = dict(hidden_size=hidden_size, intermediate_size=2 * hidden_size, num_hidden_layers=1,
                      num_attention_heads=heads, image_size=image_size, patch_size=8)
        if arch == "llava":
            text = tf.LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                                  num_hidden_layers=num_layers, num_attention_heads=heads, num_key_value_heads=heads,
                                  max_position_embeddings=1024, pad_token_id=ids["<pad>"], bos_token_id=ids["<s>"],
                                  eos_token_id=ids["</s>"], tie_word_embeddings=False)
            config = tf.LlavaConfig(vision_config=tf.CLIPVisionConfig(**vision, projection_dim=hidden_size),
                                    text_config=text, image_token_index=ids["<image>"], vision_feature_layer=-1,
                                    vision_feature_select_strategy="default", projector_hidden_act="gelu")
            model = tf.LlavaForConditionalGeneration(config)
            image_processor = tf.CLIPImageProcessor(size={"shortest_edge": image_size},
                                                    crop_size={"height": image_size, "width": image_size})
            processor = tf.LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=8,
                                          vision_feature_select_strategy="default", num_additional_image_tokens=1,
                                          chat_template=_LLAVA_TEMPLATE)
        else:
            num_query_tokens = 4
            text = tf.OPTConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, ffn_dim=2 * hidden_size,
                                num_hidden_layers=num_layers, num_attention_heads=heads, word_embed_proj_dim=hidden_size,
                                max_position_embeddings=1024, pad_token_id=ids["<pad>"], bos_token_id=ids["<s>"],
                                eos_token_id=ids["</s>"], tie_word_embeddings=True)
            qformer = dict(vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=1,
                           num_attention_heads=heads, intermediate_size=2 * hidden_size,
                           encoder_hidden_size=hidden_size, max_position_embeddings=512, pad_token_id=ids["<pad>"])
            image_processor = tf.BlipImageProcessor(size={"height": image_size, "width": image_size})
            if arch == "blip2":
                config = tf.Blip2Config(vision_config=vision, qformer_config=qformer, text_config=text.to_dict(),
                                        num_query_tokens=num_query_tokens, image_token_index=ids["<image>"])
                model = tf.Blip2ForConditionalGeneration(config)
                processor = tf.Blip2Processor(image_processor=image_processor, tokenizer=tokenizer,
                                              num_query_tokens=num_query_tokens)
            else:
                config = tf.InstructBlipConfig(vision_config=vision, qformer_config=qformer, text_config=text.to_dict(),
                                               num_query_tokens=num_query_tokens, image_token_index=ids["<image>"])
                model = tf.InstructBlipForConditionalGeneration(config)
                qformer_tokenizer = tf.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>",
                                                               unk_token="<unk>")
                processor = tf.InstructBlipProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                                     qformer_tokenizer=qformer_tokenizer,
                                                     num_query_tokens=num_query_tokens)
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return out_dir
