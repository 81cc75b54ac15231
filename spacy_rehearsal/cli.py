"""`spacy rehearsal` commands (placeholder, being written)."""
