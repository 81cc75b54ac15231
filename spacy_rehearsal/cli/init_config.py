"""`spacy rehearsal init-config`: write a complete training config for a strategy.

    python -m spacy rehearsal init-config BASE OUTPUT --labels L1,L2 --strategy component

Like `spacy init config`, it generates the config (`strategies.py`), proves it
by building the pipeline it describes (sourcing BASE), and only then writes
it. `spacy train OUTPUT --paths.train T --paths.dev D --paths.raw R` then runs
with no other override.
"""
from pathlib import Path
from typing import Optional

from spacy.cli._util import Arg, Opt
from wasabi import msg

from ..config.component import NO_RAW_COST, corrected_labels, original_labels, recipe_for
from ..config.render import check_config
from ..config.rounds import component_summary, plan_round, trains_full_copy
from ..config.strategies import NO_RAW_CORRECTIONS, ROUND_NO_RAW_COST, STRATEGIES, generate_config, taught_record
from ..errors import InputError, TeacherError
from ..teacher.base_pipeline import inspect_base
from ..training.component.rounds import describe, plan
from ._util import fail, rehearsal_cli, split_labels

# Printed whole on one line (plain print: wasabi wraps at 80 columns), so it pastes as it is once the
# three placeholders are replaced; the teacher cache goes under .cache/, which .gitignore covers
NEXT_STEP = (
    "python -m spacy train {output} --paths.train TRAIN --paths.dev DEV --paths.raw RAW "
    "--paths.cache .cache/teacher --output training/"
)
# The optional step after a corrections training: a small student in the full copy's place
DISTILL_STEP = "python -m spacy rehearsal distill training/model-last training/model-student"
# --strategy help: the routes to choose from first, then the older recipes, kept for the benchmarks
STRATEGY_HELP = (
    "component (recommended: a NER for your labels before the frozen original, best retention) or rehearsal "
    "(one model: the original NER learns them, no inference cost). Older one-model recipes, kept for the "
    f"benchmarks: {', '.join(s for s in STRATEGIES if s not in ('component', 'rehearsal'))}"
)


@rehearsal_cli.command("init-config")
def init_config_cli(
    # fmt: off
    base: str = Arg(..., help="The pipeline to update: package name or path (it is also the teacher)"),
    output: Path = Arg(..., help="Config file to write, or - for standard output"),
    labels: str = Opt(..., "--labels", "-l", help="Comma-separated labels your annotations hold: new types (FASHION_BRAND), the base's own types you correct (PERSON), or both"),
    strategy: str = Opt("component", "--strategy", "-s", help=STRATEGY_HELP),
    component_depth: Optional[int] = Opt(None, "--component-depth", help="component: the base NER's layers, at most this many (0: all; default: new labels a small NER of its own, corrections a full copy)"),
    copy_weights: Optional[bool] = Opt(None, "--copy-weights/--fresh", help="component: start the taught NER from the base NER's weights or random ones (default: fresh for new labels, copied for corrections)"),
    raw_ratio: Optional[float] = Opt(None, "--raw-ratio", help="component: raw sentences taught as O for the taught labels, per annotated example (default: the recipe's)"),
    shared_features: Optional[bool] = Opt(None, "--shared-features/--own-features", help="component: the taught NER reads the base NER's features (faster, learns far less) or has its own (default)"),
    force: bool = Opt(False, "--force", "-F", help="Overwrite OUTPUT if it exists"),
    # fmt: on
) -> None:
    """Write a complete, commented training config that teaches BASE the LABELS your annotations hold.

    LABELS can be new types, the base's own types you correct, or both.
    Choose between two strategies: "component" (recommended) keeps BASE
    exactly as it is and adds a NER for the taught labels before its NER (best
    retention, costs inference time); on a pipeline it made before, it trains
    that NER further (rounds: the pipeline keeps two NERs). "rehearsal" (one
    model) updates BASE's NER with the best measured one-model recipe (no
    inference cost, keeps less).
    "reader", "callback", "fill-callback" and "distill" are older one-model
    recipes, kept for the benchmarks. Train the config with spacy train, giving
    --paths.train, --paths.dev and --paths.raw, and --paths.cache DIR to keep
    the teacher's annotations between runs.
    """
    try:
        if str(output) != "-" and output.exists() and not force:
            raise InputError(str(output), "exists: use --force to overwrite it")
        base_pipeline = inspect_base(base)
        text = generate_config(
            base_pipeline,
            split_labels(labels) or [],
            strategy,
            component_depth=component_depth,
            copy_weights=copy_weights,
            raw_ratio=raw_ratio,
            shared_features=shared_features,
        )
        check_config(text)
    except (InputError, TeacherError) as e:
        fail(e)
    if str(output) == "-":
        print(text, end="")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf8")
    msg.good(f"Wrote the {strategy} config for {base} to {output}")
    taught = split_labels(labels) or []
    record = taught_record(base_pipeline, strategy)
    next_round = plan_round(base_pipeline, taught, record) if record is not None else None
    if next_round is not None:
        raw_used, labels_plan = next_round.raw_ratio > 0, next_round.labels_plan
    else:
        recipe = recipe_for(taught, base_pipeline, component_depth, copy_weights, raw_ratio, shared_features)
        raw_used = recipe.raw_ratio > 0 if strategy == "component" else strategy != "fill-callback"
        labels_plan = plan(taught, original_labels(base_pipeline))
    next_step = NEXT_STEP.format(output=output)
    print(f"Train with: {next_step if raw_used else next_step.replace(' --paths.raw RAW', '')}")
    if strategy == "component" and trains_full_copy(base_pipeline, taught, next_round) and not shared_features:
        # The student learns the corrected types from the full copy on raw text, which a corrections config does not read
        print(f"Then, for a faster pipeline: {DISTILL_STEP if raw_used else DISTILL_STEP + ' --raw RAW'}")
    msg.text(f"Labels: {describe(labels_plan)}")
    corrected = corrected_labels(taught, base_pipeline)
    if strategy == "component":
        for line in component_summary(base_pipeline, taught, record, next_round, shared_features or False):
            msg.text(line)
    elif corrected:
        msg.text(f"Correcting {', '.join(corrected)}: {base} already predicts them, so your annotations decide them "
                 f"and the teacher's reading of them is never rehearsed (respect_annotations). Measured cost of one "
                 f"model (README: Which strategy?): 0.90-0.93 of naive's gain at 0.78-0.82 agreement on the other "
                 f"types, where --strategy component kept 1.00 at 0.97")
    if strategy == "component" and not raw_used:
        msg.text(f"No raw text ({NO_RAW_CORRECTIONS if corrected else '--raw-ratio 0'}): a --paths.raw given to "
                 f"spacy train is ignored, with a warning")
    if strategy == "component" and raw_used:
        msg.text(f"Raw text is read: {ROUND_NO_RAW_COST if record is not None else NO_RAW_COST}")
    if raw_used:
        msg.text(
            "RAW: unlabelled text, from your own corpus or like the base's training text (news for "
            "en_core_web_*). Raw copies of your annotated texts are skipped and strings you annotated are "
            "never taught as anything else (respect_annotations)"
        )
