"""Instruction templates and correction targets of ICCC training samples.

A captioning sample asks for a caption of the image; a correction sample shows a (corrupted)
caption and asks what is wrong with it. Each kind has several phrasings, one drawn per row. The
caption is put into a correction template by plain substitution of ``{caption}``, so it appears in
the prompt exactly as the corruption engine produced it (quotes, braces and spacing included).

Targets (``target_format``):

* ``"statement"``: the paper's correction statement, as :attr:`iccc.Corruption.target` defines it:
  ``"cat" should be "dog".`` for a replacement, ``"red" and "blue" are swapped.`` for a swap;
* ``"caption"``: the corrected caption (the original caption, stripped of surrounding whitespace);
* ``"both"``: the statement, then ``Corrected caption:`` and the caption.

A correction prompt holding an uncorrupted caption (``p_correct_caption``) has the target
:data:`NO_ERROR_TARGET` (``"statement"``), the caption itself (``"caption"``), or both.
"""

from __future__ import annotations

from typing import Sequence

#: The placeholder a correction template must contain.
PLACEHOLDER = "{caption}"

#: Captioning instructions (one drawn per row).
CAPTION_PROMPTS: tuple[str, ...] = (
    "Write a short caption for this image.",
    "Describe the image in one sentence.",
    "A short image caption:",
    "What does this picture show? Answer in one sentence.",
    "Give a brief description of the image.",
)

#: Correction instructions (one drawn per row). Neutral phrasings: they do not promise an error,
#: so the same templates serve "the caption is correct" samples.
CORRECTION_PROMPTS: tuple[str, ...] = (
    'Caption: "{caption}"\nIs this caption right about the image? If not, say what should be corrected.',
    "Compare the caption with the image and correct any mistake.\nCaption: {caption}",
    'Does the caption "{caption}" match the image? If something is wrong, point it out.',
    "Here is a caption of the image: {caption}\nFind the error in the caption, if there is one, and correct it.",
)

TARGET_FORMATS = ("statement", "caption", "both")
#: The paper's target: the correction statement.
DEFAULT_TARGET_FORMAT = TARGET_FORMATS[0]

#: Target of a correction prompt whose caption is correct (``target_format="statement"``).
NO_ERROR_TARGET = "The caption is correct."
#: How ``target_format="both"`` joins the statement and the corrected caption.
BOTH_TEMPLATE = "{statement} Corrected caption: {caption}"


def check_prompts(name: str, templates, *, placeholder: bool) -> tuple[str, ...]:
    """Validate a sequence of templates; ``placeholder``: whether each must contain ``{caption}``.

    >>> check_prompts("caption_prompts", ["Describe the image."], placeholder=False)
    ('Describe the image.',)
    >>> check_prompts("correction_prompts", ["Fix it."], placeholder=True)
    Traceback (most recent call last):
    ...
    ValueError: `correction_prompts` template 0 should contain '{caption}' (where the caption goes), got 'Fix it.'.
    """
    if isinstance(templates, str) or not isinstance(templates, Sequence):
        raise TypeError(
            f"`{name}` should be a list or tuple of template strings, got {type(templates).__name__}: {templates!r:.80}."
        )
    if not templates:
        raise ValueError(f"`{name}` should hold at least one template, got an empty {type(templates).__name__}.")
    for k, t in enumerate(templates):
        if not isinstance(t, str) or not t.strip():
            raise ValueError(f"`{name}` template {k} should be a non-empty string, got {t!r}.")
        if placeholder and PLACEHOLDER not in t:
            raise ValueError(
                f"`{name}` template {k} should contain {PLACEHOLDER!r} (where the caption goes), got {t!r}."
            )
        if not placeholder and PLACEHOLDER in t:
            raise ValueError(
                f"`{name}` template {k} should not contain {PLACEHOLDER!r} (a captioning prompt must not show "
                f"the answer), got {t!r}."
            )
    return tuple(templates)


def check_target_format(value) -> str:
    if value not in TARGET_FORMATS:
        raise ValueError(
            f"Unknown `target_format` {value!r}. Available: {', '.join(repr(f) for f in TARGET_FORMATS)}."
        )
    return value


def fill(template: str, caption: str) -> str:
    """Put ``caption`` into a correction template, exactly as it is.

    >>> fill('Is "{caption}" right?', 'A {weird} "cat".')
    'Is "A {weird} "cat"." right?'
    """
    return template.replace(PLACEHOLDER, caption)


def correction_target(statement: str | None, caption: str, target_format: str) -> str:
    """The target of a correction sample; ``statement`` ``None`` means the caption is correct.

    >>> correction_target('"cat" should be "dog".', "A dog on a bed. ", "both")
    '"cat" should be "dog". Corrected caption: A dog on a bed.'
    >>> correction_target(None, "A dog.", "statement")
    'The caption is correct.'
    """
    statement = NO_ERROR_TARGET if statement is None else statement
    if target_format == "statement":
        return statement
    if target_format == "caption":
        return caption.strip()
    return BOTH_TEMPLATE.format(statement=statement, caption=caption.strip())
