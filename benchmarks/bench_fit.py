"""Is tlcourse.tools.train.fit as fast as a plain PyTorch loop? Same model, data, optimizer, schedule, clipping.

Run: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_fit.py
Prints examples/s for each loop, alternated over repeats, and the ratio fit / plain.
"""

import time

import torch
from transformers import BertConfig, BertForSequenceClassification, get_linear_schedule_with_warmup

from tlcourse.tools.train import fit, parameter_groups

BATCH, LENGTH, BATCHES, REPEATS = 32, 64, 30, 3


def make_model():
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=8000,
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=512,
        max_position_embeddings=LENGTH,
        num_labels=4,
    )
    return BertForSequenceClassification(config)


def make_data():
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 8000, (BATCH * BATCHES, LENGTH), generator=generator)
    labels = torch.randint(0, 4, (BATCH * BATCHES,), generator=generator)
    return [{"input_ids": ids[i], "labels": labels[i]} for i in range(len(ids))]


def plain_loop(model, data):
    loader = torch.utils.data.DataLoader(data, batch_size=BATCH, shuffle=True)
    optimizer = torch.optim.AdamW(parameter_groups(model, 0.01), lr=1e-4)
    scheduler = get_linear_schedule_with_warmup(optimizer, len(loader) // 10, len(loader))
    model.train()
    for batch in loader:
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()


def main():
    data = make_data()
    timings = {"plain": [], "fit": []}
    plain_loop(make_model(), data[: BATCH * 3])  # warm-up
    for _ in range(REPEATS):
        for name in ("plain", "fit"):
            model = make_model()
            started = time.perf_counter()
            if name == "plain":
                plain_loop(model, data)
            else:
                fit(model, data, epochs=1, batch_size=BATCH, lr=1e-4, plot=False, progress=True)
            timings[name].append(len(data) / (time.perf_counter() - started))
    for name, values in timings.items():
        print(
            f"{name:6} {max(values):7.1f} examples/s (best of {REPEATS}; all: {', '.join(f'{v:.1f}' for v in values)})"
        )
    print(f"fit / plain = {max(timings['fit']) / max(timings['plain']):.3f}")


if __name__ == "__main__":
    main()
