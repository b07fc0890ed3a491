"""python -m tlcourse.finetune: notebook 04's text fine-tune (MiniLM, LP-FT, wiki_topics) from the command line.

The same data, recipe and loop (`tlcourse.tools.train.fit`) as the notebook. Run it as it is on one process, or
data-parallel under accelerate (or torchrun); nothing in the loop changes:

    python -m tlcourse.finetune --per-class 32
    accelerate launch --multi_gpu --num_processes 2 -m tlcourse.finetune --per-class 32   # 2 processes
    torchrun --nproc_per_node 2 -m tlcourse.finetune --per-class 32                        # the same with torchrun

accelerate's --multi_gpu means "several processes, started by torchrun": on GPUs they talk over NCCL, on a
machine without GPUs this script asks for the gloo CPU backend. Several machines: `accelerate config` on each
(or --num_machines, --machine_rank, --main_process_ip, --main_process_port).

--batch-size is the global batch: each of N processes takes batch_size / N examples per step, and the
gradients are averaged across processes, so N processes follow the path of one (exactly, when the training
set divides into whole global batches, so that no process pads its last batch).
"""

import argparse
import json
import time
from pathlib import Path


def parse(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tlcourse.finetune", description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default="minilm", help="'minilm', a folder, or a hub id (online)")
    parser.add_argument("--per-class", default="32", help="labelled training paragraphs per topic, or 'all'")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16, help="global batch size, over all processes")
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--test-per-class", type=int, default=None, help="score on a slice of the test split")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads per process (default: the cores shared out between the processes)",
    )
    parser.add_argument(
        "--float64",
        action="store_true",
        help="compute in float64: rounding then cannot hide a real difference between two runs",
    )
    parser.add_argument("--no-dropout", action="store_true", help="deterministic run, to compare process counts")
    parser.add_argument("--output", default=None, help="folder for the model (save_pretrained) and metrics.json")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    import torch
    from accelerate import PartialState

    # the process group, set up from the launcher's environment: NCCL on GPUs, gloo on CPUs; 1 process otherwise
    state = PartialState(cpu=not torch.cuda.is_available())
    if args.batch_size % state.num_processes:
        raise SystemExit(f"--batch-size {args.batch_size} must divide by the {state.num_processes} processes")

    import numpy as np
    from transformers import AutoModel, AutoTokenizer, DataCollatorWithPadding

    import tlcourse
    from tlcourse.course import data, models
    from tlcourse.course.env import usable_cpus
    from tlcourse.tools import evaluate, text

    threads = args.threads or max(1, usable_cpus() // state.num_processes)
    tlcourse.setup(seed=0, threads=threads, verbose=state.is_main_process)
    topics = data.load("wiki_topics")
    per_class = None if args.per_class == "all" else int(args.per_class)
    train = topics["train"].select(text.label_budget(topics["train"]["label"], per_class))
    test = topics["test"]
    if args.test_per_class:
        test = test.select(text.label_budget(test["label"], args.test_per_class))
    path = models.resolve(args.checkpoint)
    tokenizer = AutoTokenizer.from_pretrained(path)
    dropout = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0} if args.no_dropout else {}
    encoder = AutoModel.from_pretrained(path, add_pooling_layer=False, **dropout).to(state.device)
    if args.float64:
        encoder = encoder.double()

    started = time.perf_counter()
    model, history = text.fine_tune(
        encoder,
        tokenizer,
        train,
        topics["train"].features["label"].names,
        max_length=args.max_length,
        epochs=args.epochs,
        batch_size=args.batch_size // state.num_processes,
        plot=False,
        progress=state.is_main_process,
    )
    seconds = time.perf_counter() - started
    if not state.is_main_process:
        return None
    collate = DataCollatorWithPadding(tokenizer)
    logits, labels = evaluate.predict(model, text.classification_tokens(test, tokenizer, args.max_length), collate)
    loss = torch.nn.functional.cross_entropy(torch.as_tensor(logits), torch.as_tensor(labels)).item()
    result = {
        "processes": state.num_processes,
        "threads": threads,
        "float64": args.float64,
        "per_class": args.per_class,
        "train_examples": len(train),
        "test_examples": len(test),
        "test_accuracy": float(np.mean(logits.argmax(-1) == labels)),
        "test_loss": loss,
        "train_seconds": seconds,
    }
    print(json.dumps(result))
    if args.output:
        folder = Path(args.output)
        folder.mkdir(parents=True, exist_ok=True)
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, folder / "model.safetensors")
        tokenizer.save_pretrained(folder)
        (folder / "metrics.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
