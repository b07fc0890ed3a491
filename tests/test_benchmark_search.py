"""The benchmarks' searches grow their grid past an edge until the choice is inside it."""

import importlib.util
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_vit_search_grows_past_the_edges_until_its_choice_is_inside():
    vit_transfer = load("vit_transfer")
    best_lr, best_fraction = 2.5e-4, 2.0  # both beyond the starting grid's edges
    runs = []

    def run_one(lr, cap, seed):
        fraction = cap / vit_transfer.MAX_STEPS["10"]
        score = 0.9 - 0.1 * abs(math.log2(lr / best_lr)) - 0.05 * abs(math.log2(fraction / best_fraction))
        runs.append(
            {"method": "scratch", "budget": "10", "lr": lr, "max_steps": cap, "seed": seed, "val_accuracy": score}
        )

    vit_transfer.search("scratch", "10", [5e-4, 1e-3, 2e-3], [0.5, 1.0], [0], runs, run_one)
    lr, cap = vit_transfer.choose(vit_transfer.grid_means(runs, "scratch", "10"))
    assert (lr, cap) == (best_lr, int(best_fraction * vit_transfer.MAX_STEPS["10"]))
    tried_lrs, tried_caps = {r["lr"] for r in runs}, {r["max_steps"] for r in runs}
    assert min(tried_lrs) < lr < max(tried_lrs) and min(tried_caps) < cap < max(tried_caps)  # inside
    assert len(runs) == len({(r["lr"], r["max_steps"]) for r in runs})  # nothing ran twice


def test_a_tie_goes_inside_the_grid_and_the_source_c_grid_grows_past_its_edge():
    vit_course_transfer = load("vit_course_transfer")
    assert vit_course_transfer.choose_lr({5e-4: 0.98, 1e-3: 0.98, 2e-3: 0.98}) == 1e-3
    assert vit_course_transfer.choose_lr({5e-4: 0.99, 1e-3: 0.98, 2e-3: 0.97}) == 5e-4
    assert vit_course_transfer.grid_edge({"0.01": 0.86, "0.1": 0.85, "1.0": 0.84}) == 1e-3
    assert vit_course_transfer.grid_edge({"0.001": 0.855, "0.01": 0.86, "0.1": 0.85}) is None
