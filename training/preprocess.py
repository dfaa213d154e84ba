"""The one preprocessing function shared by training, export and parity fixtures.

It mirrors what models/manifest.json promises and what the TypeScript side (sharp) does:
EXIF orientation -> flatten alpha onto white -> RGB -> resize to size x size ignoring aspect
ratio ("fill") with PIL's antialiased BILINEAR filter -> pixel/255 -> (x - mean) / std -> CHW.
"""
from __future__ import annotations

import os
from typing import Iterable, Union

import numpy as np
from PIL import Image, ImageOps

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
SCALE = 255.0

ImageSource = Union[str, os.PathLike, Image.Image]


def load_rgb(src: ImageSource) -> Image.Image:
    """Open an image, apply its EXIF orientation, flatten any alpha onto white, return RGB."""
    if isinstance(src, Image.Image):
        img = src
    else:
        img = Image.open(src)
        img.load()
    img = ImageOps.exif_transpose(img)
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("RGB")


def resize_fill(img: Image.Image, size: int) -> Image.Image:
    """Resize to size x size ignoring aspect ratio, antialiased bilinear (manifest: fill/bilinear)."""
    return img.resize((size, size), Image.BILINEAR)


def normalize(pixels: np.ndarray) -> np.ndarray:
    """uint8 HWC RGB -> float32 CHW, (x/255 - mean)/std."""
    x = pixels.astype(np.float32) / SCALE
    x = (x - np.asarray(MEAN, np.float32)) / np.asarray(STD, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)


def preprocess(src: ImageSource, size: int) -> np.ndarray:
    """Image (path or PIL) -> float32 array [3, size, size], exactly as the manifest defines."""
    return normalize(np.asarray(resize_fill(load_rgb(src), size)))


def preprocess_batch(sources: Iterable[ImageSource], size: int) -> np.ndarray:
    """Several images -> float32 NCHW [N, 3, size, size]."""
    return np.stack([preprocess(s, size) for s in sources])
