import torch

from tlcourse import data, vision


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
