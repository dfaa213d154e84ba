"""A picture of example searches from a bench/model-eval.ts report (--examples, --example-shopper):
one row per query, the query photo then its first 5 results, framed green where right.

    /usr/bin/python3 bench/example_queries.py tmp/model-eval.json bench/results/example-queries.png
"""
from __future__ import annotations

import json
import sys

from PIL import Image, ImageDraw, ImageOps

CELL, PAD, CAPTION = 150, 8, 30


def tile(path: str) -> Image.Image:
    img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    img.thumbnail((CELL, CELL))
    out = Image.new("RGB", (CELL, CELL), "white")
    out.paste(img, ((CELL - img.width) // 2, (CELL - img.height) // 2))
    return out


def main(report: str, out: str, model_index: int = 0) -> None:
    result = json.load(open(report))["results"][model_index]
    rows = result.get("examples", [])
    if not rows:
        sys.exit(f"{report}: no examples (run bench/model-eval.ts with --examples / --example-shopper)")
    w = PAD + 6 * (CELL + PAD) + CELL // 3
    h = PAD + CAPTION + len(rows) * (CELL + CAPTION + PAD)
    sheet = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((PAD, PAD), f"{result['key']} ({result['sha256']}): query, then the top 5 (green: right product or type)", fill="black")
    for r, row in enumerate(rows):
        y = PAD + CAPTION + r * (CELL + CAPTION + PAD)
        draw.text((PAD, y), row["title"], fill="black")
        sheet.paste(tile(row["query"]), (PAD, y + 14))
        for c, hit in enumerate(row["top"]):
            x = PAD + (c + 1) * (CELL + PAD) + CELL // 3
            colour = (40, 160, 60) if hit["right"] else (200, 200, 200)
            draw.rectangle((x - 3, y + 11, x + CELL + 2, y + 14 + CELL + 2), outline=colour, width=3)
            sheet.paste(tile(hit["image"]), (x, y + 14))
            draw.text((x, y + CELL + 16), f"#{c + 1} {hit['title'][:24]}", fill="black")
    sheet.save(out)
    print(f"wrote {out}: {len(rows)} queries")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
