"""A deterministic synthetic image–caption set: coloured shapes in positions, with templated captions.

Each image holds one or two objects (a circle, square or triangle of some colour and size) on a white
background; two objects sit side by side or one above the other. Every image gets several captions
phrased differently ("a red circle to the left of a blue square.", "a blue square to the right of a red
circle.", "there is a large red circle on the left of a blue square."), so the sibling-caption guard of
the corruption engine has work to do ("large" and "big" name the same size). Everything a caption says
(colour, shape, size, left/right/above/below) is visible in the image and in nothing else, so correcting
a corrupted caption needs the image.

The set needs no download: images are drawn with PIL from a scene sampled by a ``numpy`` generator
seeded from ``(seed, image index)``, so a prefix of a larger set equals the smaller set and the same
``(n_images, seed, image_size)`` always gives byte-identical images and the same captions.

>>> scene = sample_scene(np.random.default_rng(0))
>>> draw_scene(scene, image_size=32).size
(32, 32)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Colour names and their RGB values (distinct hues, all clearly visible on white).
COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 160, 40),
    "blue": (30, 70, 225),
    "yellow": (235, 205, 0),
    "purple": (140, 40, 175),
    "orange": (250, 130, 0),
}
SHAPES = ("circle", "square", "triangle")
SIZES = ("small", "large")
#: Words a caption may use for each size (siblings then differ in wording, not in meaning).
SIZE_WORDS = {"small": ("small",), "large": ("large", "big")}
LAYOUTS = ("single", "horizontal", "vertical")

#: Caption templates per layout; ``{a}`` is the first object (left / top), ``{b}`` the second.
TEMPLATES = {
    "single": ("{a}.", "there is {a}.", "a picture of {a}."),
    "horizontal": ("{a} to the left of {b}.", "{b} to the right of {a}.", "there is {a} on the left of {b}."),
    "vertical": ("{a} above {b}.", "{b} below {a}.", "there is {b} under {a}."),
}

_BACKGROUND = (255, 255, 255)
_SUPERSAMPLE = 4  # draw large, then downsample: smooth edges at tiny sizes


@dataclass(frozen=True)
class ShapeObject:
    """One object of a scene: ``shape`` in :data:`SHAPES`, ``colour`` in :data:`COLOURS`, ``size`` in
    :data:`SIZES`, and its centre ``(x, y)`` as fractions of the image side."""

    shape: str
    colour: str
    size: str
    x: float
    y: float


@dataclass(frozen=True)
class Scene:
    """A layout in :data:`LAYOUTS` and its objects (left before right, top before bottom)."""

    layout: str
    objects: tuple[ShapeObject, ...]


def _phrase(obj: ShapeObject, rng: np.random.Generator, with_size: bool) -> str:
    words = [obj.colour, obj.shape]
    if with_size:
        choices = SIZE_WORDS[obj.size]
        words.insert(0, choices[int(rng.integers(len(choices)))])
    article = "an" if words[0][0] in "aeiou" else "a"
    return " ".join([article, *words])


def sample_scene(rng: np.random.Generator, *, max_objects: int = 2) -> Scene:
    """Draw a random scene: its layout, objects, colours, shapes, sizes and jittered positions.

    Two objects always differ in colour, so every caption names each one unambiguously.

    Args:
        rng: the generator all choices are drawn from.
        max_objects: 1 (single objects only) or 2.

    >>> s = sample_scene(np.random.default_rng(1))
    >>> s.layout in LAYOUTS and 1 <= len(s.objects) <= 2
    True
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng` should be a numpy.random.Generator, got {type(rng).__name__}.")
    if max_objects not in (1, 2):
        raise ValueError(f"`max_objects` should be 1 or 2, got {max_objects!r}.")
    layout = "single" if max_objects == 1 else LAYOUTS[int(rng.integers(len(LAYOUTS)))]
    n = 1 if layout == "single" else 2
    colour_names = list(COLOURS)
    colours = rng.choice(len(colour_names), size=n, replace=False)
    objects = []
    for i in range(n):
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        size = SIZES[int(rng.integers(len(SIZES)))]
        # Centre of the object's cell (whole image, left/right half or top/bottom half) plus a jitter
        # small enough that the object stays inside its cell.
        jitter = rng.uniform(-0.06, 0.06, size=2)
        if layout == "single":
            cx, cy = 0.5, 0.5
        elif layout == "horizontal":
            cx, cy = (0.25, 0.5) if i == 0 else (0.75, 0.5)
        else:
            cx, cy = (0.5, 0.25) if i == 0 else (0.5, 0.75)
        objects.append(ShapeObject(shape, colour_names[int(colours[i])], size,
                                   float(cx + jitter[0]), float(cy + jitter[1])))
    return Scene(layout, tuple(objects))


def _radius(obj: ShapeObject, layout: str) -> float:
    """Half the object's extent as a fraction of the image side (its cell is half the image for two)."""
    cell = 1.0 if layout == "single" else 0.5
    return cell * (0.36 if obj.size == "large" else 0.2)


def draw_scene(scene: Scene, *, image_size: int = 32):
    """Render ``scene`` as an RGB ``PIL.Image`` of ``image_size`` × ``image_size`` pixels.

    >>> img = draw_scene(Scene("single", (ShapeObject("circle", "red", "large", 0.5, 0.5),)), image_size=16)
    >>> img.getpixel((8, 8))
    (220, 30, 30)
    """
    from PIL import Image, ImageDraw

    if not isinstance(image_size, int) or isinstance(image_size, bool) or image_size < 8:
        raise ValueError(f"`image_size` should be an int >= 8, got {image_size!r}.")
    side = image_size * _SUPERSAMPLE
    img = Image.new("RGB", (side, side), _BACKGROUND)
    draw = ImageDraw.Draw(img)
    for obj in scene.objects:
        x, y, r = obj.x * side, obj.y * side, _radius(obj, scene.layout) * side
        fill = COLOURS[obj.colour]
        if obj.shape == "circle":
            draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)
        elif obj.shape == "square":
            s = r * 0.88  # a square of the same extent looks bigger than a circle; shrink a little
            draw.rectangle([x - s, y - s, x + s, y + s], fill=fill)
        else:
            draw.polygon([(x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)], fill=fill)
    return img.resize((image_size, image_size), Image.Resampling.BOX)


def describe_scene(scene: Scene, rng: np.random.Generator, *, n_captions: int = 3) -> list[str]:
    """``n_captions`` captions of ``scene``, each from a different template where possible.

    Sizes are named in about half the phrases, with "large" or "big" at random, so sibling captions
    differ in wording; every caption is true of the image.

    >>> obj = ShapeObject("square", "orange", "small", 0.5, 0.5)
    >>> describe_scene(Scene("single", (obj,)), np.random.default_rng(0), n_captions=1)[0].endswith("square.")
    True
    """
    if not isinstance(n_captions, int) or isinstance(n_captions, bool) or n_captions < 1:
        raise ValueError(f"`n_captions` should be a positive int, got {n_captions!r}.")
    templates = TEMPLATES[scene.layout]
    order = rng.permutation(len(templates))
    captions = []
    for k in range(n_captions):
        template = templates[int(order[k % len(templates)])]
        phrases = [_phrase(obj, rng, with_size=bool(rng.random() < 0.5)) for obj in scene.objects]
        text = template.format(a=phrases[0], b=phrases[1] if len(phrases) > 1 else "")
        captions.append(text)
    return captions


def make_shapes_dataset(n_images: int, *, seed: int = 0, image_size: int = 32, captions_per_image: int = 3,
                        max_objects: int = 2):
    """A ``datasets.Dataset`` of coloured-shape images with several templated captions each.

    One row per caption (``captions_per_image`` rows per image, in image order) with columns ``image``
    (a ``datasets.Image()`` feature, PNG bytes), ``caption`` and ``image_id`` (the image index, an int:
    pass it as the group column so corruptions avoid words of sibling captions).

    Image ``i`` depends only on ``(seed, i, image_size, captions_per_image, max_objects)``: the same
    arguments give an identical dataset, and the first ``k`` images of a larger set are the set of ``k``.

    Args:
        n_images: number of images (>= 1).
        seed: seed of the scene generator (an int >= 0).
        image_size: side of the square images in pixels (>= 8).
        captions_per_image: captions per image, phrased differently.
        max_objects: 1 or 2 objects per image at most.

    >>> ds = make_shapes_dataset(2, seed=0, image_size=16)   # doctest: +SKIP
    >>> ds.column_names                                       # doctest: +SKIP
    ['image', 'caption', 'image_id']
    """
    import io

    from datasets import Dataset, Features, Image, Value

    if not isinstance(n_images, int) or isinstance(n_images, bool) or n_images < 1:
        raise ValueError(f"`n_images` should be a positive int, got {n_images!r}.")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"`seed` should be an int >= 0, got {seed!r}.")
    if not isinstance(image_size, int) or isinstance(image_size, bool) or image_size < 8:
        raise ValueError(f"`image_size` should be an int >= 8, got {image_size!r}.")
    if not isinstance(captions_per_image, int) or isinstance(captions_per_image, bool) or captions_per_image < 1:
        raise ValueError(f"`captions_per_image` should be a positive int, got {captions_per_image!r}.")
    if max_objects not in (1, 2):
        raise ValueError(f"`max_objects` should be 1 or 2, got {max_objects!r}.")

    images, captions, image_ids = [], [], []
    for i in range(n_images):
        rng = np.random.default_rng([seed, i])
        scene = sample_scene(rng, max_objects=max_objects)
        buffer = io.BytesIO()
        draw_scene(scene, image_size=image_size).save(buffer, format="PNG")
        png = {"bytes": buffer.getvalue(), "path": None}
        for caption in describe_scene(scene, rng, n_captions=captions_per_image):
            images.append(png)
            captions.append(caption)
            image_ids.append(i)
    features = Features({"image": Image(), "caption": Value("string"), "image_id": Value("int64")})
    return Dataset.from_dict({"image": images, "caption": captions, "image_id": image_ids}, features=features)
