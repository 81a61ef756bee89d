"""A killed run, resumed, ends exactly where the uninterrupted run ends; a changed config is refused.

The killed run is a real process killed with SIGKILL (the hidden ``--debug-kill-after-step`` option kills
it right after the checkpoint of step 8, in the middle of the second epoch), so nothing is flushed or
cleaned up: the resume works from what is on disk.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from parstag.training.config import load_config

from _tiny import one_thread  # noqa: F401 (autouse fixture: one torch thread for tiny models)

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "train_tiny"



CONFIG = f"""
model:
  from_scratch: {{tokenizer: {ROOT / "data/tokenizers/parsbert-v1"}, hidden_size: 32, num_layers: 2, num_heads: 2,
                 intermediate_size: 64, max_position: 64{{mlm}}}}
data:
  corpora:
    - {{name: tiny, reader: conll, train: {FIX / "train.txt"}, dev: {FIX / "dev.txt"}, test: null,
       types: [PER, ORG, LOC, DAT]}}
optim: {{lr: 5e-3, epochs: 3, batch_size: 8, warmup_ratio: 0.1, max_length: 64, seed: 1}}
eval: {{strategy: epoch, patience: 5, log_every_steps: 3}}
checkpoint: {{every_steps: 4, keep_last: 2}}
"""

def _weights(directory: Path) -> dict[str, torch.Tensor]:
    return load_file(str(directory / "model.safetensors"))


@pytest.mark.parametrize("mlm", ["", ", mlm: {epochs: 2, batch_size: 8}"], ids=["scratch", "mlm-pretrained"])
def test_killed_run_resumes_to_the_same_result(tmp_path, mlm):
    from parstag.training.trainer import train

    config = tmp_path / "tiny.yaml"
    config.write_text(CONFIG.replace("{mlm}", mlm), encoding="utf-8")
    straight, killed = tmp_path / "straight", tmp_path / "killed"

    # 1. the reference: one uninterrupted run (18 steps: 6 per epoch)
    reference = train(load_config(config, [f"output_dir={straight}"]))
    assert reference["steps"] == 18

    # 2. the same run in a subprocess, SIGKILLed right after the step-8 checkpoint
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "parstag.training.cli", "train", str(config), "--output-dir", str(killed),
                           "--debug-kill-after-step", "8"], env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    checkpoints = sorted(p.name for p in (killed / "checkpoints").iterdir())
    assert checkpoints == ["step-4", "step-8"] and not (killed / "result.json").exists()

    # 3. a changed config is refused, naming the key; nothing is overwritten
    with pytest.raises(ValueError, match=r"refusing to resume .*step-8.*optim\.lr: 0\.005 -> 0\.001"):
        train(load_config(config, [f"output_dir={killed}", "optim.lr=1e-3"]), resume=True)

    # 4. resume: continues at step 9 (mid-epoch: the sampler skips the 2 batches already used); with
    # pretraining, the weights come from the checkpoint: the masked-LM stage is not run again
    pretrained = killed / "pretrained" / "model.safetensors"
    stamp = pretrained.stat().st_mtime_ns if mlm else None
    resumed = train(load_config(config, [f"output_dir={killed}"]), resume=True)
    assert resumed["steps"] == 18 and resumed["best_step"] == reference["best_step"]
    if mlm:
        assert resumed["pretrain"] == reference["pretrain"] and pretrained.stat().st_mtime_ns == stamp
    assert resumed["best_dev_f1"] == reference["best_dev_f1"]
    h_ref = json.loads((straight / "history.json").read_text(encoding="utf-8"))
    h_res = json.loads((killed / "history.json").read_text(encoding="utf-8"))
    assert [h["step"] for h in h_res] == [h["step"] for h in h_ref]
    for a, b in zip(h_ref, h_res):
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == pytest.approx(b[key], abs=1e-6), (a["step"], key)
    # the best model and the last checkpoint's weights, optimizer state included, agree
    for a, b in [(straight / "model", killed / "model"), (straight / "checkpoints/step-16", killed / "checkpoints/step-16")]:
        wa, wb = _weights(a), _weights(b)
        assert wa.keys() == wb.keys()
        assert max((wa[k] - wb[k]).abs().max().item() for k in wa) <= 1e-6
    opt_a = torch.load(straight / "checkpoints/step-16/optimizer.bin", weights_only=True)
    opt_b = torch.load(killed / "checkpoints/step-16/optimizer.bin", weights_only=True)
    for k, state in opt_a["state"].items():
        assert torch.allclose(state["exp_avg_sq"], opt_b["state"][k]["exp_avg_sq"], atol=1e-9)
