"""Photo-like exact-product queries made by recipes that neither training (training/augment.py)
nor the evaluation's own distortions (src/eval distortions, sharp) use: a second opinion on search
quality, written as a query CSV for `npm run eval -- --queries`.

    /usr/bin/python3 bench/photo_queries.py --catalog ../shared/datasets/myntra/styles.csv \
        --backgrounds ../shared/datasets/clothing-cc0 --count 300 --seed 11 --out tmp/queries-s11

Recipes (each at the strengths given, products drawn once per seed, the same product for every
recipe so that recipes compare on equal terms):
  scene     product cut from its studio backdrop, smaller, off-centre on a real photo background
            (a blurred crop of a clothing-cc0 validation photo), a soft shadow, uneven light
  phone     strong perspective and rotation, motion blur, vignette, colour temperature, noise
  closeup   a partial view: 35-65 % of the product, slightly out of focus
  lowres    a thumbnail or screenshot: downscaled to 48-96 px, blown up again, heavy JPEG, UI bars
  occluded  a hand or a tag in front: 1-3 skin-coloured or plain shapes over 10-30 % of it

The seed that picks products also seeds the recipes. Keep one seed for tuning and another, never
looked at while tuning, for the reported figures.
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import os
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

RECIPES = ("scene", "phone", "closeup", "lowres", "occluded")
SIDE = 320


def load(path: str) -> Image.Image:
    img = Image.open(path)
    img = img.convert("RGBA")
    bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
    return Image.alpha_composite(bg, img).convert("RGB")


def product_mask(img: Image.Image) -> Image.Image:
    """L mask of the product: not near-white, or enclosed by it (a flood fill from the border)."""
    a = np.asarray(img, dtype=np.int16)
    white = (a.min(2) >= 235) & ((a.max(2) - a.min(2)) <= 14)
    h, w = white.shape
    outside = np.zeros_like(white)
    stack = [(y, x) for x in range(w) for y in (0, h - 1)] + [(y, x) for y in range(h) for x in (0, w - 1)]
    while stack:
        y, x = stack.pop()
        if 0 <= y < h and 0 <= x < w and white[y, x] and not outside[y, x]:
            outside[y, x] = True
            stack.extend(((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)))
    mask = Image.fromarray(((~outside) * 255).astype(np.uint8), "L")
    if (~outside).mean() < 0.05:  # a white product on white: keep the whole frame
        mask = Image.new("L", img.size, 255)
    return mask.filter(ImageFilter.GaussianBlur(1.2))


def background(rng: random.Random, paths: list, size: int) -> Image.Image:
    if paths and rng.random() < 0.8:
        bg = load(rng.choice(paths))
        w, h = bg.size
        s = rng.uniform(0.35, 0.8)
        cw, ch = int(w * s), int(h * s)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        bg = bg.crop((x, y, x + cw, y + ch)).resize((size, size), Image.BILINEAR)
        return bg.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 5)))
    base = np.array([rng.uniform(70, 230) for _ in range(3)])
    yy, xx = np.mgrid[0:size, 0:size] / size
    grad = (xx * rng.uniform(-50, 50) + yy * rng.uniform(-50, 50))[..., None]
    return Image.fromarray(np.clip(base + grad + np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, 6, (size, size, 3)), 0, 255).astype(np.uint8))


def light(img: Image.Image, rng: random.Random, s: float) -> Image.Image:
    """Uneven light: a gradient and a vignette, then a colour temperature shift."""
    a = np.asarray(img, dtype=np.float32)
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    ang = rng.uniform(0, 2 * math.pi)
    t = ((xx / w - 0.5) * math.cos(ang) + (yy / h - 0.5) * math.sin(ang))
    gain = 1 + t * rng.uniform(0.2, 0.6) * s
    r = np.sqrt((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2)
    gain = gain * (1 - rng.uniform(0.1, 0.45) * s * (r / 0.7) ** 2)
    warm = rng.uniform(-1, 1) * 0.18 * s
    temp = np.array([1 + warm, 1, 1 - warm], dtype=np.float32)
    a = a * gain[..., None] * temp * rng.uniform(1 - 0.35 * s, 1 + 0.15 * s)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def perspective(img: Image.Image, rng: random.Random, amount: float, fill) -> Image.Image:
    w, h = img.size
    d = lambda: rng.uniform(-amount, amount)  # noqa: E731
    quad = [(d() * w, d() * h), (d() * w, h + d() * h), (w + d() * w, h + d() * h), (w + d() * w, d() * h)]
    flat = [c for p in quad for c in p]
    return img.transform((w, h), Image.QUAD, flat, Image.BILINEAR, fillcolor=fill)


def motion_blur(img: Image.Image, rng: random.Random, length: int) -> Image.Image:
    """A shaken hand: the mean of `length` copies shifted along one direction."""
    if length < 2:
        return img
    a = np.asarray(img, dtype=np.float32)
    ang = rng.uniform(0, math.pi)
    pad = length
    padded = np.pad(a, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    h, w = a.shape[:2]
    acc = np.zeros_like(a)
    for i in range(length):
        t = i - (length - 1) / 2
        dy, dx = int(round(t * math.sin(ang))), int(round(t * math.cos(ang)))
        acc += padded[pad + dy:pad + dy + h, pad + dx:pad + dx + w]
    return Image.fromarray(np.clip(acc / length, 0, 255).astype(np.uint8))


def noise(img: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    a = np.asarray(img, dtype=np.float32)
    a = a + np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, sigma, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def jpeg(img: Image.Image, q: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=int(q))
    return buf.getvalue()


def scene(img, rng, s, bgs):
    img = img.resize((SIDE, SIDE), Image.BILINEAR)
    mask = product_mask(img)
    canvas = background(rng, bgs, SIDE)
    scale = 1 - rng.uniform(0.2, 0.55) * s
    pw = int(SIDE * scale)
    prod, pm = img.resize((pw, pw), Image.BILINEAR), mask.resize((pw, pw), Image.BILINEAR)
    x, y = rng.randint(0, SIDE - pw), rng.randint(0, SIDE - pw)
    shadow = Image.new("RGB", (pw, pw), (0, 0, 0))
    sm = pm.filter(ImageFilter.GaussianBlur(6)).point(lambda v: int(v * 0.45))
    off = int(rng.uniform(3, 10))
    canvas.paste(shadow, (min(SIDE - pw, x + off), min(SIDE - pw, y + off)), sm)
    canvas.paste(prod, (x, y), pm)
    canvas = perspective(canvas, rng, 0.06 * s, tuple(int(v) for v in np.asarray(canvas).mean((0, 1))))
    canvas = light(canvas, rng, s)
    return jpeg(noise(canvas, rng, 3 * s), rng.randint(55, 85))


def phone(img, rng, s, _bgs):
    img = img.resize((SIDE, SIDE), Image.BILINEAR)
    fill = tuple(int(rng.uniform(90, 220)) for _ in range(3))
    img = img.rotate(rng.uniform(-25, 25) * s, Image.BILINEAR, expand=False, fillcolor=fill)
    img = perspective(img, rng, 0.16 * s, fill)
    img = motion_blur(img, rng, int(round(rng.uniform(1, 9) * s)))
    img = light(img, rng, s)
    img = noise(img, rng, rng.uniform(2, 9) * s)
    return jpeg(img, rng.randint(int(80 - 40 * s), 90))


def closeup(img, rng, s, _bgs):
    img = img.resize((SIDE, SIDE), Image.BILINEAR)
    box = product_mask(img).getbbox() or (0, 0, SIDE, SIDE)
    bw, bh = box[2] - box[0], box[3] - box[1]
    frac = math.sqrt(1 - rng.uniform(0.35, 0.65) * s)
    cw, ch = max(16, int(bw * frac)), max(16, int(bh * frac))
    x = box[0] + rng.randint(0, max(0, bw - cw))
    y = box[1] + rng.randint(0, max(0, bh - ch))
    img = img.crop((x, y, x + cw, y + ch)).resize((SIDE, SIDE), Image.BICUBIC)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.8) * s))
    return jpeg(light(img, rng, 0.5 * s), rng.randint(60, 90))


def lowres(img, rng, s, _bgs):
    small = int(round(96 - 48 * s * rng.random()))
    img = img.resize((small, small), Image.BOX)
    img = Image.open(io.BytesIO(jpeg(img, rng.randint(int(70 - 45 * s), 75)))).convert("RGB")
    img = img.resize((SIDE, SIDE), rng.choice([Image.NEAREST, Image.BILINEAR]))
    if rng.random() < 0.7:  # a screenshot: UI bars above and below
        bar = int(SIDE * rng.uniform(0.08, 0.2) * s)
        colour = rng.choice([(255, 255, 255), (20, 20, 20), (240, 240, 245)])
        canvas = Image.new("RGB", (SIDE, SIDE + 2 * bar), colour)
        canvas.paste(img, (0, bar))
        draw = ImageDraw.Draw(canvas)
        for _ in range(3):
            x = rng.randint(5, SIDE - 60)
            draw.rectangle((x, bar // 3, x + rng.randint(20, 60), bar // 3 + max(2, bar // 4)), fill=(120, 120, 130))
        img = canvas
    return jpeg(img, rng.randint(int(75 - 40 * s), 80))


def occluded(img, rng, s, _bgs):
    img = img.resize((SIDE, SIDE), Image.BILINEAR).copy()
    draw = ImageDraw.Draw(img)
    box = product_mask(img).getbbox() or (0, 0, SIDE, SIDE)
    area = (box[2] - box[0]) * (box[3] - box[1])
    target = rng.uniform(0.1, 0.3) * s * area
    for _ in range(rng.randint(1, 3)):
        a = math.sqrt(target / rng.randint(1, 3))
        w, h = a * rng.uniform(0.6, 1.6), a * rng.uniform(0.6, 1.6)
        cx = rng.uniform(box[0], box[2])
        cy = rng.uniform(box[1], box[3])
        if rng.random() < 0.6:  # a hand or an arm
            skin = rng.choice([(224, 172, 140), (198, 134, 96), (141, 85, 56), (241, 194, 167)])
            draw.ellipse((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), fill=skin)
        else:  # a tag, a bag, another object
            draw.rectangle((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), fill=tuple(rng.randint(0, 255) for _ in range(3)))
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    return jpeg(light(img, rng, 0.6 * s), rng.randint(60, 90))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--catalog", required=True, help="CSV with path and id columns (paths relative to it)")
    p.add_argument("--backgrounds", default=None, help="clothing-cc0 folder: validation photos as backgrounds")
    p.add_argument("--count", type=int, default=300, help="products per recipe and strength")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--strengths", default="0.5,1", help="comma-separated strengths in (0, 1]")
    p.add_argument("--recipes", default=",".join(RECIPES))
    p.add_argument("--out", required=True, help="folder for the images and queries.csv (+ one CSV per recipe)")
    a = p.parse_args(argv)
    base = os.path.dirname(os.path.abspath(a.catalog))
    with open(a.catalog, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("path") and r.get("id")]
    rows = [r for r in rows if os.path.exists(os.path.join(base, r["path"]))]
    bgs = []
    if a.backgrounds:
        with open(os.path.join(a.backgrounds, "labels.csv"), newline="") as fh:
            bgs = [os.path.join(a.backgrounds, r["path"]) for r in csv.DictReader(fh) if r.get("split") == "validation"]
    picked = random.Random(a.seed).sample(rows, min(a.count, len(rows)))
    recipes = [r for r in a.recipes.split(",") if r]
    strengths = [float(x) for x in a.strengths.split(",")]
    os.makedirs(a.out, exist_ok=True)
    fns = {"scene": scene, "phone": phone, "closeup": closeup, "lowres": lowres, "occluded": occluded}
    every = []
    for recipe in recipes:
        for s in strengths:
            name = f"{recipe}-s{s:g}"
            folder = os.path.join(a.out, name)
            os.makedirs(folder, exist_ok=True)
            lines = []
            for i, row in enumerate(picked):
                rng = random.Random(f"{a.seed}/{name}/{i}")
                data = fns[recipe](load(os.path.join(base, row["path"])), rng, s, bgs)
                rel = f"{name}/{i:04d}.jpg"
                with open(os.path.join(a.out, rel), "wb") as fh:
                    fh.write(data)
                lines.append((rel, row["id"]))
            with open(os.path.join(a.out, f"{name}.csv"), "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["query_path", "expected_id"])
                w.writerows(lines)
            every.extend(lines)
            print(f"{name}: {len(lines)} queries", flush=True)
    with open(os.path.join(a.out, "queries.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["query_path", "expected_id"])
        w.writerows(every)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
