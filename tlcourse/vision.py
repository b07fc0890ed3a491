"""tlcourse.vision: the image pieces notebook 04 shares: tensors from the image datasets, a small ViT config,
and the shift augmentation used when fine-tuning on few labels."""
import numpy as np
import torch

MEAN, STD = 0.5, 0.5  # the normalisation of Google's ViT checkpoints: pixels in [0, 1] -> [-1, 1]


def image_tensors(split, limit=None):
    """(pixels, labels) from a split of `fashion_mnist` or `digits`: float (N, 1, 28, 28) normalised, long (N,)."""
    rows = split if limit is None else split.select(range(min(limit, len(split))))
    rows = rows.with_format("numpy")
    pixels = torch.tensor(np.asarray(rows["image"]), dtype=torch.float32).unsqueeze(1) / 255
    return (pixels - MEAN) / STD, torch.tensor(np.asarray(rows["label"]), dtype=torch.long)


def as_rows(pixels, labels=None):
    """A list of {'pixel_values', 'labels'} dicts: a dataset `fit` and `evaluate.predict` can batch."""
    if labels is None:
        return [{"pixel_values": p} for p in pixels]
    return [{"pixel_values": p, "labels": y} for p, y in zip(pixels, labels)]


def small_vit_config(num_labels=10, patch_size=7, hidden=128, layers=4, heads=4, image_size=28):
    from transformers import ViTConfig

    return ViTConfig(image_size=image_size, patch_size=patch_size, num_channels=1, hidden_size=hidden,
                     num_hidden_layers=layers, num_attention_heads=heads, intermediate_size=4 * hidden,
                     num_labels=num_labels)


def shift_collate(rows, max_shift=2):
    """Batch the rows, moving each image by up to `max_shift` pixels (background fill): cheap augmentation."""
    batch = torch.utils.data.default_collate(rows)
    pixels = batch["pixel_values"]
    padded = torch.nn.functional.pad(pixels, [max_shift] * 4, value=(0 - MEAN) / STD)
    size = pixels.shape[-1]
    offsets = torch.randint(0, 2 * max_shift + 1, (len(pixels), 2))
    batch["pixel_values"] = torch.stack([padded[i, :, dy:dy + size, dx:dx + size]
                                         for i, (dy, dx) in enumerate(offsets.tolist())])
    return batch
