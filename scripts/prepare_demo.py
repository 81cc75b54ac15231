"""The demo's data: CoNLL-2003 where it lies, else the fashion texts that come with the clone.

    python scripts/prepare_demo.py CONLL_DIR FASHION_TRAIN OUTPUT_DIR [--n-raw N] [--n-eval N] [--seed S]

With CONLL_DIR/train.txt and CONLL_DIR/dev.txt (CoNLL-2003 is not
redistributable: it never comes with the clone), OUTPUT_DIR gets:
- `train.jsonl`: the fashion annotations, all of them;
- `raw/train.txt`: N-RAW shuffled CoNLL train sentences, the rehearsal text;
- `heldout/dev.txt` and `.spacy`: N-EVAL CoNLL dev sentences and their gold
  PER/ORG/LOC/MISC, the held-out news text the runs are compared on;
- `corrections/`: CoNLL sentences as corrections of the base's PERSON/ORG/GPE
  (the README's corrections example, scripts/prepare_corrections.py).

Without it, the user's own corpus is the raw text, as in the "own corpus
raw" column of docs/benchmarks.md: `train.jsonl` holds the first 80% of the
fashion annotations, `raw/train.txt` the last N-RAW fashion training texts (all
by default), one a line (the reader skips the annotated ones, so the other
20% rehearse), and
`heldout/dev.txt` and `.spacy` are
empty, and `heldout/not_measured.txt` says why: scripts/news_evaluate.py
then records that news agreement could not be measured, and the report
says so. Where CoNLL-2003 arrives later, run `spacy project run prepare
--force` (weasel cannot list a file that may be absent as a dependency).
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

from spacy.tokens import DocBin

SCRIPTS = Path(__file__).resolve().parent


def fashion_texts(path: Path, limit: int) -> list:
    """The last `limit` texts of a Prodigy JSONL file (0: all), one a line (line breaks inside a text become spaces).

    The last ones: the annotations are the first 80%, so the texts only given as raw text always come in."""
    texts = [" ".join(json.loads(line)["text"].split()) for line in path.read_text(encoding="utf8").splitlines() if line.strip()]
    return texts[-limit:] if limit else texts


OWN_SHARE = 0.8  # without CoNLL: the share of the fashion texts given as annotations, the rest only as raw text


def main(conll: Path, fashion_train: Path, output: Path, n_raw: int, n_eval: int, seed: int) -> None:
    heldout, note = output / "heldout", output / "heldout" / "not_measured.txt"
    heldout.mkdir(parents=True, exist_ok=True)
    run = [sys.executable, str(SCRIPTS / "prepare_conll.py")]
    annotations = [line for line in fashion_train.read_text(encoding="utf8").splitlines(keepends=True) if line.strip()]
    if (conll / "train.txt").exists() and (conll / "dev.txt").exists():
        note.unlink(missing_ok=True)
        (output / "train.jsonl").write_text("".join(annotations), encoding="utf8")
        subprocess.run([*run, str(conll / "train.txt"), str(output / "raw"), "--limit", str(n_raw), "--seed", str(seed)], check=True)
        subprocess.run([*run, str(conll / "dev.txt"), str(heldout), "--limit", str(n_eval), "--seed", str(seed)], check=True)
        subprocess.run([sys.executable, str(SCRIPTS / "prepare_corrections.py"), str(conll / "train.txt"),
                        str(output / "corrections"), "--seed", str(seed)], check=True)
        return
    annotated = round(OWN_SHARE * len(annotations))
    (output / "train.jsonl").write_text("".join(annotations[:annotated]), encoding="utf8")
    texts = fashion_texts(fashion_train, n_raw)
    (output / "raw").mkdir(parents=True, exist_ok=True)
    (output / "raw" / "train.txt").write_text("".join(t + "\n" for t in texts), encoding="utf8")
    (heldout / "dev.txt").write_text("", encoding="utf8")
    DocBin().to_disk(heldout / "dev.spacy")
    reason = (f"CoNLL-2003 not found at {conll} (train.txt, dev.txt): news agreement and gold PER/ORG/LOC "
              f"were not measured; set the project's `conll` var to a folder that holds it")
    note.write_text(reason + "\n", encoding="utf8")
    print(f"{reason}.\nWrote the first {annotated} fashion annotations to {output / 'train.jsonl'} and "
          f"{len(texts)} fashion training texts to {output / 'raw' / 'train.txt'} as raw text (your own corpus).")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("conll", type=Path, help="folder with CoNLL-2003 train.txt and dev.txt (may be absent)")
    parser.add_argument("fashion_train", type=Path, help="the fashion training JSONL, raw text without CoNLL")
    parser.add_argument("output", type=Path)
    parser.add_argument("--n-raw", type=int, default=5000)
    parser.add_argument("--n-eval", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.conll, args.fashion_train, args.output, args.n_raw, args.n_eval, args.seed)
