"""`spacy rehearsal consolidate`: the two-teacher one-model route in one command.

    python -m spacy rehearsal consolidate BASE OUTPUT --labels L1,L2 --paths.train T --paths.dev D --paths.raw R

Two trainings, each from the config `init-config` writes:
1. `--strategy component` into OUTPUT/component: a NER for your labels before
   the frozen base (it learns your labels; the base keeps its own);
2. `--strategy rehearsal` into OUTPUT, with `paths.taught_teacher` set to the
   first training's model-last: the base NER is updated, the base teaching the
   kept labels on the raw text and the component's NER your labels
   (`distill.py`, two teachers).
OUTPUT/model-last and OUTPUT/model-best are one-model pipelines, as fast as the
base; the configs are written to OUTPUT/component.cfg and OUTPUT/config.cfg.
Every other option (`--paths.*`, `--training.*`) goes to both trainings.
Both configs, with those options, are generated, built and their paths checked
(set where the config needs them, files that exist) before OUTPUT is created
or the first training starts.
"""
from pathlib import Path
from typing import Any, Dict

import typer
from confection import Config
from spacy.cli._util import Arg, Opt, parse_config_overrides
from spacy.cli.train import train
from wasabi import msg

from ..config.render import check_config
from ..config.strategies import generate_config
from ..errors import InputError, SettingError, TeacherError
from ..teacher.base_pipeline import inspect_base
from ..training.checks import create_check_paths
from ._util import check_output_dir, fail, rehearsal_cli, split_labels

STEPS = (("component", "component"), ("rehearsal", "config"))


@rehearsal_cli.command("consolidate", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def consolidate_cli(
    # fmt: off
    ctx: typer.Context,
    base: str = Arg(..., help="The pipeline to update: package name or path (it is also the teacher)"),
    output: Path = Arg(..., help="Output directory: the one-model pipeline, and the component's under component/"),
    labels: str = Opt(..., "--labels", "-l", help="Comma-separated labels your annotations hold: new types (FASHION_BRAND), corrections of the base's own types (PERSON), or both"),
    use_gpu: int = Opt(-1, "--gpu-id", "-g", help="GPU ID or -1 for CPU"),
    # fmt: on
) -> None:
    """Train your labels into BASE's own NER with two teachers: two `spacy train` runs.

    LABELS may be new entity types, corrections of types BASE already
    predicts, or both. First the component strategy (a NER for LABELS before
    the frozen BASE; for corrections a copy of BASE's NER, the corrected
    labels gated off in the original), then BASE's NER with soft targets from
    BASE for its other labels and from the component's NER for LABELS. The
    result runs at BASE's speed. Options such as --paths.train, --paths.dev,
    --paths.raw and --training.max_epochs go to both trainings; both configs
    and their paths are checked before the first training.
    """
    overrides = parse_config_overrides(ctx.args)
    try:
        check_output_dir(output, "OUTPUT")
        base_pipeline = inspect_base(base)
        texts = {}
        for strategy, name in STEPS:
            texts[name] = generate_config(base_pipeline, split_labels(labels) or [], strategy)
            check_config(texts[name])
        for text in texts.values():
            check_paths(text, overrides)
    except (InputError, TeacherError, SettingError) as e:
        fail(e)
    output.mkdir(parents=True, exist_ok=True)
    component = output / "component"
    for (strategy, name), step in zip(STEPS, (1, 2)):
        path = output / f"{name}.cfg"
        path.write_text(texts[name], encoding="utf8")
        step_overrides = dict(overrides)
        if strategy == "rehearsal":
            step_overrides["paths.taught_teacher"] = str(component / "model-last")
        msg.divider(f"consolidate, step {step} of 2: --strategy {strategy} ({path})")
        train(path, component if strategy == "component" else output, use_gpu=use_gpu, overrides=step_overrides)
    msg.good(f"One-model pipeline: {output / 'model-last'} (the component strategy's: {component / 'model-last'})")


def check_paths(text: str, overrides: Dict[str, Any]) -> None:
    """The config's `rehearsal_check_paths.v1` checks, with the command line's overrides, and the files exist.

    What `spacy train` would stop on at its start (an unset path, a base that does not load), raised before any
    training; and a train, dev or raw path that names no file, which the reader would stop on.
    """
    config = Config().from_str(text, overrides=overrides)
    block = dict(config["nlp"].get("after_pipeline_creation") or {})
    if block.pop("@callbacks", None) == "rehearsal_check_paths.v1":
        create_check_paths(**block)
    for key in ("train", "dev", "raw"):
        value = config["paths"].get(key)
        if value not in (None, "") and not Path(value).exists():
            raise InputError(str(value), f"not found (paths.{key}: give an existing file or folder with --paths.{key})")
