import pytest
import torch
from torch import nn

from tlcourse.tools.train import fit


class TinyClassifier(nn.Module):
    """Returns a dict with loss and logits, like a transformers model; has dropout to exercise RNG state."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))

    def forward(self, x, labels=None):
        logits = self.net(x)
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return {"loss": loss, "logits": logits}


def toy_data(n=96, seed=1):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=generator)
    labels = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    return [{"x": x[i], "labels": labels[i]} for i in range(n)]


def new_model():
    torch.manual_seed(0)
    return TinyClassifier()


def options(tmp_path):
    return dict(epochs=3, batch_size=16, lr=0.05, output_dir=tmp_path, progress=False, plot=False, seed=3)


def test_fit_learns_and_records_history(tmp_path):
    model = new_model()
    history = fit(model, toy_data(), toy_data(48, seed=2), **options(tmp_path))
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3]
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]
    assert history.epochs[-1]["eval_accuracy"] > 0.6
    assert (tmp_path / "epoch_3" / "history.json").exists() and not (tmp_path / "epoch_1").exists()


def test_resume_after_an_interruption_ends_with_the_same_weights(tmp_path):
    reference = new_model()
    fit(reference, toy_data(), toy_data(48, seed=2), **options(tmp_path / "straight"))

    calls = {"n": 0}

    def collate_that_fails_in_epoch_2(batch):
        calls["n"] += len(batch) == 16  # count training batches only (evaluation uses 32)
        if calls["n"] == 6 + 3:  # 6 batches per epoch: the power goes out mid-epoch 2
            raise KeyboardInterrupt("interrupted")
        return torch.utils.data.default_collate(batch)

    interrupted = new_model()
    with pytest.raises(KeyboardInterrupt):
        fit(
            interrupted,
            toy_data(),
            toy_data(48, seed=2),
            collate_fn=collate_that_fails_in_epoch_2,
            **options(tmp_path / "cut"),
        )
    assert (tmp_path / "cut" / "epoch_1" / "history.json").exists()

    resumed = new_model()  # a fresh process would start from fresh weights
    history = fit(resumed, toy_data(), toy_data(48, seed=2), resume=True, **options(tmp_path / "cut"))
    assert len(history.epochs) == 3
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_gradient_accumulation_runs_fewer_optimizer_steps(tmp_path):
    model = new_model()
    history = fit(model, toy_data(), None, gradient_accumulation_steps=2, log_every=1, **options(tmp_path))
    assert len(history.steps) == 3 * 6
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]


def test_bf16_autocast_computes_in_bf16_and_follows_the_float32_run():
    seen = []

    class Spy(TinyClassifier):
        def forward(self, x, labels=None):
            out = super().forward(x, labels)
            seen.append(out["logits"].dtype)
            return out

    torch.manual_seed(0)
    first = fit(Spy(), toy_data(), epochs=2, progress=False, plot=False, seed=3)
    assert set(seen) == {torch.float32}
    seen.clear()
    torch.manual_seed(0)
    second = fit(Spy(), toy_data(), epochs=2, progress=False, plot=False, seed=3, mixed_precision="bf16")
    assert set(seen) == {torch.bfloat16}  # the linear layers really ran in bf16
    a, b = first.last["train_loss"], second.last["train_loss"]
    assert a != b and abs(a - b) < 0.1 * a  # rounding moves the loss a little, not the run


def test_wsd_schedule_holds_the_rate_then_decays_over_the_last_fifth():
    history = fit(
        new_model(),
        toy_data(),
        epochs=5,
        batch_size=16,
        lr=0.05,
        schedule="wsd",
        log_every=1,
        progress=False,
        plot=False,
    )  # 6 steps per epoch: 30 steps, 3 warm-up, 6 decay
    rates = [s["lr"] for s in history.steps]
    assert rates[2:24] == [pytest.approx(0.05)] * 22  # after warm-up, constant until 80% of the steps
    assert rates[-6] < 0.05 and rates[-1] < 0.01 and rates == sorted(rates[:3]) + rates[3:]
    linear = fit(new_model(), toy_data(), epochs=5, batch_size=16, lr=0.05, log_every=1, progress=False, plot=False)
    assert linear.steps[15]["lr"] < 0.03  # the default decays from the end of warm-up
    with pytest.raises(ValueError, match="schedule"):
        fit(new_model(), toy_data(), epochs=1, schedule="cosine", progress=False, plot=False)
