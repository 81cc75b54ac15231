"""Where the benchmarks read their data: the fashion files in the clone, CoNLL-2003 beside it.

The fashion-brands files come with the repository (`assets/fashion_brands`,
MIT, from explosion/projects). CoNLL-2003 is not redistributable: the folder
holding its train.txt and dev.txt is $SPACY_REHEARSAL_CONLL, else
`../shared/data/conll2003` beside the clone (as CI has it), as in
tests/conftest.py.
"""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FASHION = ROOT / "assets" / "fashion_brands"
CONLL = Path(os.environ.get("SPACY_REHEARSAL_CONLL") or ROOT.parent / "shared" / "data" / "conll2003")
