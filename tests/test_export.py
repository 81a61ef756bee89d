"""Int8 export: the written weights rebuild exactly the quantized model, and nothing loads them as fp32."""

from __future__ import annotations

import json

import pytest
import torch

from _tiny import one_thread, random_model, save  # noqa: F401 (one_thread: autouse fixture)
from parstag.inference import Tagger
from parstag.inference.export import INT8_WEIGHTS, export_int8, is_int8_export, load_int8, quantize_dynamic_int8
from parstag.inference.modeling import load_model

TEXT = "علي رضايي، وزير كشور، روز ۱۲ مهر 1402 در تهران گفت: «ما پیشرفت‌ها داشته‌ایم.» 😀 " * 5


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    source = save(random_model(seed=8, quotes=True), root / "fp32")
    return source, export_int8(source, root / "int8")


def test_export_writes_int8_weights_and_marks_the_config(exported):
    source, out = exported
    assert is_int8_export(out) and not is_int8_export(source)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["parstag"]["quantized"] == "dynamic-int8"
    assert config["parstag"]["tasks"] == ["ner", "quotes"] and config["quote_labels"]
    from safetensors import safe_open

    with safe_open(str(out / INT8_WEIGHTS), "pt") as f:
        keys = set(f.keys())
        assert f.get_tensor("bert.encoder.layer.0.output.dense.weight.int8").dtype == torch.int8
    assert "classifier.weight" in keys and "bert.embeddings.word_embeddings.weight" in keys


def test_loaded_int8_model_is_exactly_the_quantized_model(exported):
    source, out = exported
    reference = quantize_dynamic_int8(load_model(source))
    loaded = load_int8(out)
    ids = torch.randint(5, 5000, (3, 40))
    with torch.no_grad():
        a, b = reference(ids), loaded(ids)
    assert torch.equal(a.logits, b.logits) and torch.equal(a.quote_logits, b.quote_logits)


def test_tagger_loads_the_export_as_int8(exported):
    source, out = exported
    from_export = Tagger.from_pretrained(out, device="cpu")(TEXT)
    at_load = Tagger.from_pretrained(source, device="cpu", quantize="dynamic-int8")(TEXT)
    assert from_export["entities"] == at_load["entities"]
    assert from_export["_quote_roles"] == at_load["_quote_roles"]


def test_fp32_loader_refuses_an_int8_directory(exported):
    _, out = exported
    with pytest.raises(OSError):
        load_model(out)


def test_int8_on_gpu_is_refused(exported):
    _, out = exported
    with pytest.raises(ValueError, match="CPU"):
        Tagger.from_pretrained(out, device="cuda")
