import pytest
import torch

from tlcourse.course import data
from tlcourse.tools import vision


def test_image_tensors_are_normalised_images_with_labels():
    pixels, labels = vision.image_tensors(data.load("digits")["test"], limit=20)
    assert pixels.shape == (20, 1, 28, 28) and labels.shape == (20,)
    assert pixels.min() >= -1 and pixels.max() <= 1 and pixels.min() == -1  # background is 0 -> -1
    assert set(labels.tolist()) <= set(range(10))


def test_shift_collate_moves_images_and_keeps_labels():
    image = torch.full((1, 28, 28), -1.0)
    image[0, 10:18, 10:18] = 1.0
    torch.manual_seed(0)
    batch = vision.shift_collate(vision.as_rows(image.repeat(64, 1, 1, 1), torch.arange(64)))
    assert batch["pixel_values"].shape == (64, 1, 28, 28) and batch["labels"].tolist() == list(range(64))
    assert torch.allclose(batch["pixel_values"].sum((1, 2, 3)), image.sum())  # moved, not cut: same ink
    assert len({tuple(torch.nonzero(p[0] > 0)[0].tolist()) for p in batch["pixel_values"]}) > 1


def test_small_vit_config_makes_a_model_for_28_pixel_images():
    from transformers import ViTForImageClassification

    model = ViTForImageClassification(vision.small_vit_config(num_labels=3, hidden=32, layers=1, heads=2))
    logits = model(pixel_values=torch.zeros(2, 1, 28, 28)).logits
    assert logits.shape == (2, 3)


def test_mae_has_position_information():
    from transformers import ViTMAEForPreTraining

    config = vision.mae_config(hidden=32, layers=1, heads=2)
    # the trap: tables left zero (as transformers has left them when a MAE is built from a config) or repeated
    for broken in ("zero", "repeated"):
        model = ViTMAEForPreTraining(config)
        with torch.no_grad():
            table = model.decoder.decoder_pos_embed if broken == "zero" else model.vit.embeddings.position_embeddings
            table.copy_(torch.zeros_like(table) if broken == "zero" else table[:, 1:2].expand_as(table))
        with pytest.raises(ValueError, match="position embeddings are zero or repeated"):
            vision.check_mae_positions(model)
    mae = vision.new_mae(config)
    vision.check_mae_positions(mae)  # and a well-built MAE passes it
    for table in (mae.vit.embeddings.position_embeddings, mae.decoder.decoder_pos_embed):
        patches = table[0, 1:]
        assert patches.abs().max() > 0.5 and torch.unique(patches, dim=0).shape[0] == 16
        assert not table.requires_grad  # fixed, as in the MAE paper
    # with positions, the hidden patches of one image get different predictions
    torch.manual_seed(0)
    out = mae(pixel_values=torch.zeros(1, 1, 28, 28))
    hidden = out.logits[0][out.mask[0].bool()]
    assert len(hidden) == 12 and (hidden - hidden[0]).abs().max() > 1e-3


def test_check_mae_positions_rejects_a_zeroed_table():
    mae = vision.new_mae(vision.mae_config(hidden=32, layers=1, heads=2))
    with torch.no_grad():
        mae.decoder.decoder_pos_embed.zero_()
    import pytest

    with pytest.raises(ValueError, match="decoder position embeddings"):
        vision.check_mae_positions(mae)


def test_early_stopping_returns_the_best_validation_checkpoint():
    from transformers import ViTForImageClassification

    torch.manual_seed(0)
    pixels, labels = torch.randn(40, 1, 28, 28), torch.arange(40) % 2
    pixels[labels == 1] += 1.0  # learnable: class 1 is brighter
    val_pixels, val_labels = torch.randn(20, 1, 28, 28), torch.arange(20) % 2
    val_pixels[val_labels == 1] += 1.0

    def run(seed):
        torch.manual_seed(0)
        model = ViTForImageClassification(vision.small_vit_config(num_labels=2, hidden=32, layers=1, heads=2))
        return vision.train_early_stopped(
            model,
            pixels,
            labels,
            val_pixels,
            val_labels,
            lr=1e-3,
            max_steps=30,
            eval_every=5,
            patience=2,
            batch_size=8,
            seed=seed,
        )

    model, info = run(seed=0)
    assert info["val_accuracy"] == vision.accuracy(model, val_pixels, val_labels)  # the model returned is the best
    assert 0 < info["best_step"] <= info["steps"] <= 30 and info["best_step"] % 5 == 0
    assert info["steps"] == 30 or info["steps"] - info["best_step"] == 2 * 5  # stopped by the cap or by patience
    assert run(seed=0)[1] == info  # a seed fixes batch order and augmentation
