"""tlcourse.tools.mlm: packing, the head at masked positions, fixed masks, the count yardsticks, the recipe."""

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForMaskedLM, RoFormerConfig, RoFormerForMaskedLM

from tlcourse.lessons.mlm_pretraining import MaskedOnlyMLM, pack
from tlcourse.tools import mlm

SPECIAL = [0, 1, 2, 3, 4]  # [PAD] [UNK] [CLS] [SEP] [MASK]


def test_pack_concatenates_and_drops_only_the_last_partial_block():
    paragraphs = [[2, 10, 11, 3], [2, 12, 3], [2, 13, 14, 15, 3]]
    blocks = pack(paragraphs, 5)
    assert blocks.tolist() == [[2, 10, 11, 3, 2], [12, 3, 2, 13, 14]]  # 12 tokens -> 2 full blocks, 2 left over


@pytest.mark.parametrize("arch", ["roformer", "bert"])
def test_masked_only_head_gives_the_full_head_loss(arch):
    torch.manual_seed(0)
    common = dict(vocab_size=60, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    model = (
        RoFormerForMaskedLM(RoFormerConfig(embedding_size=32, **common))
        if arch == "roformer"
        else BertForMaskedLM(BertConfig(**common))
    ).eval()
    ids = torch.randint(5, 60, (3, 16))
    labels = torch.full_like(ids, -100)
    labels[:, ::4] = ids[:, ::4]
    out = MaskedOnlyMLM(model)(input_ids=ids, labels=labels)
    assert out["logits"].shape == (12, 60)
    assert torch.allclose(out["loss"], model(input_ids=ids, labels=labels).loss, atol=1e-6)


def test_fixed_masks_are_seeded_80_10_10_and_skip_special_tokens():
    rng = np.random.default_rng(0)
    blocks = rng.integers(5, 1000, size=(400, 64))
    blocks[:, 0], blocks[:, 31] = 2, 3
    a = mlm.fixed_masks(blocks, 4, 1000, SPECIAL, seed=1)
    b = mlm.fixed_masks(blocks, 4, 1000, SPECIAL, seed=1)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    picked = a["labels"] != -100
    assert not picked[:, [0, 31]].any()
    assert abs(picked.sum() / (400 * 62) - 0.15) < 0.01
    shares = np.bincount(a["kind"][picked], minlength=4)[1:] / picked.sum()
    assert np.allclose(shares, [0.8, 0.1, 0.1], atol=0.02)
    assert (a["input_ids"][a["kind"] == 1] == 4).all()
    assert (a["input_ids"][a["kind"] == 3] == blocks[a["kind"] == 3]).all()
    assert (a["labels"][picked] == blocks[picked]).all()


def test_count_models_are_distributions_and_the_bigram_uses_the_left_token():
    # a stream where each token is followed by a fixed successor: the bigram model should nail it
    rng = np.random.default_rng(0)
    successor = rng.permutation(np.arange(5, 50))
    stream = [5]
    for _ in range(64 * 200 - 1):
        stream.append(successor[stream[-1] - 5])
    blocks = np.array(stream).reshape(200, 64)
    counts = mlm.CountModels(blocks, 50, SPECIAL)
    assert np.isclose(counts.unigram.sum(), 1)
    assert np.allclose(counts.bigram_probabilities([5, 17, 4]).sum(1), 1)  # 4 = [MASK], never a left token: unigram
    assert np.allclose(counts.bigram_probabilities([4])[0], counts.unigram)
    masked = mlm.fixed_masks(blocks[:20], 4, 50, SPECIAL, seed=0)
    uni_loss, uni_hit, bi_loss, bi_hit, kind, target = counts.evaluate(masked)
    unigram = mlm.mask_scores(uni_loss, uni_hit, kind, target)
    bigram = mlm.mask_scores(bi_loss, bi_hit, kind, target)
    assert bigram["mask_loss"] < unigram["mask_loss"] - 2
    assert bigram["mask_accuracy"] > 0.7 > unigram["mask_accuracy"]  # misses only where the left token is masked


def test_held_out_scores_the_kinds_apart():
    torch.manual_seed(0)
    model = RoFormerForMaskedLM(
        RoFormerConfig(
            vocab_size=40,
            hidden_size=16,
            embedding_size=16,
            num_hidden_layers=1,
            num_attention_heads=1,
            intermediate_size=32,
        )
    )
    blocks = np.random.default_rng(0).integers(5, 40, size=(30, 20))
    masked = mlm.fixed_masks(blocks, 4, 40, SPECIAL, seed=0)
    result = mlm.held_out(model, masked, frequent_ids=[5, 6])
    assert result["n_mask"] == int((masked["kind"] == 1).sum())
    assert 0 <= result["rare_accuracy"] <= 1 and result["mask_loss"] > 0
    assert np.isclose(result["mask_perplexity"], np.exp(result["mask_loss"]))
    assert model.training  # restored


def test_from_config_roformer_has_its_rotary_table():
    from transformers import AutoConfig, AutoModelForMaskedLM

    config = AutoConfig.for_model(
        "roformer",
        vocab_size=40,
        hidden_size=16,
        embedding_size=16,
        num_hidden_layers=1,
        num_attention_heads=1,
        intermediate_size=32,
    )
    table = AutoModelForMaskedLM.from_config(config).roformer.encoder.embed_positions
    assert table.weight.abs().sum() > 0 and torch.equal(table.weight, table.create_weight())


def test_pretrain_saves_a_checkpoint_that_loads_back(tmp_path):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    sizes = dict(
        arch="roformer",
        corpus_size=64,
        vocab_size=500,
        block_size=64,
        layers=1,
        hidden=64,
        epochs=1,
        batch_size=16,
        lr=1e-3,
    )
    seen = []
    model, tokenizer, blocks, history, seconds = mlm.pretrain(
        tmp_path / "own", sizes, eval_fn=lambda m: seen.append(m) or {"x": 1}
    )
    assert len(history.epochs) == 1 and history.epochs[0]["x"] == 1 and seconds > 0
    assert seen[0] is model  # eval_fn gets the MLM model, not the wrapper
    assert blocks["train"].shape[1] == 64
    reloaded = AutoModelForMaskedLM.from_pretrained(tmp_path / "own")
    assert type(reloaded).__name__ == "RoFormerForMaskedLM" and reloaded.config.vocab_size == 500
    assert AutoTokenizer.from_pretrained(tmp_path / "own").mask_token == "[MASK]"


def test_resume_of_a_tied_mlm_model_ends_with_the_same_weights(tmp_path, caplog):
    """The checkpoint stores the tied embedding / output projection once; resuming must restore both."""
    from transformers import DataCollatorForLanguageModeling

    from tlcourse.lessons.mlm_pretraining import train_tokenizer
    from tlcourse.tools.train import fit

    tokenizer = train_tokenizer(["the cat sat on the mat and the dog ran"] * 20, vocab_size=60, max_length=16)
    rows = [{"input_ids": b} for b in pack(tokenizer(["the cat sat on the mat"] * 40)["input_ids"], 16)]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.3)

    def new():
        torch.manual_seed(0)
        return MaskedOnlyMLM(
            RoFormerForMaskedLM(
                RoFormerConfig(
                    vocab_size=len(tokenizer),
                    hidden_size=16,
                    embedding_size=16,
                    num_hidden_layers=1,
                    num_attention_heads=1,
                    intermediate_size=32,
                )
            )
        )

    options = dict(collate_fn=collator, batch_size=4, lr=1e-2, plot=False, progress=False, seed=0)
    reference = new()
    fit(reference, rows, epochs=2, output_dir=tmp_path / "straight", **options)
    calls = {"n": 0}

    def collate_that_fails_in_epoch_2(batch):
        calls["n"] += 1
        if calls["n"] == len(rows) // 4 + 2:  # the power goes out during epoch 2
            raise KeyboardInterrupt("interrupted")
        return collator(batch)

    with pytest.raises(KeyboardInterrupt):
        fit(
            new(),
            rows,
            epochs=2,
            output_dir=tmp_path / "cut",
            **{**options, "collate_fn": collate_that_fails_in_epoch_2},
        )
    resumed = new()
    fit(resumed, rows, epochs=2, output_dir=tmp_path / "cut", resume=True, **options)
    tied = resumed.mlm
    assert tied.cls.predictions.decoder.weight is tied.roformer.embeddings.word_embeddings.weight
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    assert "Removed shared tensor" not in caplog.text


