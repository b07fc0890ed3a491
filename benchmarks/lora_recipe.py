"""What notebook 06's LoRA recipe trains, and for how long: chosen on the validation split.

The recipe cell (read from the notebook, run as it is) puts LoRA on AutoModelForSequenceClassification (MiniLM,
[CLS] pooler) at 32 labelled paragraphs per topic. Variants: the modules trained besides the adapters (the new
head only, what task_type="SEQ_CLS" adds; or the head and BERT's pooler, whose dense layer over [CLS] this
sentence-embedding model never trained for classification), the learning rate and the epochs. One run each,
scored on wiki_topics' validation split; the test split is not read.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/lora_recipe.py      # about 4 minutes on 2 cores
"""

import json
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "lora_recipe.json"
VARIANTS = [
    ((), 1e-3, 4),
    (("pooler",), 1e-3, 4),
    ((), 2e-3, 8),
    (("pooler",), 2e-3, 8),
    (("pooler",), 3e-3, 8),
    (("pooler",), 2e-3, 12),
]


def main():
    import torch
    from transformers import pipeline

    from tlcourse.course import data, models, runner
    from tlcourse.tools import text

    namespace = runner.run_recipe("06_efficient_fine_tuning_and_scaling")  # the recipe exactly as the notebook has it
    topics = data.load("wiki_topics")
    names = topics["train"].features["label"].names
    train = topics["train"].select(text.label_budget(topics["train"]["label"], 32))
    validation = topics["validation"]
    runs = []
    for also_train, lr, epochs in VARIANTS:
        with tempfile.TemporaryDirectory() as folder:
            torch.manual_seed(0)
            started = time.perf_counter()
            namespace["lora_text_classifier"](
                train["text"],
                [names[i] for i in train["label"]],
                models.resolve("minilm"),
                folder,
                also_train=also_train,
                lr=lr,
                epochs=epochs,
                progress=False,
            )
            seconds = time.perf_counter() - started
            answers = pipeline("text-classification", model=folder)(
                list(validation["text"]), batch_size=64, truncation=True
            )
        accuracy = float(np.mean([a["label"] == names[y] for a, y in zip(answers, validation["label"])]))
        runs.append(
            {
                "also_train": list(also_train),
                "lr": lr,
                "epochs": epochs,
                "val_accuracy": accuracy,
                "train_seconds": seconds,
            }
        )
        print(runs[-1], flush=True)
    best = max(runs, key=lambda r: r["val_accuracy"])
    RESULTS.write_text(json.dumps({"per_class": 32, "runs": runs, "best": best}, indent=2) + "\n")


if __name__ == "__main__":
    main()
