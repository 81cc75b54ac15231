"""The one-model route at training time: the base NER itself is updated, and rehearsal keeps what it knew.

- `callback.py`: `rehearsal_callback.v1`-`v3` (`[training.before_update]`);
- `rehearsal_step.py`, `rehearsal_state.py`: what the callback runs each step and shares with the logger;
- `distill.py`, `actions.py`: soft targets for a transition NER;
- `anchor.py`: an L2 pull toward the starting weights;
- `logger.py`: `rehearsal_logger.v1`/`.v2`, the rehearsal loss and live retention.
"""
