"""A driver kit: what a third-party driver package needs to test itself as ours are tested.

- `PtyPeer`: a scale on the far end of a pseudo-terminal, answering with your `respond`;
- `ScaleDriverContract` and `OutputDriverContract`: the shared suites every driver reruns
  (subclass, fill in the class variables, and pytest collects the tests);
- `wait_until`: wait for evidence, not for a guessed time.

Like `structlog.testing`, this ships with the package; it needs pytest (the `test` extra).
"""

from scale_agent.testing.contracts import OutputDriverContract, ScaleDriverContract
from scale_agent.testing.pty_peer import PtyPeer
from scale_agent.testing.waiting import wait_until

__all__ = ["OutputDriverContract", "PtyPeer", "ScaleDriverContract", "wait_until"]
