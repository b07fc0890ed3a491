"""Notebook 05's masked autoencoder, measured: reconstruction loss and linear-probe accuracy on Fashion-MNIST for
a choice of masking ratio, pixel targets (raw or normalised per patch) and epochs. One configuration per run:

    python benchmarks/vit_mae.py --mask-ratio 0.75 --epochs 2 [--norm-pix-loss]

Appends one JSON line to benchmarks/results/vit_mae.jsonl. The probe is notebook 05's: logistic regression on
the mean of the patch tokens of 5,000 training images, scored on the 10,000 test images.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from transformers import ViTForImageClassification

import tlcourse
from tlcourse.course import data
from tlcourse.tools import vision
from tlcourse.tools.train import fit


def probe_accuracy(encoder, pixels, labels, test_pixels, test_labels, rows=5000):
    def features(x):
        with torch.no_grad():
            return torch.cat(
                [encoder(pixel_values=x[i : i + 500]).last_hidden_state[:, 1:].mean(1) for i in range(0, len(x), 500)]
            ).numpy()

    probe = LogisticRegression(max_iter=2000).fit(features(pixels[:rows]), labels[:rows].numpy())
    return float(probe.score(features(test_pixels), test_labels.numpy()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mask-ratio", type=float, default=0.75)
    parser.add_argument("--norm-pix-loss", action="store_true")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1.5e-3)
    parser.add_argument("--images", type=int, default=55_000)
    parser.add_argument("--save", default=None, help="folder for the encoder as a ViTForImageClassification")
    args = parser.parse_args()
    tlcourse.setup(seed=0)
    fashion = data.load("fashion_mnist")
    pixels, labels = vision.image_tensors(fashion["train"], limit=args.images)
    test_pixels, test_labels = vision.image_tensors(fashion["test"])
    torch.manual_seed(0)
    mae = vision.new_mae(vision.mae_config(args.mask_ratio, args.norm_pix_loss))
    started = time.perf_counter()
    fit(mae, vision.as_rows(pixels), epochs=args.epochs, batch_size=128, lr=args.lr, plot=False)
    seconds = time.perf_counter() - started
    mae.eval()
    torch.manual_seed(1)
    with torch.no_grad():
        loss = float(np.mean([mae(pixel_values=test_pixels[i : i + 500]).loss.item() for i in range(0, 5000, 500)]))
    # the encoder as transfer uses it: a plain ViT, every patch visible (ViTMAEModel always hides some)
    classifier = ViTForImageClassification(vision.small_vit_config(num_labels=10))
    missing, unexpected = classifier.vit.load_state_dict(mae.vit.state_dict(), strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    classifier.eval()
    result = vars(args) | {
        "train_seconds": seconds,
        "test_reconstruction_loss": loss,
        "probe_accuracy": probe_accuracy(classifier.vit, pixels, labels, test_pixels, test_labels),
    }
    if args.save:
        classifier.save_pretrained(args.save)
    print(json.dumps(result))
    out = Path(__file__).parent / "results" / "vit_mae.jsonl"
    out.parent.mkdir(exist_ok=True)
    with out.open("a") as f:
        f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
