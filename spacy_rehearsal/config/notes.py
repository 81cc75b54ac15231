"""The comment `init-config` writes above each setting it does not explain itself.

`strategies.py` and `routes.py` write the notes that depend on the strategy
(which fill, which route, the new NER). These are the rest: what each setting
does and why it has this value, one line each, so that every setting of a
written config carries a comment. `SECTION_NOTES` go above a section header and
speak for every key in it and in its subsections (blocks copied from the base
pipeline's config, spaCy's optimizer and batcher); `KEY_NOTES` go above a key.
Sections are matched with `fnmatch` patterns, the first match wins.
"""
from fnmatch import fnmatchcase
from typing import Optional, Tuple

# (section pattern, key pattern) -> note, first match wins
KEY_NOTES: Tuple[Tuple[str, str, str], ...] = (
    ("paths", "raw", "Raw text to rehearse on (one text a line, or JSONL): null until you give it with --paths.raw FILE"),
    ("paths", "vectors", "null: no vectors loaded at initialize; the components copied from the base keep theirs"),
    ("paths", "init_tok2vec", "null: no pretrained tok2vec weights loaded; the base's components keep theirs"),
    ("system", "seed", "Seed of the run's random state: 0, as the benchmarks' first seed"),
    ("system", "gpu_allocator", "null: no GPU memory allocator to set (it matters only for transformer pipelines)"),
    ("nlp", "lang", "The base pipeline's language, from its config"),
    ("nlp", "disabled", "Components the base pipeline ships switched off, kept off"),
    ("nlp", "*", "The base pipeline's setting, copied from its config"),
    ("nlp.after_pipeline_creation", "no_raw", "What a run without paths.raw gets: error (this config rehearses on it), warn or ignore"),
    ("nlp.after_pipeline_creation", "no_raw_cost", "What the benchmarks measured without raw text, said in the warning (empty: none)"),
    ("nlp.after_pipeline_creation", "base", "paths.base: must load, or spacy train stops here with one line saying what to give"),
    ("nlp.after_pipeline_creation", "train", "paths.train: unset, spacy train stops here with one line naming --paths.train"),
    ("nlp.after_pipeline_creation", "dev", "paths.dev: unset, spacy train stops here with one line naming --paths.dev"),
    ("nlp.after_pipeline_creation", "raw", "paths.raw: a run without it gets what no_raw says"),
    ("components.*", "source", "Copied from the base pipeline as it is"),
    ("components.*", "moves", "null: the NER's actions come from the labels it is trained on"),
    ("components.*", "*", "The base NER's setting, copied from its config"),
    ("corpora.*", "@readers", "The plugin's reader (v2: raw text never argues with your annotations)"),
    ("corpora.*", "path", "The annotations this corpus reads: a reference to [paths]"),
    ("corpora.*", "teacher", "The pipeline whose entities fill in and rehearse the old types: the base"),
    ("corpora.*", "raw_path", "Raw text mixed into this corpus, annotated by the teacher (null: none here)"),
    ("corpora.*", "cache_dir", "Where the teacher's annotations are kept between runs (paths.cache; null: not kept)"),
    ("corpora.*", "rehearsal_ratio", "Raw texts mixed in per annotated example (0: none)"),
    ("corpora.*", "teacher_labels", "The teacher's labels this corpus uses (null: all of the base's)"),
    ("corpora.*", "max_length", "Texts longer than this many tokens are left out (0: none are)"),
    ("corpora.*", "limit", "Read at most this many annotated texts (0: all; a quick trial: --corpora.train.limit 50)"),
    ("corpora.train", "shuffle", "true: the examples are shuffled every epoch"),
    ("corpora.dev", "shuffle", "false: the dev texts are scored in file order"),
    ("corpora.*", "seed", "Seed of the shuffle and of the raw-text draw (the reader's own random state)"),
    ("corpora.*", "n_process", "Processes for the teacher's nlp.pipe: 1 (each more loads the base once more)"),
    ("corpora.*", "batch_size", "Texts per nlp.pipe batch of the teacher: spaCy's default"),
    ("corpora.*", "misaligned_spans", "error: a span off the base's token boundaries stops training with its file and line"),
    ("corpora.*", "respect_annotations", "true: raw copies of your texts are skipped; strings you annotated keep your label"),
    ("training", "seed", "The run's seed ([system])"),
    ("training", "max_steps", "0: no step limit; max_epochs ends the run"),
    ("training", "patience", "0: no early stop; every epoch runs, as in the benchmarks (model-best keeps the best dev score)"),
    ("training", "eval_frequency", "Score the dev corpus every 200 steps (spaCy's default); model-best is chosen at these"),
    ("training", "dropout", "spaCy's default dropout for updating a trained pipeline"),
    ("training", "frozen_components", "Only the NER learns: the other components stay as the base has them"),
    ("training", "annotating_components", "None: no component's predictions are set on the docs during training"),
    ("training", "gpu_allocator", "The run's GPU allocator ([system])"),
    ("training", "accumulate_gradient", "1: the weights are updated after every batch"),
    ("training", "dev_corpus", "The [corpora] block spacy train scores on"),
    ("training", "train_corpus", "The [corpora] block spacy train learns from"),
    ("training", "before_to_disk", "null: the pipeline is saved as trained"),
    ("training", "before_update", "null: no rehearsal step inside the update (raw text, if any, comes through the reader)"),
    ("training.logger", "@loggers", "The console table of losses and dev scores"),
    ("training.logger", "progress_bar", "No progress bar between the table's rows"),
    ("training.before_update", "@callbacks", "Rehearsal inside each update step (v3: never argues with your annotations)"),
    ("training.before_update", "teacher", "The pipeline rehearsed: the base"),
    ("training.before_update", "raw_path", "The raw text rehearsed: paths.raw"),
    ("training.before_update", "components", "The NER rehearsed: the base's, which learns your labels"),
    ("training.before_update", "cache_dir", "Where the teacher's annotations are kept between runs (paths.cache; null: not kept)"),
    ("training.before_update", "respect_annotations", "true: raw copies of your texts are skipped; strings you annotated get no target"),
    ("training.before_update", "taught_teacher", "A second teacher for your labels (paths.taught_teacher; null: the base alone)"),
    ("initialize.after_init", "base", "The base pipeline (paths.base)"),
    ("initialize.after_init", "@callbacks", "Sets up the taught NER: its start, the gate, what meta.json records "
     "(docs/reference.md)"),
    ("initialize.after_init", "component", "The taught NER: the component that learns your labels, before the original"),
    ("initialize.after_init", "source", "The base NER: copied into the taught NER when copy_weights is true"),
    ("initialize.after_init", "gate_components", "The frozen base NERs the corrected labels are gated off in (empty: none)"),
    ("initialize.after_init", "features", "null: the taught NER computes its own features (--shared-features: the base NER's)"),
    ("initialize.after_init", "resume", "false: round 1 starts the taught NER; a later round trains it further"),
    ("initialize.after_init", "labels", "The labels your annotations hold: the taught NER predicts each"),
    ("initialize.after_init", "annotations", "Your annotations: their counts per label go into meta.json"),
    ("initialize", "vectors", "paths.vectors: null, no vectors loaded at initialize"),
    ("initialize", "init_tok2vec", "paths.init_tok2vec: null, no pretrained tok2vec weights"),
    ("initialize", "vocab_data", "null: the vocab is the base's (before_init copies it)"),
    ("initialize", "lookups", "null: no lookup tables loaded; the base's lemmatizer keeps its own"),
    ("initialize", "after_init", "null: nothing runs after initialize"),
)
# section pattern -> note above its header, covering its keys and subsections
SECTION_NOTES: Tuple[Tuple[str, str], ...] = (
    ("nlp.tokenizer", "The base pipeline's tokenizer; its rules and exceptions are copied by [initialize.before_init]"),
    ("nlp.vectors", "The base pipeline's vectors table type, copied from its config"),
    ("components.*.model", "The new NER's model: the base NER's architecture and sizes (CNN depth: --component-depth)"),
    ("components.*.scorer", "spaCy's NER scorer, as the base NER has it"),
    ("training.score_weights", "model-best is chosen on entity F: the base's other scores are not in the dev data"),
    ("training.batcher", "spaCy's NER batcher: about 1000 words a batch, its default for trained pipelines"),
    ("training.optimizer", "Adam with spaCy's defaults for a trained pipeline (the benchmarks used them, untuned)"),
    ("initialize.before_init", "Tokenizer and vocab copied from the base, so texts split as the base splits them"),
)


def key_note(section: str, key: str) -> Optional[str]:
    """The default note on `key` in `section`, or None."""
    for section_pattern, key_pattern, note in KEY_NOTES:
        if fnmatchcase(section, section_pattern) and fnmatchcase(key, key_pattern):
            return note
    return None


def section_note(section: str) -> Optional[str]:
    """The note above a section header, or None."""
    for pattern, note in SECTION_NOTES:
        if fnmatchcase(section, pattern):
            return note
    return None
