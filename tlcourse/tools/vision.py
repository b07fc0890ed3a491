"""tlcourse.tools.vision: the image pieces notebook 05 shares: tensors from the image datasets, a small ViT config,
and the shift augmentation used when fine-tuning on few labels."""

import math

import numpy as np
import torch

MEAN, STD = 0.5, 0.5  # the normalisation of Google's ViT checkpoints: pixels in [0, 1] -> [-1, 1]


def image_tensors(split, limit=None):
    """(pixels, labels) from a split of `fashion_mnist` or `digits`: float (N, 1, 28, 28) normalised, long (N,)."""
    import pyarrow as pa

    rows = split if limit is None else split.select(range(min(limit, len(split))))
    images = rows.with_format("arrow")["image"]  # read the uint8 bytes straight from arrow: 1000x faster than numpy
    images = images.combine_chunks() if isinstance(images, pa.ChunkedArray) else images
    flat = np.asarray(getattr(images, "storage", images).flatten().flatten())
    pixels = torch.tensor(flat.reshape(len(rows), 1, 28, 28), dtype=torch.float32) / 255
    return (pixels - MEAN) / STD, torch.tensor(np.asarray(rows["label"]), dtype=torch.long)


def as_rows(pixels, labels=None):
    """A list of {'pixel_values', 'labels'} dicts: a dataset `fit` and `evaluate.predict` can batch."""
    if labels is None:
        return [{"pixel_values": p} for p in pixels]
    return [{"pixel_values": p, "labels": y} for p, y in zip(pixels, labels)]


def small_vit_config(num_labels=10, patch_size=7, hidden=128, layers=4, heads=4, image_size=28):
    from transformers import ViTConfig

    return ViTConfig(
        image_size=image_size,
        patch_size=patch_size,
        num_channels=1,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden,
        num_labels=num_labels,
    )


def shift(pixels, max_shift=2):
    """Move each image by up to `max_shift` pixels in each direction (background fill): cheap augmentation."""
    padded = torch.nn.functional.pad(pixels, [max_shift] * 4, value=(0 - MEAN) / STD)
    size = pixels.shape[-1]
    offsets = torch.randint(0, 2 * max_shift + 1, (len(pixels), 2))
    return torch.stack([padded[i, :, dy : dy + size, dx : dx + size] for i, (dy, dx) in enumerate(offsets.tolist())])


def shift_collate(rows, max_shift=2):
    """Batch the rows (for `fit`), shifting each image as `shift` does."""
    batch = torch.utils.data.default_collate(rows)
    batch["pixel_values"] = shift(batch["pixel_values"], max_shift)
    return batch


def accuracy(model, pixels, labels, batch_size=500):
    """Share of `pixels` an image classifier labels right (evaluate.predict: eval mode, no gradients)."""
    from tlcourse.tools.evaluate import predict

    logits, _ = predict(model, as_rows(pixels), batch_size=batch_size)
    return float((logits.argmax(-1) == labels.numpy()).mean())


def train_early_stopped(
    model,
    pixels,
    labels,
    val_pixels,
    val_labels,
    *,
    lr,
    max_steps,
    eval_every=25,
    patience=8,
    batch_size=32,
    augment=True,
    seed=0,
    weight_decay=0.05,
):
    """Train an image classifier with AdamW, the learning rate warming up over the first tenth of `max_steps`
    and then decaying to 0 at `max_steps` (cosine),
    scoring validation accuracy every `eval_every` steps. Stop after `patience` scores without a new best, or at
    `max_steps`; return the model as it was at its best validation score, and {best_step, steps, val_accuracy,
    train_accuracy}. The training length is chosen on the validation split, never on the test split."""
    import copy

    torch.manual_seed(seed)  # batch order and augmentation
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    warmup = max(1, max_steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, max_steps) / max_steps))
    )
    best_accuracy, best_step, best_state, waited, step = -1.0, 0, None, 0, 0
    while step < max_steps and waited < patience:
        order = torch.randperm(len(pixels))
        for start in range(0, len(pixels), batch_size):
            rows = order[start : start + batch_size]
            x = shift(pixels[rows]) if augment else pixels[rows]
            model.train()
            loss = model(pixel_values=x.to(device), labels=labels[rows].to(device)).loss
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % eval_every == 0 or step == max_steps:
                score = accuracy(model, val_pixels, val_labels)
                if score > best_accuracy:
                    best_accuracy, best_step, best_state, waited = score, step, copy.deepcopy(model.state_dict()), 0
                else:
                    waited += 1
                if waited >= patience or step >= max_steps:
                    break
    model.load_state_dict(best_state)
    return model, {
        "best_step": best_step,
        "steps": step,
        "val_accuracy": best_accuracy,
        "train_accuracy": accuracy(model, pixels, labels),
    }


def mae_config(mask_ratio=0.75, norm_pix_loss=False, **vit_sizes):
    """A small ViT-MAE: the encoder of `small_vit_config(**vit_sizes)` and a 2-layer, 64-wide decoder."""
    from transformers import ViTMAEConfig

    return ViTMAEConfig(
        **small_vit_config(**vit_sizes).to_dict()
        | dict(
            decoder_hidden_size=64,
            decoder_num_hidden_layers=2,
            decoder_num_attention_heads=4,
            decoder_intermediate_size=256,
            mask_ratio=mask_ratio,
            norm_pix_loss=norm_pix_loss,
        )
    )


def new_mae(config):
    """ViTMAEForPreTraining(config) with its fixed 2-D sin-cos position tables filled in.

    Built from a config, transformers 5 leaves the encoder's and the decoder's position embeddings all zero (the
    tables are filled by initialize_weights, which this path skips): every hidden patch would then get the same
    prediction, and the transferred encoder would know no positions. We fill them and check."""
    from transformers import ViTMAEForPreTraining
    from transformers.models.vit_mae.modeling_vit_mae import build_2d_sinusoidal_position_embedding

    mae = ViTMAEForPreTraining(config)
    grid = config.image_size // config.patch_size
    for table in (mae.vit.embeddings.position_embeddings, mae.decoder.decoder_pos_embed):
        sincos = build_2d_sinusoidal_position_embedding(grid, grid, embed_dim=table.shape[-1], cls_token=True)
        with torch.no_grad():
            table.copy_(sincos.unsqueeze(0))  # row 0, the [CLS] token's, is zero
    check_mae_positions(mae)
    return mae


def check_mae_positions(mae):
    """Raise if the MAE's encoder or decoder position embeddings are zero (no position information)."""
    for name, table in [
        ("encoder", mae.vit.embeddings.position_embeddings),
        ("decoder", mae.decoder.decoder_pos_embed),
    ]:
        patches = table[0, 1:]  # the [CLS] row is zero by design
        if patches.abs().max() == 0 or torch.unique(patches, dim=0).shape[0] < len(patches):
            raise ValueError(f"the MAE's {name} position embeddings are zero or repeated: call vision.new_mae")
