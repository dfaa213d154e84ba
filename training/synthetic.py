"""Procedurally generated products: unlimited instance-discrimination data that no licence restricts.

Each synthetic product is a garment silhouette (T-shirt, long-sleeved top, dress, skirt, trousers,
shorts) filled with a random design (plain, stripes, checks, dots, colour blocks, a mottled print)
and sometimes a chest print (a logo shape or a short word), lightly shaded, on a studio backdrop,
the way catalog photos are. Nothing is copied from anywhere: the same seed gives the same products.
Training treats each one as its own instance (it only matches its own augmented views).
"""
from __future__ import annotations

import colorsys
import random
import string

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SUPERSAMPLE = 2
KINDS = ("tshirt", "longsleeve", "dress", "skirt", "trousers", "shorts")


def _colour(rng: random.Random) -> tuple:
    """A garment colour: mostly muted or dark, sometimes saturated, sometimes near white/black."""
    r = rng.random()
    if r < 0.15:
        v = rng.uniform(0.05, 0.2) if rng.random() < 0.5 else rng.uniform(0.85, 0.97)
        return tuple(int(255 * (v + rng.uniform(-0.03, 0.03))) for _ in range(3))
    h = rng.random()
    s = rng.uniform(0.55, 0.95) if r < 0.45 else rng.uniform(0.1, 0.5)
    v = rng.uniform(0.25, 0.95)
    return tuple(int(255 * c) for c in colorsys.hsv_to_rgb(h, s, v))


def _polygons(kind: str, rng: random.Random, w: int) -> list:
    """Silhouette polygons in a w x w frame, with random proportions."""
    c = w / 2
    j = lambda a: a * rng.uniform(0.88, 1.12)  # noqa: E731
    if kind in ("tshirt", "longsleeve"):
        sh, top, bot = j(0.26 * w), j(0.14 * w), j(0.9 * w)
        waist = j(0.24 * w)
        body = [(c - sh, top), (c - 0.06 * w, top - 0.02 * w), (c + 0.06 * w, top - 0.02 * w), (c + sh, top),
                (c + waist, bot), (c - waist, bot)]
        if kind == "tshirt":
            sl = j(0.18 * w)
            left = [(c - sh, top), (c - sh - sl, top + 0.16 * w), (c - sh - sl * 0.55, top + 0.26 * w), (c - sh * 0.92, top + 0.2 * w)]
        else:
            left = [(c - sh, top), (c - sh - 0.16 * w, top + 0.62 * w), (c - sh - 0.06 * w, top + 0.66 * w), (c - sh * 0.9, top + 0.22 * w)]
        right = [(2 * c - x, y) for x, y in left]
        return [body, left, right]
    if kind == "dress":
        top, bot, sh, hem = j(0.1 * w), j(0.93 * w), j(0.17 * w), j(0.36 * w)
        waist_y = top + j(0.3 * w)
        return [[(c - sh, top), (c + sh, top), (c + sh * 0.8, waist_y), (c + hem, bot), (c - hem, bot), (c - sh * 0.8, waist_y)]]
    if kind == "skirt":
        top, bot, wa, hem = j(0.22 * w), j(0.82 * w), j(0.22 * w), j(0.38 * w)
        return [[(c - wa, top), (c + wa, top), (c + hem, bot), (c - hem, bot)]]
    leg = j(0.9 * w) if kind == "trousers" else j(0.5 * w)
    top, wa, gap = j(0.08 * w), j(0.24 * w), j(0.025 * w)
    crotch = top + j(0.28 * w)
    spread = rng.uniform(0.0, 0.06) * w
    left = [(c - wa, top), (c, top), (c - gap, crotch), (c - gap - 0.02 * w, leg), (c - wa - spread, leg)]
    right = [(2 * c - x, y) for x, y in left]
    return [left, right]


