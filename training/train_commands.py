"""``parstag train CONFIG [--set key=value ...] [--resume] [--output-dir DIR]``.

Registration imports nothing heavy; the handler imports the trainer (torch, transformers) when it runs.
"""

from __future__ import annotations

import argparse

TRAIN_EPILOG = """examples:
  parstag train configs/quickstart.yaml
  parstag train configs/parsbert-peyma.yaml --set optim.lr=3e-5 --set optim.epochs=5 --output-dir runs/lr3e-5
  parstag train configs/quickstart.yaml --resume            # continue a killed run from its last checkpoint
  accelerate launch -m parstag.training.cli train configs/parsbert-peyma.yaml   # several GPUs
  parstag train --help-config                               # every config key with its default and meaning
"""


def add_train_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train",
        help="train a model from a YAML config",
        description="Train NER (and quote-role) heads on a BERT encoder as a YAML config says.",
        epilog=TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", nargs="?", help="YAML config (see configs/)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, value read as YAML (repeatable), e.g. --set optim.lr=3e-5")  # fmt: skip
    p.add_argument("--output-dir", help="write the run here instead of the config's output_dir")
    p.add_argument("--resume", action="store_true",
                   help="continue from the last checkpoint in output_dir/checkpoints (refused if the config changed)")  # fmt: skip
    p.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    p.add_argument("--help-config", action="store_true", help="list every config key with its default and help")
    # Debugging aid for the resume test: SIGKILL the run right after the first checkpoint at/after step N.
    p.add_argument("--debug-kill-after-step", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=run_train)
    return p


def run_train(args: argparse.Namespace) -> int:
    import logging

    from .config import describe, dump_yaml, load_config

    if args.help_config:
        print(describe())
        return 0
    if not args.config:
        raise ValueError("a config file is needed, e.g. parstag train configs/quickstart.yaml")
    cfg = load_config(args.config, args.overrides)
    if args.output_dir:
        cfg.output_dir = args.output_dir
    if args.print_config:
        print(dump_yaml(cfg.to_dict()), end="")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("accelerate", "datasets", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from .trainer import train

    result = train(cfg, resume=args.resume, kill_after_step=args.debug_kill_after_step)
    logging.getLogger("parstag.train").info("done: %s", {k: v for k, v in result.items() if k != "folds"})
    return 0
