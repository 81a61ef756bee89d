"""Int8 models for CPU inference: quantize at load time, or export int8 weights once and load those.

The problem: bert-base in fp32 is compute-bound on a small CPU (near the machine's fp32 matmul peak),
and int8 matrix products (fbgemm, VNNI where present) are several times faster.  PyTorch's dynamic
quantisation replaces every ``nn.Linear`` of the encoder by an int8-weight linear whose activations are
quantised on the fly; it needs no calibration data.  The heads stay fp32 (they are tiny, and this keeps
the label probabilities as close to fp32 as possible).

A quantized module cannot be saved with ``save_pretrained`` as safetensors, and parstag never loads
pickles.  So ``export_int8`` writes the int8 weights themselves (int8 values, scale, zero point) next to
the remaining fp32 tensors in ``model.int8.safetensors`` - a different file name on purpose, so that the
plain fp32 loader fails loudly on such a directory instead of building a model with random weights -
and marks the config (``config.parstag["quantized"] = "dynamic-int8"``).  ``load_int8`` rebuilds exactly
the quantized model; ``Tagger.from_pretrained`` recognises the directory.  For bert-base the file is 394 MB
instead of 649 MB (the 100k-entry embedding matrix stays fp32), and loading it never builds the fp32
encoder: 0.6 GB resident after loading instead of 1.4 GB for quantizing at load time.

ONNX Runtime int8 was not faster than torch dynamic int8 on our CPUs, so it is not a dependency.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
from torch import nn

INT8_WEIGHTS = "model.int8.safetensors"
MODE = "dynamic-int8"


def quantize_dynamic_int8(model: nn.Module) -> nn.Module:
    """Replace the encoder's ``nn.Linear`` layers by dynamic int8 ones, in place; returns the model."""
    model = model.to("cpu").eval()
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao, which is not a dependency; it works.
        warnings.simplefilter("ignore")
        torch.ao.quantization.quantize_dynamic(model.bert, {nn.Linear}, dtype=torch.qint8, inplace=True)
    return model


def _quantized_linears(model: nn.Module):
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    for name, module in model.named_modules():
        if isinstance(module, DynamicLinear):
            yield name, module


def _float_keys(model: nn.Module) -> list[str]:
    """State-dict keys of the tensors that stay fp32 (all but the quantized linears' own entries)."""
    quantized = {name for name, _ in _quantized_linears(model)}
    return [
        key for key, value in model.state_dict().items()
        if isinstance(value, torch.Tensor) and "_packed_params" not in key and key.rsplit(".", 1)[0] not in quantized
    ]


def is_int8_export(path: str | Path) -> bool:
    config = Path(path) / "config.json"
    if not config.is_file() or not (Path(path) / INT8_WEIGHTS).is_file():
        return False
    settings = json.loads(config.read_text(encoding="utf-8")).get("parstag") or {}
    return settings.get("quantized") == MODE


def export_int8(model_dir: str | Path, out_dir: str | Path) -> Path:
    """Quantize the model in ``model_dir`` and write it (config, tokenizer, int8 weights) to ``out_dir``."""
    from safetensors.torch import save_file

    from .modeling import load_model, load_tokenizer

    model = quantize_dynamic_int8(load_model(model_dir))
    tensors: dict[str, torch.Tensor] = {}
    for name, module in _quantized_linears(model):
        weight, bias = module.weight(), module.bias()
        tensors[f"{name}.weight.int8"] = weight.int_repr().contiguous()
        if weight.qscheme() in (torch.per_tensor_affine, torch.per_tensor_symmetric):
            tensors[f"{name}.weight.scale"] = torch.tensor([weight.q_scale()], dtype=torch.float64)
            tensors[f"{name}.weight.zero_point"] = torch.tensor([weight.q_zero_point()], dtype=torch.int64)
        else:
            tensors[f"{name}.weight.scale"] = weight.q_per_channel_scales().contiguous()
            tensors[f"{name}.weight.zero_point"] = weight.q_per_channel_zero_points().contiguous()
            tensors[f"{name}.weight.axis"] = torch.tensor([weight.q_per_channel_axis()], dtype=torch.int64)
        if bias is not None:
            tensors[f"{name}.bias"] = bias.detach().contiguous()
    state = model.state_dict()
    for key in _float_keys(model):
        tensors[key] = state[key].contiguous()

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.config.parstag = {**(getattr(model.config, "parstag", None) or {}), "quantized": MODE}
    model.config.to_json_file(out / "config.json")
    load_tokenizer(model_dir).save_pretrained(out)
    save_file(tensors, str(out / INT8_WEIGHTS), metadata={"format": "pt", "parstag": MODE})
    return out


def load_int8(path: str | Path) -> nn.Module:
    """The quantized model written by ``export_int8``.

    Built without ever holding fp32 encoder weights: the skeleton is made on the meta device, its encoder
    linears are replaced by int8 ones made from the file, and the fp32 tensors are assigned, not copied.
    (Building an fp32 model and quantizing it costs ~1.5 GB of RSS for bert-base; this, about 0.5 GB.)
    """
    from safetensors.torch import load_file
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
    from transformers import AutoConfig

    from .modeling import ParstagForTokenClassification

    config = AutoConfig.from_pretrained(str(path))
    with torch.device("meta"):
        model = ParstagForTokenClassification(config)
    tensors = load_file(str(Path(path) / INT8_WEIGHTS))
    linears = [(name, m) for name, m in model.bert.named_modules() if isinstance(m, nn.Linear)]
    for name, linear in linears:
        name = f"bert.{name}"
        q = tensors.pop(f"{name}.weight.int8")
        scale = tensors.pop(f"{name}.weight.scale")
        zero = tensors.pop(f"{name}.weight.zero_point")
        axis = tensors.pop(f"{name}.weight.axis", None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # quantized tensors are deprecated in favour of torchao; they work
            if axis is None:
                weight = torch._make_per_tensor_quantized_tensor(q, float(scale[0]), int(zero[0]))
            else:
                weight = torch._make_per_channel_quantized_tensor(q, scale, zero, int(axis[0]))
            module = DynamicLinear(linear.in_features, linear.out_features, dtype=torch.qint8)
            module.set_weight_bias(weight, tensors.pop(f"{name}.bias", None))
        parent, _, attr = name.rpartition(".")
        setattr(model.get_submodule(parent), attr, module)

    expected = set(_float_keys(model))
    missing, unexpected = sorted(expected - set(tensors)), sorted(set(tensors) - expected)
    if missing or unexpected:
        raise ValueError(f"{path}: int8 weights do not match the config (missing {missing}, unexpected {unexpected})")
    params = dict(model.named_parameters())
    for key, value in tensors.items():
        owner, _, attr = key.rpartition(".")
        module = model.get_submodule(owner)
        if key in params:
            setattr(module, attr, nn.Parameter(value, requires_grad=False))
        else:
            module.register_buffer(attr, value)
    # Non-persistent buffers are not in any file; BERT's are index tables, rebuilt here.
    for key, buffer in list(model.named_buffers()):
        if buffer.is_meta:
            owner, _, attr = key.rpartition(".")
            if attr == "position_ids":
                value = torch.arange(buffer.shape[-1]).expand(buffer.shape)
            elif attr == "token_type_ids":
                value = torch.zeros(buffer.shape, dtype=buffer.dtype)
            else:
                raise ValueError(f"{path}: cannot rebuild buffer {key}")
            model.get_submodule(owner).register_buffer(attr, value, persistent=False)
    return model.eval()