def _pattern(rng: random.Random, w: int) -> Image.Image:
    """A w x w design to fill the silhouette with."""
    base, other = _colour(rng), _colour(rng)
    img = Image.new("RGB", (w, w), base)
    d = ImageDraw.Draw(img)
    kind = rng.choices(["plain", "hstripes", "vstripes", "diagonal", "checks", "dots", "blocks", "mottled"],
                       [0.34, 0.14, 0.08, 0.06, 0.1, 0.1, 0.08, 0.1])[0]
    if kind in ("hstripes", "vstripes", "diagonal", "checks"):
        period = rng.randint(max(4, w // 40), max(6, w // 8))
        thick = max(2, int(period * rng.uniform(0.2, 0.6)))
        for o in range(-w, 2 * w, period):
            if kind in ("hstripes", "checks"):
                d.rectangle([0, o, w, o + thick], fill=other)
            if kind in ("vstripes", "checks"):
                d.rectangle([o, 0, o + thick, w], fill=other if kind == "vstripes" else _mix(other, base))
            if kind == "diagonal":
                d.polygon([(o, 0), (o + thick, 0), (o + thick + w, w), (o + w, w)], fill=other)
    elif kind == "dots":
        step = rng.randint(w // 24, w // 8)
        r = max(2, int(step * rng.uniform(0.15, 0.35)))
        for y in range(0, w, step):
            for x in range((y // step % 2) * step // 2, w, step):
                d.ellipse([x - r, y - r, x + r, y + r], fill=other)
    elif kind == "blocks":
        cut = int(w * rng.uniform(0.3, 0.7))
        if rng.random() < 0.5:
            d.rectangle([0, cut, w, w], fill=other)
        else:
            d.rectangle([0, 0, cut, w], fill=other)
    elif kind == "mottled":
        cells = rng.randint(3, 10)
        noise = np.random.default_rng(rng.randrange(1 << 30)).random((cells, cells))
        m = Image.fromarray((noise * 255).astype(np.uint8)).resize((w, w), Image.BICUBIC)
        img = Image.composite(Image.new("RGB", (w, w), other), img, m)
    return img


def _mix(a: tuple, b: tuple) -> tuple:
    return tuple((x + y) // 2 for x, y in zip(a, b))


def _chest_print(img: Image.Image, rng: random.Random, w: int, kind: str) -> None:
    """A logo shape or a short word where a print would sit."""
    d = ImageDraw.Draw(img)
    colour = _colour(rng)
    cx = w / 2 + rng.uniform(-0.08, 0.08) * w
    cy = w * (0.38 if kind in ("tshirt", "longsleeve", "dress") else 0.35)
    s = w * rng.uniform(0.05, 0.14)
    if rng.random() < 0.5:
        word = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(2, 6)))
        # PIL's built-in bitmap font (no font file needed), drawn small and scaled to the print size
        font = ImageFont.load_default()
        box = d.textbbox((0, 0), word, font=font)
        stamp = Image.new("L", (box[2] + 2, box[3] + 2), 0)
        ImageDraw.Draw(stamp).text((1, 1), word, fill=255, font=font)
        k = 2 * s / stamp.height
        stamp = stamp.resize((max(1, int(stamp.width * k)), max(1, int(stamp.height * k))), Image.BILINEAR)
        img.paste(Image.new("RGB", stamp.size, colour), (int(cx - stamp.width / 2), int(cy - stamp.height / 2)), stamp)
    else:
        shape = rng.choice(["circle", "square", "triangle", "ring"])
        bb = [cx - s, cy - s, cx + s, cy + s]
        if shape == "circle":
            d.ellipse(bb, fill=colour)
        elif shape == "square":
            d.rectangle(bb, fill=colour)
        elif shape == "triangle":
            d.polygon([(cx, cy - s), (cx + s, cy + s), (cx - s, cy + s)], fill=colour)
        else:
            d.ellipse(bb, outline=colour, width=max(2, int(s / 3)))


def render_product(seed: int, side: int) -> Image.Image:
    """One synthetic catalog photo, side x side RGB."""
    rng = random.Random(seed)
    w = side * SUPERSAMPLE
    kind = rng.choice(KINDS)
    grey = rng.uniform(0.9, 1.0)
    backdrop = tuple(int(255 * grey * rng.uniform(0.97, 1.0)) for _ in range(3))
    canvas = Image.new("RGB", (w, w), backdrop)
    mask = Image.new("L", (w, w), 0)
    md = ImageDraw.Draw(mask)
    for poly in _polygons(kind, rng, w):
        md.polygon(poly, fill=255)
    design = _pattern(rng, w)
    if rng.random() < 0.35 and kind != "trousers":
        _chest_print(design, rng, w, kind)
    # soft shading: a vertical light falloff and a few folds, so the product is not flat paint
    shade = np.linspace(rng.uniform(0.9, 1.05), rng.uniform(0.75, 0.95), w, dtype=np.float32)[:, None]
    folds = np.ones((w, w), np.float32)
    for _ in range(rng.randint(0, 4)):
        x = rng.uniform(0.2, 0.8) * w
        folds *= 1 - rng.uniform(0.05, 0.15) * np.exp(-((np.arange(w) - x) ** 2) / (2 * (w * 0.02) ** 2))[None, :]
    arr = np.asarray(design, np.float32) * (shade * folds)[..., None]
    design = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    # a faint drop shadow under the garment, as on a studio table
    shadow = mask.filter(ImageFilter.GaussianBlur(w / 60)).point(lambda v: int(v * 0.25))
    canvas = Image.composite(Image.new("RGB", (w, w), tuple(int(c * 0.8) for c in backdrop)), canvas,
                             shadow.transform((w, w), Image.AFFINE, (1, 0, -w / 80, 0, 1, -w / 80)))
    canvas = Image.composite(design, canvas, mask)
    # products are photographed at different sizes within the frame
    scale = rng.uniform(0.75, 1.0)
    small = canvas.resize((int(w * scale), int(w * scale)), Image.BICUBIC)
    framed = Image.new("RGB", (w, w), backdrop)
    framed.paste(small, ((w - small.width) // 2, (w - small.height) // 2))
    return framed.resize((side, side), Image.LANCZOS)


def synthetic_cache(count: int, side: int, seed: int) -> torch.Tensor:
    """uint8 [count,3,side,side] of synthetic products, in the layout of data.build_cache."""
    out = torch.empty((count, 3, side, side), dtype=torch.uint8)
    for i in range(count):
        img = render_product(seed * 1_000_003 + i, side)
        out[i] = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1)
    return out
