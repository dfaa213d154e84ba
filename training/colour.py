"""A fixed colour descriptor fused into the embedding.

The contrastive objective is trained to ignore colour casts, so the learnt embedding knows a garment's
shape and texture far better than its colour (myntra: 0.39 of the top 10 share the baseColour; a
plain HSV histogram gets 0.50). This module adds what a shopper means by "the same colour": a soft
histogram over a palette of named garment colours, of the product rather than the backdrop (pixels
unlike the picture's border, weighted towards the centre). It has no learnt parameters and runs
inside the exported embedder, so the service, the database and the evaluation see one vector.

embedding = [sqrt(1 - w) * cnn_embedding, sqrt(w) * sqrt(histogram)] (both parts unit length), so cosine
similarity is (1 - w) * cnn cosine + w * Bhattacharyya coefficient of the two histograms.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# sRGB 0..1: the colours catalogs name (black ... beige), with light and dark variants where
# garments commonly come in both.
PALETTE = (
    (0.10, 0.10, 0.11), (0.95, 0.95, 0.95), (0.55, 0.55, 0.56), (0.78, 0.78, 0.80), (0.30, 0.30, 0.32),
    (0.10, 0.13, 0.32), (0.18, 0.38, 0.75), (0.58, 0.75, 0.90), (0.10, 0.48, 0.50), (0.18, 0.50, 0.25),
    (0.45, 0.46, 0.22), (0.95, 0.85, 0.25), (0.95, 0.52, 0.15), (0.82, 0.12, 0.14), (0.45, 0.08, 0.13),
    (0.95, 0.62, 0.72), (0.45, 0.22, 0.55), (0.45, 0.30, 0.18), (0.86, 0.78, 0.62), (0.70, 0.55, 0.40),
)


# Linear sRGB -> XYZ scaled by the D65 white point, and f(XYZ) -> L*a*b*, as 1×1 convolutions.
_XYZ = torch.tensor([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) \
    / torch.tensor([0.9505, 1.0, 1.089]).view(3, 1)
_LAB = torch.tensor([[0.0, 116.0, 0.0], [500.0, -500.0, 0.0], [0.0, 200.0, -200.0]])
_LAB_BIAS = torch.tensor([-16.0, 0.0, 0.0])


def to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB 0..1 [N,3,H,W] -> CIELAB (D65), so that distances between colours are roughly what eyes see:
    in sRGB a black T-shirt in a photo (0.16, 0.18, 0.19) lies nearer navy than black."""
    lin = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055).pow(2.4), rgb / 12.92)
    xyz = F.conv2d(lin, _XYZ.view(3, 3, 1, 1).to(rgb))
    f = torch.where(xyz > 0.008856, xyz.clamp(min=0.008856).pow(1 / 3), 7.787 * xyz + 16 / 116)
    return F.conv2d(f, _LAB.view(3, 3, 1, 1).to(rgb), _LAB_BIAS.to(rgb))


class ColourHistogram(nn.Module):
    """normalised image [B,3,S,S] -> sqrt of a foreground colour histogram [B,len(PALETTE)] (unit norm).

    Written for a small exported graph (each onnxruntime node costs microseconds at batch 1): averaging
    comes first (it commutes with un-normalising), and the softmax over palette distances is one 1×1
    convolution, since |pixel|² is the same for every palette colour and cancels in the softmax."""

    def __init__(self, mean, std, grid: int = 32, softness: float = 60.0, border_gap: float = 12.0):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))
        palette = to_lab(torch.tensor(PALETTE, dtype=torch.float32).view(-1, 3, 1, 1)).view(-1, 3)  # [K,3] Lab
        # softmax_k(-|lab - p_k|² / s) = softmax_k((2 lab·p_k - |p_k|²) / s)
        self.register_buffer("assign_w", (2 * palette / softness).view(-1, 3, 1, 1))
        self.register_buffer("assign_b", -(palette ** 2).sum(1) / softness)
        ys = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid - 0.5
        centre = torch.exp(-(ys.view(-1, 1) ** 2 + ys.view(1, -1) ** 2) / (2 * 0.3 ** 2))
        self.register_buffer("centre", centre.view(1, 1, grid, grid))
        ring = torch.ones(grid, grid, dtype=torch.bool)
        ring[2:-2, 2:-2] = False
        self.register_buffer("ring", (ring.float() / ring.sum()).view(1, 1, grid, grid))  # mean over the ring
        self.grid, self.border_gap = grid, border_gap

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rgb = (F.adaptive_avg_pool2d(x, self.grid) * self.std + self.mean).clamp(0, 1)
        lab = to_lab(rgb)  # [B,3,G,G]
        border = (lab * self.ring).sum(dim=(2, 3), keepdim=True)
        gap = (lab - border).pow(2).sum(1, keepdim=True).sqrt()  # distance from the backdrop's colour
        fg = torch.sigmoid((gap - self.border_gap) / 3.0)
        weight = self.centre * (0.05 + fg)  # [B,1,G,G]; a white shirt on white still counts, a little
        assign = torch.softmax(F.conv2d(lab, self.assign_w, self.assign_b), dim=1)  # [B,K,G,G]
        hist = (assign * weight).sum(dim=(2, 3)) / weight.sum(dim=(2, 3))
        return hist.clamp(min=0).sqrt()


class ColourFused(nn.Module):
    """Wraps the embedder for export: same outputs, the embedding extended by the colour descriptor."""

    def __init__(self, embedder: nn.Module, mean, std, weight: float):
        super().__init__()
        self.embedder, self.colour = embedder, ColourHistogram(mean, std)
        self.cnn, self.hist = math.sqrt(1 - weight), math.sqrt(weight)
        self.channels = embedder.channels

    def forward(self, x: torch.Tensor):
        z, f = self.embedder(x)
        h = self.colour(x)
        return F.normalize(torch.cat([self.cnn * z, self.hist * h], 1), dim=1), f


def served(embedder: nn.Module, mean, std, weight: float) -> nn.Module:
    """The embedder as the service runs it: with the colour descriptor fused in when weighted."""
    return ColourFused(embedder, mean, std, weight) if weight > 0 else embedder


def colour_dim() -> int:
    return len(PALETTE)
