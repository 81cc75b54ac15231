"""`spacy rehearsal distill`: put a small student in the trained taught NER's place.

    python -m spacy rehearsal distill TRAINED OUTPUT [--raw R] [--annotations A] [--epochs 10]

TRAINED is a pipeline the component route trained (`model-last`): its
`meta["rehearsal"]` names the taught NER, and its config names the
annotations (`paths.train`, and earlier rounds' files) and the raw text
(`paths.raw`) it was trained with, which are the texts the student learns
from unless `--annotations` / `--raw` say otherwise. OUTPUT is the same
pipeline with the student (`training/component/student.py`) in the taught
NER's place: plain spaCy, loadable without the plugin.
"""
import time
from pathlib import Path
from typing import Any, List, Optional

import spacy
from spacy.cli._util import Arg, Opt
from spacy.language import Language
from wasabi import msg

from ..data.formats import read_annotations
from ..data.rawtext import iter_raw_texts
from ..errors import InputError, SettingError, TeacherError
from ..training.component.student import Progress, Shape, distill_student, record_student
from ._util import check_output_dir, check_positive, fail, rehearsal_cli

DEFAULT = Shape()


@rehearsal_cli.command("distill")
def distill_cli(
    # fmt: off
    trained: str = Arg(..., help="The pipeline the component route trained (e.g. training/model-last)"),
    output: Path = Arg(..., help="Output directory: the pipeline with the student in the taught NER's place"),
    raw: Optional[Path] = Opt(None, "--raw", "-r", help="Raw text to distil on (default: the trained config's paths.raw)"),
    annotations: Optional[Path] = Opt(None, "--annotations", "-a", help="Annotations whose texts to distil on (default: the trained config's paths.train and earlier rounds' files)"),
    max_texts: int = Opt(20000, "--max-texts", help="Use at most this many texts (annotations first, then raw text)"),
    epochs: int = Opt(6, "--epochs", "-e", help="Passes over the texts"),
    width: int = Opt(DEFAULT.width, "--width", help="The student's tok2vec width"),
    depth: int = Opt(DEFAULT.depth, "--depth", help="The student's CNN layers"),
    rows: int = Opt(DEFAULT.rows, "--rows", help="Hash embedding rows per attribute"),
    hidden: int = Opt(DEFAULT.hidden, "--hidden", help="The transition model's hidden width"),
    seed: int = Opt(0, "--seed", help="Random seed (text order, held-out texts, initial weights)"),
    # fmt: on
) -> None:
    """Distil the trained taught NER into a small student that runs faster.

    The student learns the taught NER's action distributions on your
    annotations' texts and your raw text (soft targets). Every other
    component, the frozen original NER included, is kept as it is. Each epoch
    prints the student's agreement with the taught NER on held-out texts.
    """
    try:
        check_positive(max_texts=max_texts, epochs=epochs, width=width, depth=depth, rows=rows, hidden=hidden)
        check_output_dir(output, "OUTPUT")
        teacher_nlp = spacy.load(trained)
        component = taught_component(teacher_nlp, trained)
        texts = distillation_texts(teacher_nlp, annotations, raw, max_texts)
        shape = Shape(width=width, depth=depth, rows=rows, hidden=hidden)
        student_nlp = spacy.load(trained)
        msg.info(f"Distilling '{component}' of {trained} into a student ({describe_shape(shape)}) on {len(texts)} texts")
        start = time.perf_counter()
        history = distill_student(teacher_nlp, student_nlp, component, texts, shape, epochs=epochs, seed=seed,
                                  on_epoch=print_progress)
    except (InputError, TeacherError, SettingError) as e:
        fail(e)
    record_student(student_nlp, shape, len(texts), history, str(trained))
    output.mkdir(parents=True, exist_ok=True)
    student_nlp.to_disk(output)
    msg.good(f"Saved {output}: '{component}' is the student (agreement with the taught NER on held-out texts "
             f"{history[-1].agreement:.3f}; {time.perf_counter() - start:.0f}s)")


def taught_component(nlp: Language, trained: str) -> str:
    """The taught NER `meta["rehearsal"]` names; InputError with the way forward where there is none."""
    record = nlp.meta.get("rehearsal")
    name = record.get("taught_component") if isinstance(record, dict) else None
    if not name or name not in nlp.pipe_names:
        raise InputError(trained, "names no taught NER in its meta.json ('rehearsal'): give a pipeline the component "
                                  "route trained (spacy rehearsal init-config --strategy component, then spacy train)")
    return str(name)


def distillation_texts(nlp: Language, annotations: Optional[Path], raw: Optional[Path], max_texts: int) -> List[str]:
    """The annotations' texts, then raw texts, at most `max_texts`, each text once."""
    paths = nlp.config.get("paths", {})
    reader = nlp.config.get("corpora", {}).get("train", {})
    files: List[Any] = [annotations] if annotations is not None else [paths.get("train"), *(reader.get("earlier_paths") or [])]
    raw_path = raw if raw is not None else paths.get("raw")
    texts: dict = {}
    for file in files:
        if file in (None, ""):
            continue
        if not Path(file).exists():
            raise InputError(str(file), "not found: the annotations the pipeline was trained on; give --annotations")
        texts.update((record.text, None) for record in read_annotations(Path(file))[0])
    if raw_path not in (None, ""):
        if not Path(raw_path).exists():
            raise InputError(str(raw_path), "not found: the raw text the pipeline was trained with; give --raw")
        for text in iter_raw_texts(Path(raw_path)):
            if len(texts) >= max_texts:
                break
            texts.setdefault(text.text, None)
    if not texts:
        raise InputError("--raw", "no texts to distil on: the trained config names none; give --raw (your raw text)")
    return list(texts)[:max_texts]


def describe_shape(shape: Shape) -> str:
    return f"width {shape.width}, depth {shape.depth}, {shape.rows} rows, hidden {shape.hidden}"


def print_progress(progress: Progress) -> None:
    msg.text(f"epoch {progress.epoch}: loss {progress.loss:.1f}, agreement {progress.agreement:.3f} ({progress.seconds:.0f}s)")
