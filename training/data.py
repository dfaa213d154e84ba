"""Finding training images and decoding them once into an in-memory uint8 cache."""
from __future__ import annotations

import csv
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import torch
from PIL import Image

from .preprocess import load_rgb, resize_fill

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


@dataclass
class ImageSet:
    paths: List[str]
    labels: Optional[List[str]]  # None: unsupervised
    description: str
    label_names: List[str] = field(default_factory=list)
    # optional catalog fields per image ('category', 'colour' columns of the labels CSV)
    attrs: Dict[str, List[str]] = field(default_factory=dict)

    def label_ids(self) -> Optional[torch.Tensor]:
        """Label index per image; unlabeled rows get unique negative ids (they only match themselves)."""
        if self.labels is None:
            return None
        names = sorted({l for l in self.labels if l})
        self.label_names = names
        index = {n: i for i, n in enumerate(names)}
        ids = [index[l] if l else -(i + 1) for i, l in enumerate(self.labels)]
        return torch.tensor(ids, dtype=torch.long)

    def attr_ids(self) -> List[torch.Tensor]:
        """One id tensor per catalog field that has at least two distinct values (empty = unique id)."""
        out = []
        for values in self.attrs.values():
            names = sorted({v for v in values if v})
            if len(names) < 2:
                continue
            index = {n: i for i, n in enumerate(names)}
            out.append(torch.tensor([index[v] if v else -(i + 1) for i, v in enumerate(values)], dtype=torch.long))
        return out


ATTR_COLUMNS = ("category", "colour")
# Measuring adaptation on the shared store catalog is allowed (training --measure-only); shipping
# a model trained on it never is.
ALLOW_STORE_CATALOG = False


def _guard(path: str) -> None:
    # The shared store catalog must never be used for training (see ARCHITECTURE.md).
    norm = os.path.realpath(path).replace(os.sep, "/")
    if "/datasets/myntra" in norm and not ALLOW_STORE_CATALOG:
        sys.exit(f"training: refusing to train on the store catalog data set ({path}); use clothing-cc0 or your own images")


def scan_images(images_dir: str) -> ImageSet:
    """Every image file under images_dir, recursively, in sorted order (unsupervised)."""
    _guard(images_dir)
    found = []
    for root, dirs, files in os.walk(images_dir, followlinks=True):
        dirs.sort()
        for name in sorted(files):
            if name.startswith("."):
                continue
            if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
                found.append(os.path.join(root, name))
    return ImageSet(found, None, f"all {len(found)} images under {os.path.basename(os.path.normpath(images_dir))}/ (unlabeled)")


def read_labels(images_dir: str, labels_csv: str, split: Optional[str]) -> ImageSet:
    """Rows of a CSV with columns path,label[,split]; paths relative to images_dir (or the CSV's folder)."""
    _guard(images_dir)
    _guard(labels_csv)
    base_csv = os.path.dirname(os.path.abspath(labels_csv))
    paths, labels, missing = [], [], 0
    attrs: Dict[str, List[str]] = {}
    with open(labels_csv, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = set(reader.fieldnames or [])
        if "path" not in cols:
            sys.exit(f"training: {labels_csv} needs a 'path' column (and 'label', optionally 'split')")
        attrs = {c: [] for c in ATTR_COLUMNS if c in cols}
        use_split = split if (split and split.lower() != "all" and "split" in cols) else None
        for row in reader:
            if use_split is not None and (row.get("split") or "").strip() != use_split:
                continue
            rel = row["path"].strip()
            full = rel if os.path.isabs(rel) else os.path.join(images_dir, rel)
            if not os.path.exists(full) and not os.path.isabs(rel):
                full = os.path.join(base_csv, rel)
            if not os.path.exists(full):
                missing += 1
                continue
            _guard(full)
            paths.append(full)
            labels.append((row.get("label") or "").strip())
            for c, values in attrs.items():
                values.append((row.get(c) or "").strip())
    if missing:
        print(f"training: {missing} rows of {labels_csv} point at missing files; skipped", file=sys.stderr)
    which = f"split '{use_split}'" if use_split else "all rows"
    name = os.path.basename(os.path.normpath(images_dir))
    n_labels = len({l for l in labels if l})
    desc = f"{name}: {len(paths)} labeled images ({which} of {os.path.basename(labels_csv)}, {n_labels} labels)"
    if attrs:
        desc += f", fields {'/'.join(attrs)}"
    return ImageSet(paths, labels, desc, attrs=attrs)


def build_cache(paths: List[str], side: int, log_every: int = 500) -> torch.Tensor:
    """Decode every image once (EXIF, alpha->white, RGB), resize to side x side: uint8 [N,3,side,side]."""
    out = torch.empty((len(paths), 3, side, side), dtype=torch.uint8)
    t0 = time.time()
    for i, p in enumerate(paths):
        img = Image.open(p)
        if img.format == "JPEG":  # let libjpeg decode at a reduced scale (still >= side): much faster
            img.draft("RGB", (side, side))
        img = load_rgb(img)
        arr = np.asarray(resize_fill(img, side))
        out[i] = torch.from_numpy(arr.copy()).permute(2, 0, 1)
        if log_every and (i + 1) % log_every == 0:
            print(f"  cached {i + 1}/{len(paths)} images ({time.time() - t0:.0f}s)", flush=True)
    return out
