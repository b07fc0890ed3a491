"""The offline path opens no network connection: every socket connect is refused and recorded."""

import socket

import pytest

import tlcourse
from tlcourse.course import data, models


@pytest.fixture
def socket_guard(monkeypatch):
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError(f"tlcourse test: network connection attempted to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(None, address))
    return attempts


def test_setup_data_and_models_open_no_connection_offline(socket_guard, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tlcourse.setup(seed=0, verbose=False)
    data.load("digits")
    data.load("wiki_topics")
    model = models.load("minilm", task="sequence-classification", num_labels=3)
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(models.resolve("minilm"))
    assert model.config.num_labels == 3
    assert socket_guard == []


def test_setup_switches_to_offline_when_the_hub_is_unreachable(socket_guard, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    tlcourse.setup(seed=0, verbose=False)
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert len(socket_guard) == 1  # one probe, no retries