def test_whole_word_masking_option_masks_every_piece_of_a_word(tmp_path):
    from transformers import DataCollatorForLanguageModeling

    sizes = dict(
        arch="roformer",
        corpus_size=40,
        vocab_size=300,
        block_size=64,
        layers=1,
        hidden=32,
        epochs=1,
        batch_size=8,
        lr=1e-3,
        whole_word=True,
    )
    tokenizer, blocks, _ = mlm.corpus_blocks(sizes)
    assert blocks["train_offsets"].shape == (*blocks["train"].shape, 2)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, whole_word_mask=True)
    torch.manual_seed(0)
    batch = collator(
        [{"input_ids": b, "offset_mapping": o} for b, o in zip(blocks["train"][:16], blocks["train_offsets"][:16])]
    )
    pieces = np.array(
        [[t.startswith("##") for t in tokenizer.convert_ids_to_tokens(row)] for row in blocks["train"][:16]]
    )
    picked = (batch["labels"] != -100).numpy()
    # a word piece "##x" is picked exactly when the piece before it is: words are masked whole
    assert (picked[:, 1:][pieces[:, 1:]] == picked[:, :-1][pieces[:, 1:]]).all()
    assert picked[:, 1:][pieces[:, 1:]].any()
    _, _, _, history, _ = mlm.pretrain(None, sizes)
    assert len(history.epochs) == 1


