"""Batch-wise augmentations that imitate a shopper's photo of a product, in plain torch.

Input: uint8 cache images [B,3,K,K] (K ~ 1.5 x size). Output: normalised float [B,3,S,S].
One projective warp per image (random resized crop or zoom-out, small rotation, perspective,
horizontal flip) via grid_sample, the uncovered area filled with another background (a plain
light colour, another photo of the batch, or a random texture), then colour cast / brightness /
contrast / saturation, blur, noise and, for a fraction, a real JPEG encode/decode round trip.
`strength` in [0,1] per image scales how far each augmentation goes (0: nearly clean).
"""
from __future__ import annotations

import io
import math
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .preprocess import MEAN, STD


def _u(g: torch.Generator, n: int, lo, hi) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g)


def normalize_batch(x: torch.Tensor) -> torch.Tensor:
    """float [B,3,H,W] in 0..1 -> (x - mean) / std."""
    mean = torch.tensor(MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def clean_batch(images: torch.Tensor, size: int) -> torch.Tensor:
    """Un-augmented view of cached images: resize to size (antialiased bilinear) and normalise."""
    x = images.float() / 255.0
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return normalize_batch(x.clamp(0, 1))


# Geometry ranges: "classic" is the 1.0.0 recipe; "photo" adds what a phone photo of a product does
# to it beyond that: steeper angles, the product small in a larger scene, stronger rotation.
GEOMETRY = {
    "classic": dict(rotate=12, persp=0.12, zoom_p=0.35, zoom_max=1.9),
    "photo": dict(rotate=25, persp=0.2, zoom_p=0.5, zoom_max=2.6),
}


def _homographies(g: torch.Generator, b: int, strength: torch.Tensor, recipe: str = "classic") -> torch.Tensor:
    """3x3 maps from output coords ([-1,1]^2) to source coords, per image."""
    geo = GEOMETRY[recipe]
    s = strength
    # random resized crop: area fraction and aspect ratio
    area = 1.0 - (0.7 * s) * torch.rand(b, generator=g)
    log_r = (torch.rand(b, generator=g) * 2 - 1) * math.log(4 / 3) * s
    sx = torch.sqrt(area * torch.exp(log_r)).clamp(max=1.0)
    sy = torch.sqrt(area / torch.exp(log_r)).clamp(max=1.0)
    # zoom out: the product becomes smaller, surrounded by another background
    zoom = torch.rand(b, generator=g) < geo["zoom_p"] * s
    z = 1.15 + (geo["zoom_max"] - 1.15) * torch.rand(b, generator=g)
    zj = torch.exp((torch.rand(b, generator=g) * 2 - 1) * 0.1)
    sx = torch.where(zoom, z * zj, sx)
    sy = torch.where(zoom, z / zj, sy)
    # centre: anywhere the crop fits (or, zoomed out, anywhere the photo stays inside)
    cx = (torch.rand(b, generator=g) * 2 - 1) * (1 - sx).abs()
    cy = (torch.rand(b, generator=g) * 2 - 1) * (1 - sy).abs()
    theta = (torch.rand(b, generator=g) * 2 - 1) * math.radians(geo["rotate"]) * s
    flip = torch.where(torch.rand(b, generator=g) < 0.5, -1.0, 1.0)
    pg = (torch.rand(b, generator=g) * 2 - 1) * geo["persp"] * s
    ph = (torch.rand(b, generator=g) * 2 - 1) * geo["persp"] * s
    cos, sin = torch.cos(theta), torch.sin(theta)
    m = torch.zeros(b, 3, 3)
    m[:, 0, 0] = cos * sx * flip
    m[:, 0, 1] = -sin * sy
    m[:, 1, 0] = sin * sx * flip
    m[:, 1, 1] = cos * sy
    m[:, 0, 2] = cx
    m[:, 1, 2] = cy
    m[:, 2, 2] = 1
    p = torch.eye(3).repeat(b, 1, 1)
    p[:, 2, 0] = pg
    p[:, 2, 1] = ph
    return m @ p


def _warp(x: torch.Tensor, h: torch.Tensor, out: int, supersample: int = 1) -> tuple:
    """Sample x [B,3,K,K] through homographies h at out x out (optionally supersampled, then pooled)."""
    b = x.shape[0]
    hi = out * supersample
    lin = (torch.arange(hi, device=x.device, dtype=torch.float32) + 0.5) / hi * 2 - 1
    yy, xx = torch.meshgrid(lin, lin, indexing="ij")
    pts = torch.stack([xx, yy, torch.ones_like(xx)], -1).view(1, -1, 3)  # [1,P,3]
    src = pts @ h.to(x.device).transpose(1, 2)  # [B,P,3]
    w = src[..., 2:3].clamp(min=1e-3)
    grid = (src[..., :2] / w).view(b, hi, hi, 2)
    sampled = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    mask = (grid.abs() <= 1).all(-1).unsqueeze(1).to(x.dtype)  # inside the photo
    if supersample > 1:
        sampled = F.avg_pool2d(sampled, supersample)
        mask = F.avg_pool2d(mask, supersample)
    return sampled * mask, mask


def _backgrounds(g: torch.Generator, x: torch.Tensor, out: int) -> torch.Tensor:
    """Per image: a plain light colour, another photo of the batch, or a smooth random texture."""
    b, dev = x.shape[0], x.device
    kind = torch.rand(b, generator=g)
    plain = (0.75 + 0.25 * torch.rand(b, 1, 1, 1, generator=g)) * (0.92 + 0.08 * torch.rand(b, 3, 1, 1, generator=g))
    plain = plain.to(dev).expand(b, 3, out, out)
    shift = 1 + int(torch.randint(0, max(1, b - 1), (1,), generator=g)) if b > 1 else 0
    other = F.interpolate(torch.roll(x, shift, 0).float() / 255.0, size=(out, out), mode="bilinear", align_corners=False)
    other = torch.flip(other, dims=[3])
    cells = int(torch.randint(2, 9, (1,), generator=g))
    tex = torch.rand(b, 3, cells, cells, generator=g).to(dev)
    tex = F.interpolate(tex, size=(out, out), mode="bilinear", align_corners=False)
    tex = tex.mean(1, keepdim=True) + 0.5 * (tex - tex.mean(1, keepdim=True))  # muted colours
    tex = (tex + 0.06 * torch.randn(b, 1, out, out, generator=g).to(dev)).clamp(0, 1)
    k = kind.to(dev).view(b, 1, 1, 1)
    return torch.where(k < 0.3, plain, torch.where(k < 0.65, other, tex))


def _colour(g: torch.Generator, x: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
    b, dev = x.shape[0], x.device
    s = strength.view(b, 1, 1, 1)
    on = (torch.rand(b, generator=g) < 0.85).float().view(b, 1, 1, 1)
    s = (s * on).to(dev)
    bright = 1 + (torch.rand(b, 1, 1, 1, generator=g).to(dev) * 2 - 1) * 0.3 * s
    contrast = 1 + (torch.rand(b, 1, 1, 1, generator=g).to(dev) * 2 - 1) * 0.3 * s
    sat = 1 + (torch.rand(b, 1, 1, 1, generator=g).to(dev) * 2 - 1) * 0.5 * s
    cast = 1 + (torch.rand(b, 3, 1, 1, generator=g).to(dev) * 2 - 1) * 0.12 * s
    gray = (x * torch.tensor([0.299, 0.587, 0.114], device=dev).view(1, 3, 1, 1)).sum(1, keepdim=True)
    to_gray = (torch.rand(b, 1, 1, 1, generator=g) < 0.05 * strength.view(b, 1, 1, 1)).to(dev)
    sat = torch.where(to_gray, torch.zeros_like(sat), sat)
    x = gray + (x - gray) * sat
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = mean + (x - mean) * contrast
    x = x * bright * cast
    return x.clamp(0, 1)


def _blur(g: torch.Generator, x: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
    b, c, hgt, wid = x.shape
    on = torch.rand(b, generator=g) < 0.35 * strength
    if not bool(on.any()):
        return x
    sigma = (0.4 + 1.1 * torch.rand(b, generator=g)).clamp(min=1e-3)
    r = 3
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k1 = torch.exp(-(t.view(1, -1) ** 2) / (2 * sigma.view(-1, 1) ** 2))
    k1 = torch.where(on.view(-1, 1), k1, (t.view(1, -1) == 0).float())
    k1 = k1 / k1.sum(1, keepdim=True)
    k2 = (k1.view(b, -1, 1) * k1.view(b, 1, -1)).to(x.device)  # [B,7,7]
    weight = k2.repeat_interleave(c, 0).unsqueeze(1)  # [B*3,1,7,7]
    y = F.conv2d(F.pad(x.reshape(1, b * c, hgt, wid), (r, r, r, r), mode="reflect"), weight, groups=b * c)
    return y.view(b, c, hgt, wid)


def _jpeg(g: torch.Generator, x: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
    b = x.shape[0]
    on = torch.rand(b, generator=g) < 0.35 * strength
    quality = torch.randint(20, 90, (b,), generator=g)
    idx = torch.nonzero(on).flatten().tolist()
    if not idx:
        return x
    out = x.clone()
    arr = (x[idx].detach().cpu().clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    for j, i in enumerate(idx):
        buf = io.BytesIO()
        Image.fromarray(arr[j]).save(buf, format="JPEG", quality=int(quality[i]))
        buf.seek(0)
        dec = np.asarray(Image.open(buf).convert("RGB"), dtype=np.float32) / 255.0
        out[i] = torch.from_numpy(dec).permute(2, 0, 1).to(x.device)
    return out


def _light(g: torch.Generator, x: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
    """Uneven light: a linear gradient across the frame and a vignette, then a warm/cool shift."""
    b, _, hgt, wid = x.shape
    dev = x.device
    s = strength.view(b, 1, 1, 1)
    on = (torch.rand(b, 1, 1, 1, generator=g) < 0.6).float() * s
    lin = (torch.arange(hgt, dtype=torch.float32) + 0.5) / hgt - 0.5
    yy, xx = lin.view(1, 1, -1, 1), (torch.arange(wid, dtype=torch.float32).view(1, 1, 1, -1) + 0.5) / wid - 0.5
    ang = torch.rand(b, 1, 1, 1, generator=g) * 2 * math.pi
    t = xx * torch.cos(ang) + yy * torch.sin(ang)
    gain = 1 + t * (0.2 + 0.5 * torch.rand(b, 1, 1, 1, generator=g)) * on
    gain = gain * (1 - (0.1 + 0.4 * torch.rand(b, 1, 1, 1, generator=g)) * on * (xx ** 2 + yy ** 2) / 0.5)
    warm = (torch.rand(b, 1, 1, 1, generator=g) * 2 - 1) * 0.15 * on
    temp = torch.cat([1 + warm, torch.ones_like(warm), 1 - warm], 1)
    return (x * (gain * temp).to(dev)).clamp(0, 1)


def _occlude(g: torch.Generator, x: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
    """Something in front of the product: up to 3 boxes or ellipses (skin tones or any colour)
    each about 5-20 % of the frame, a quarter of the time each."""
    b, _, hgt, wid = x.shape
    dev = x.device
    lin_y = ((torch.arange(hgt, dtype=torch.float32) + 0.5) / hgt).view(1, -1, 1)
    lin_x = ((torch.arange(wid, dtype=torch.float32) + 0.5) / wid).view(1, 1, -1)
    skin = torch.tensor([[0.88, 0.67, 0.55], [0.78, 0.53, 0.38], [0.55, 0.33, 0.22], [0.95, 0.76, 0.65]])
    out = x
    for _ in range(3):
        on = (torch.rand(b, generator=g) < 0.25 * strength).view(b, 1, 1)
        cx, cy = torch.rand(b, 1, 1, generator=g), torch.rand(b, 1, 1, generator=g)
        side = (0.1 + 0.15 * torch.rand(b, 1, 1, generator=g)) * strength.view(b, 1, 1)
        rw = side * (0.6 + 0.8 * torch.rand(b, 1, 1, generator=g))
        rh = side * (0.6 + 0.8 * torch.rand(b, 1, 1, generator=g))
        dx, dy = (lin_x - cx) / rw, (lin_y - cy) / rh
        ellipse = torch.rand(b, 1, 1, generator=g) < 0.5
        inside = torch.where(ellipse, dx ** 2 + dy ** 2 <= 1, (dx.abs() <= 1) & (dy.abs() <= 1)) & on
        colour = torch.where(torch.rand(b, 1, generator=g) < 0.5, skin[torch.randint(0, 4, (b,), generator=g)],
                             torch.rand(b, 3, generator=g))
        out = torch.where(inside.unsqueeze(1).to(dev), colour.view(b, 3, 1, 1).to(dev), out)
    return out


def _motion_blur(g: torch.Generator, x: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
    """A shaken hand: a line kernel (3 to 9 px, any direction) for a quarter of the images."""
    b, c, hgt, wid = x.shape
    on = torch.rand(b, generator=g) < 0.25 * strength
    if not bool(on.any()):
        return x
    r = 4
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    ang = torch.rand(b, generator=g) * math.pi
    length = 1.5 + 3 * torch.rand(b, generator=g) * strength
    yy, xx = t.view(1, -1, 1), t.view(1, 1, -1)
    along = xx * torch.cos(ang).view(b, 1, 1) + yy * torch.sin(ang).view(b, 1, 1)
    across = -xx * torch.sin(ang).view(b, 1, 1) + yy * torch.cos(ang).view(b, 1, 1)
    k = ((along.abs() <= length.view(b, 1, 1)) & (across.abs() <= 0.5)).float()
    k = torch.where(on.view(b, 1, 1), k, ((xx == 0) & (yy == 0)).float().expand(b, -1, -1))
    k = k / k.sum((1, 2), keepdim=True)
    weight = k.to(x.device).repeat_interleave(c, 0).unsqueeze(1)
    y = F.conv2d(F.pad(x.reshape(1, b * c, hgt, wid), (r, r, r, r), mode="reflect"), weight, groups=b * c)
    return y.view(b, c, hgt, wid)


def _low_resolution(g: torch.Generator, x: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
    """A thumbnail blown up: down to 30-60 % of the side and back, for a fifth of the images."""
    b, _, hgt, wid = x.shape
    on = torch.rand(b, generator=g) < 0.2 * strength
    if not bool(on.any()):
        return x
    side = max(8, int(hgt * (0.3 + 0.3 * float(torch.rand(1, generator=g)))))
    small = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=True)
    mode = "nearest" if float(torch.rand(1, generator=g)) < 0.5 else "bilinear"
    big = F.interpolate(small, size=(hgt, wid), mode=mode, **({} if mode == "nearest" else {"align_corners": False}))
    return torch.where(on.view(b, 1, 1, 1).to(x.device), big, x)


# "mixed" (training only): one view of each pair classic, the other photo-like.
RECIPES = tuple(GEOMETRY) + ("mixed",)


def augment(images: torch.Tensor, size: int, g: torch.Generator, strength: Optional[torch.Tensor] = None,
            recipe: str = "classic") -> torch.Tensor:
    """uint8 [B,3,K,K] (any device) -> augmented, normalised float [B,3,size,size].
    recipe "photo" widens the geometry and adds uneven light, occluders, motion blur and low
    resolution to the "classic" (1.0.0) recipe."""
    b = images.shape[0]
    if strength is None:
        strength = torch.ones(b)
    strength = strength.float().cpu()
    x = images.float() / 255.0
    h = _homographies(g, b, strength, recipe)
    warped, mask = _warp(x, h, size)
    bg = _backgrounds(g, images, size)
    x = warped + (1 - mask) * bg
    photo = recipe == "photo"
    if photo:
        x = _occlude(g, x, strength)
        x = _light(g, x, strength)
    x = _colour(g, x, strength)
    x = _blur(g, x, strength)
    if photo:
        x = _motion_blur(g, x, strength)
        x = _low_resolution(g, x, strength)
    noise_on = (torch.rand(b, 1, 1, 1, generator=g) < 0.3 * strength.view(b, 1, 1, 1)).float()
    sd = 0.03 * torch.rand(b, 1, 1, 1, generator=g) * noise_on
    x = (x + torch.randn(x.shape, generator=g).to(x.device) * sd.to(x.device)).clamp(0, 1)
    x = _jpeg(g, x, strength)
    return normalize_batch(x)
