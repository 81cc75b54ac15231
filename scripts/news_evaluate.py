"""Run `spacy rehearsal evaluate` on the held-out news text, or record why it could not be.

    python scripts/news_evaluate.py HELDOUT_DIR OUTPUT_JSON -- python -m spacy rehearsal evaluate ...

Where scripts/prepare_demo.py found no CoNLL-2003, it wrote
HELDOUT_DIR/not_measured.txt: OUTPUT_JSON then gets `{"not_measured": reason}`
(scripts/report.py says so in the report) and the command is not run.
Otherwise the command after `--` runs as given (it writes OUTPUT_JSON itself).
"""
import json
import subprocess
import sys
from pathlib import Path


def main(argv: list) -> int:
    if len(argv) < 4 or argv[2] != "--":
        sys.exit(__doc__)
    heldout, output, command = Path(argv[0]), Path(argv[1]), argv[3:]
    note = heldout / "not_measured.txt"
    if note.exists():
        reason = note.read_text(encoding="utf8").strip()
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps({"not_measured": reason}, indent=2) + "\n", encoding="utf8")
        print(f"Not run: {reason}. Wrote {output}")
        return 0
    if command[0] == "python":
        command[0] = sys.executable
    return subprocess.run(command).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