def test_a_saved_vocabulary_tokenizes_exactly_as_the_trained_one(tmp_path):
    from tokenizers import BertWordPieceTokenizer

    from tlcourse.course import data
    from tlcourse.lessons.mlm_pretraining import train_tokenizer, vocabulary_sha256, wrap_wordpiece

    texts = ["The cat sat on the mat; naïve cafés in Zürich.", "Photosynthesis converts light energy."] * 30
    trained = train_tokenizer(texts, vocab_size=120, max_length=16)
    path = tmp_path / "vocab.txt"
    path.write_text("".join(t + "\n" for t, _ in sorted(trained.get_vocab().items(), key=lambda x: x[1])))
    reloaded = wrap_wordpiece(BertWordPieceTokenizer(str(path), lowercase=True), 16)
    probe = texts[:2] + ["unseen words: 北京 [MASK] xylophone"]
    assert reloaded(probe)["input_ids"] == trained(probe)["input_ids"]
    assert vocabulary_sha256(reloaded) == vocabulary_sha256(trained) == data.sha256(path)


def test_the_shipped_vocabulary_is_checked_on_load(tmp_path, monkeypatch):
    from tlcourse.course import data
    from tlcourse.lessons.mlm_pretraining import vocabulary_sha256

    sizes = {"corpus_size": 300, "vocab_size": 2000, "block_size": 128}
    tokenizer = mlm.course_tokenizer(sizes)
    assert len(tokenizer) == 2000 and tokenizer.mask_token_id is not None
    assert vocabulary_sha256(tokenizer) == data.read_manifest()["vocabularies"][mlm.vocabulary_path(sizes).name]
    assert mlm.course_tokenizer({**sizes, "vocab_size": 1234}) is None  # no vocabulary shipped for these sizes
    tampered = tmp_path / mlm.vocabulary_path(sizes).name
    tampered.write_text(mlm.vocabulary_path(sizes).read_text().replace("the\n", "teh\n", 1))
    monkeypatch.setattr(mlm, "vocabulary_path", lambda _: tampered)
    with pytest.raises(data.DataIntegrityError, match="sha256"):
        mlm.course_tokenizer(sizes)


SAME_DATA = """
import json
from tlcourse.tools import mlm
from tlcourse.lessons.mlm_pretraining import pretraining_sizes, vocabulary_sha256
tokenizer, blocks, _ = mlm.corpus_blocks(pretraining_sizes())
special = tokenizer.all_special_ids
masked = mlm.fixed_masks(blocks["test"], tokenizer.mask_token_id, len(tokenizer), special, seed=321)
uni, _, bi, _, kind, _ = mlm.CountModels(blocks["train"], len(tokenizer), special).evaluate(masked)
print(json.dumps({"vocab": vocabulary_sha256(tokenizer), "tokens": int(blocks["train"].size),
                  "masks": int(masked["labels"].sum()), "unigram": float(uni[kind == 1].mean()),
                  "bigram": float(bi[kind == 1].mean())}))
"""


@pytest.mark.slow
def test_notebook_03s_data_is_the_same_in_every_process_and_on_avx2_kernels():
    import json
    import os
    import subprocess
    import sys

    smoke = {**os.environ, "TLCOURSE_PROFILE": "smoke", "HF_HUB_OFFLINE": "1"}
    avx2 = {**smoke, "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", SAME_DATA], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        for env in (smoke, smoke, avx2)
    ]
    assert runs[0] == runs[1] == runs[2]  # vocabulary, blocks, masks and yardsticks, to the last bit
