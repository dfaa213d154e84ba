"""Quick checks (a few tiny CPU runs, seconds). `npm test` runs them (tests/training.unit.test.ts);
alone: node scripts/python.mjs -m unittest training.test_training"""
import json
import os
import tempfile
import unittest

import numpy as np
from PIL import Image

from . import train
import torch
import torch.nn.functional as F

from .colour import PALETTE, ColourFused, ColourHistogram, colour_dim
from .losses import shortlist_loss
from .model import Embedder, Scorer, local_match
from .preprocess import MEAN, STD, preprocess
from .synthetic import synthetic_cache


def make_images(folder: str, n: int = 6) -> None:
    rng = np.random.default_rng(0)
    os.makedirs(os.path.join(folder, "sub"), exist_ok=True)
    for i in range(n):
        arr = (rng.random((40 + 7 * i, 50, 3)) * 255).astype("uint8")
        sub = "sub" if i % 2 else ""
        Image.fromarray(arr).save(os.path.join(folder, sub, f"img{i}.{'png' if i % 3 == 0 else 'jpg'}"))


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def tiny_run(images: str, out: str, seed: int = 1) -> dict:
    rc = train.main(["--images-dir", images, "--epochs", "1", "--max-steps", "2", "--batch-size", "4",
                     "--size", "64", "--dim", "32", "--seed", str(seed), "--scorer-epochs", "1", "--out", out])
    assert rc == 0
    with open(os.path.join(out, "manifest.json")) as fh:
        return json.load(fh)


class PreprocessTest(unittest.TestCase):
    def test_alpha_is_flattened_onto_white_and_shape(self):
        img = Image.new("RGBA", (30, 20), (255, 0, 0, 0))  # fully transparent red
        x = preprocess(img, 32)
        self.assertEqual(x.shape, (3, 32, 32))
        self.assertEqual(x.dtype, np.float32)
        white = (1 - np.asarray(MEAN)) / np.asarray(STD)
        np.testing.assert_allclose(x[:, 5, 5], white, atol=1e-5)


class TrainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.images = os.path.join(cls.tmp.name, "images")
        make_images(cls.images)
        cls.m1 = tiny_run(cls.images, os.path.join(cls.tmp.name, "a"))
        cls.m2 = tiny_run(cls.images, os.path.join(cls.tmp.name, "b"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_manifest_contract(self):
        m = self.m1
        for key in ("name", "version", "createdAt", "input", "embedding", "features", "files", "parity", "training"):
            self.assertIn(key, m)
        self.assertEqual(m["input"]["size"], 64)
        # 32 from the network, then the colour descriptor's bins (default weight)
        self.assertEqual(m["embedding"], {"dim": 32 + colour_dim(), "metric": "l2", "normalized": True,
                                          "colour": {"weight": train.DEFAULTS["colour_weight"], "bins": colour_dim()}})
        self.assertEqual(m["features"]["shape"], [128, 4, 4])
        out = os.path.join(self.tmp.name, "a")
        for f in ("embedder", "scorer"):
            self.assertEqual(os.path.getsize(os.path.join(out, m["files"][f]["path"])), m["files"][f]["bytes"])
        with open(os.path.join(out, m["parity"])) as fh:
            parity = json.load(fh)
        for spec in parity["tensors"].values():
            n = int(np.prod(spec["shape"])) * 4
            self.assertEqual(os.path.getsize(os.path.join(out, "parity", spec["path"])), n)
        self.assertFalse(m["training"]["labels"])
        # The scorer takes both feature maps and both served embeddings (its base cosine).
        d = m["embedding"]["dim"]
        self.assertEqual([(i["name"], i["shape"]) for i in m["files"]["scorer"]["inputs"]],
                         [("query_features", ["batch", 128, 4, 4]), ("candidate_features", ["batch", 128, 4, 4]),
                          ("query_embedding", ["batch", d]), ("candidate_embedding", ["batch", d])])
        self.assertEqual(len([n for n in os.listdir(self.tmp.name) if n.startswith(".")]), 0)  # no temp left

    def test_same_seed_same_weights(self):
        a = os.path.join(self.tmp.name, "a", "parity")
        b = os.path.join(self.tmp.name, "b", "parity")
        for name in ("embedding.f32", "features.f32", "score.f32"):
            self.assertEqual(read_bytes(os.path.join(a, name)), read_bytes(os.path.join(b, name)), name)
        self.assertEqual(self.m1["files"]["embedder"]["sha256"], self.m2["files"]["embedder"]["sha256"])


def normalised(rgb: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(rgb.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def garment(colour, backdrop=(250, 250, 250)) -> torch.Tensor:
    """A plain garment-sized block of colour on a backdrop, normalised as the model takes it."""
    img = np.full((64, 64, 3), backdrop, np.uint8)
    img[16:48, 20:44] = colour
    return normalised(img)


class ColourTest(unittest.TestCase):

    def test_histogram_names_the_products_colour_not_the_backdrop(self):
        h = ColourHistogram(MEAN, STD)
        for colour, name in (((200, 25, 30), 13), ((20, 30, 80), 5), ((35, 35, 38), 0)):
            hist = h(garment(colour))[0] ** 2
            self.assertAlmostEqual(float(hist.sum()), 1.0, places=4)
            self.assertEqual(int(hist.argmax()), name, f"{colour}: {hist}")
            self.assertGreater(float(hist[name]), 0.5)
        # The same red shirt on a grey backdrop keeps its histogram; a blue one does not.
        red, grey_bg = h(garment((200, 25, 30))), h(garment((200, 25, 30), (120, 120, 120)))
        blue = h(garment((30, 60, 190)))
        self.assertGreater(float((red * grey_bg).sum()), 0.85)
        self.assertLess(float((red * blue).sum()), 0.3)
        self.assertEqual(len(PALETTE), colour_dim())

    def test_fused_cosine_is_the_weighted_mix(self):
        torch.manual_seed(0)
        emb = Embedder(16, 8, 32).eval()
        fused = ColourFused(emb, MEAN, STD, 0.3).eval()
        a, b = garment((200, 25, 30)), garment((30, 60, 190))
        with torch.no_grad():
            (za, fa), (zb, _) = fused(a), fused(b)
            (ea, ra), (eb, _) = emb(a), emb(b)
        self.assertEqual(za.shape, (1, 16 + colour_dim()))
        self.assertTrue(torch.equal(fa, ra))  # the scorer's features are untouched
        self.assertAlmostEqual(float(za.norm()), 1.0, places=5)
        h = ColourHistogram(MEAN, STD)
        want = 0.7 * float((ea * eb).sum()) + 0.3 * float((h(a) * h(b)).sum())
        self.assertAlmostEqual(float((za * zb).sum()), want, places=5)


class ScorerTest(unittest.TestCase):
    def test_untrained_scorer_orders_as_the_served_embedding(self):
        """With a zero correction the scorer ranks by the fused cosine, colour term included: re-ranking
        starts from the search's own order instead of the network's colour-blind one."""
        torch.manual_seed(0)
        fused = ColourFused(Embedder(16, 8, 32).eval(), MEAN, STD, 0.5).eval()
        scorer = Scorer(32).eval()
        query = garment((200, 25, 30))
        shortlist = torch.cat([garment(c) for c in ((30, 60, 190), (190, 30, 35), (35, 35, 38), (230, 120, 130))])
        with torch.no_grad():
            zq, fq = fused(query)
            zc, fc = fused(shortlist)
            scores = scorer(fq.expand_as(fc), fc, zq.expand_as(zc), zc)
        cos = (zq * zc).sum(1)
        self.assertEqual(scores.argsort(descending=True).tolist(), cos.argsort(descending=True).tolist())
        self.assertEqual(int(scores.argmax()), 1)  # the red one, whatever the random network thinks

    def test_label_term_orders_the_wrong_products_by_kind(self):
        """Without the label term the loss ignores how the wrong products are ordered; with it, a
        shortlist that puts a same-kind product above another kind costs less than the reverse."""
        y = torch.tensor([[1.0, 0.0, 0.0]])
        same = torch.tensor([[1.0, 1.0, 0.0]])  # the true photo, a same-kind product, another kind
        kind_first, kind_last = torch.tensor([[3.0, 1.0, 0.0]]), torch.tensor([[3.0, 0.0, 1.0]])
        plain = [float(shortlist_loss(x, y, same, 0.2, 0.0)) for x in (kind_first, kind_last)]
        self.assertAlmostEqual(plain[0], plain[1], places=6)
        labelled = [float(shortlist_loss(x, y, same, 0.2, 0.5)) for x in (kind_first, kind_last)]
        self.assertLess(labelled[0], labelled[1])

    def test_local_match_finds_cells_wherever_they_lie(self):
        """A flipped, shifted copy of a map matches it fully, cell for cell, though hardly any position
        lines up; with the local term the scorer ranks that copy above a map of other cells whose
        aligned comparison looks the same."""
        torch.manual_seed(0)
        a = torch.rand(1, 32, 6, 6)
        moved = torch.roll(a.flip(3), shifts=2, dims=2)
        other = torch.rand(1, 32, 6, 6)
        self.assertAlmostEqual(float(local_match(a, moved)), 1.0, places=5)
        self.assertLess(float(local_match(a, other)), 0.95)
        self.assertAlmostEqual(float(local_match(a, other)), float(local_match(other, a)), places=5)
        z = F.normalize(torch.ones(2, 8), dim=1)  # equal embeddings: only the maps tell them apart
        shortlist = torch.cat([other, moved])
        with torch.no_grad():
            plain = Scorer(32).eval()(a.expand(2, -1, -1, -1), shortlist, z, z)
            local = Scorer(32, local_weight=1.0).eval()(a.expand(2, -1, -1, -1), shortlist, z, z)
        self.assertAlmostEqual(float(plain[0]), float(plain[1]), places=4)  # untrained: the cosine alone
        self.assertGreater(float(local[1] - local[0]), 10 * 0.04)

    def test_weights_of_older_scorers_load(self):
        """Scorers before 2.4.0 saved a copy of the embedder's head; adaptation starts from such models."""
        scorer = Scorer(32)
        old = dict(scorer.state_dict(), **{"head.0.weight": torch.zeros(4, 64), "head.0.bias": torch.zeros(4)})
        old["scale"] = torch.tensor(7.0)
        fresh = Scorer(32)
        fresh.load_weights(old)
        self.assertEqual(float(fresh.scale), 7.0)


class SyntheticTest(unittest.TestCase):
    def test_products_are_deterministic_distinct_and_not_blank(self):
        a = synthetic_cache(6, 48, seed=3)
        b = synthetic_cache(6, 48, seed=3)
        self.assertEqual(tuple(a.shape), (6, 3, 48, 48))
        self.assertTrue(torch.equal(a, b))  # same seed, same products
        self.assertFalse(torch.equal(a, synthetic_cache(6, 48, seed=4)))
        flat = a.float().view(6, -1)
        for i in range(6):
            self.assertGreater(float(flat[i].std()), 5.0, "a product is drawn on the backdrop")
            for j in range(i):
                self.assertGreater(float((flat[i] - flat[j]).abs().mean()), 1.0, "each product differs")

    def test_training_run_uses_them(self):
        with tempfile.TemporaryDirectory() as tmp:
            images = os.path.join(tmp, "images")
            make_images(images, n=4)
            out = os.path.join(tmp, "out")
            # 4 photos + 8 synthetic products in batches of 4: one epoch is 3 steps (1 without them)
            rc = train.main(["--images-dir", images, "--epochs", "1", "--batch-size", "4", "--size", "64",
                             "--dim", "32", "--scorer-epochs", "1", "--synthetic", "8", "--out", out])
            self.assertEqual(rc, 0)
            with open(os.path.join(out, "manifest.json")) as fh:
                m = json.load(fh)
            self.assertEqual(m["training"]["synthetic"], 8)
            self.assertEqual(m["training"]["steps"], 3)


class BudgetTest(unittest.TestCase):
    def test_time_budget_stops_the_stage_and_drives_the_schedule(self):
        b = train.Budget(total_steps=1000, seconds=10.0, elapsed=9.0)  # 9 of 10 s used (a resumed run)
        self.assertFalse(b.done(5))
        self.assertGreaterEqual(b.progress(5), 0.9)
        self.assertLess(b.lr(5, 1.0), 0.1)  # late in the cosine decay, whatever the step count says
        self.assertTrue(train.Budget(total_steps=1000, seconds=10.0, elapsed=10.5).done(5))
        self.assertTrue(train.Budget(total_steps=3, seconds=10.0).done(3))  # the step cap still holds
        no_clock = train.Budget(total_steps=100, seconds=0)
        self.assertEqual(no_clock.lr(50, 1.0), train.lr_at(50, 100, 1.0))


class CatalogFieldsTest(unittest.TestCase):
    def test_category_and_colour_columns_become_label_terms(self):
        with tempfile.TemporaryDirectory() as tmp:
            make_images(tmp, 4)
            csv = os.path.join(tmp, "labels.csv")
            with open(csv, "w") as fh:
                fh.write("path,label,category,colour\nimg0.png,p0,Shirts,Red\nsub/img1.jpg,p1,Shirts,\n"
                         "img2.jpg,p2,Shoes,Red\nsub/img3.png,p3,Shoes,Blue\n")
            from . import data
            s = data.read_labels(tmp, csv, "all")
            cat, col = s.attr_ids()
            self.assertEqual(cat.tolist(), [0, 0, 1, 1])
            self.assertEqual(col.tolist()[0], col.tolist()[2])  # both Red
            self.assertLess(col.tolist()[1], 0)  # no colour: matches only itself


if __name__ == "__main__":
    unittest.main()
