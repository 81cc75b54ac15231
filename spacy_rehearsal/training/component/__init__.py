"""The component route at training time: the taught NER before the frozen original.

- `taught_ner.py`: `rehearsal_component.v1`-`v3`, the `[initialize.after_init]`
  callback that starts the taught NER (copied, fresh or resumed from the last
  round), gates corrected labels and writes `meta["rehearsal"]`;
- `gate.py`: corrected labels gated off in the original's output biases;
- `features.py`: the original NER's features shared with the taught NER;
- `rounds.py`: what a pipeline this route made says of its rounds
  (`meta["rehearsal"]`), read back when it is updated again.
"""
