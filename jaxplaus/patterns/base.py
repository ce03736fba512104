"""A pattern = a protocol (the stimulus to apply) + the criteria that say what it means.

Both the validator and the graded objective come from the criteria (see `criteria.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax.numpy as jnp

from jaxplaus import features as F
from jaxplaus.patterns import criteria as C
from jaxplaus.patterns.protocols import Protocol
from jaxplaus.stimuli import Marks

BLOWUP_LOSS = 100.0  # a non-finite simulation: finite, and worse than any real response


@dataclass(frozen=True)
class Pattern:
    name: str
    letter: str  # panel of Izhikevich (2004) Fig. 1
    title: str
    meaning: str
    protocol: Protocol
    measure: Callable  # (response, gains, marks, v_threshold) -> list[Criterion]
    needs_spikes: bool = True  # silence is far from the pattern (adds a drive-to-threshold term)
    # objective-only term (response, gains, marks, v_threshold) -> loss >= 0, zero whenever the
    # criteria can be met: it grades responses the criteria cannot tell apart
    shaping: Callable | None = None

    @property
    def input_class(self) -> str:
        return self.protocol.input_class

    def criteria(self, response: F.Response, gains, v_threshold, marks: Marks | None = None):
        resolved = C.count_at_most("spikes beyond the feature buffer", response.n_spikes - F.MAX_SPIKES, 0)
        return [resolved] + self.measure(response, gains, marks or self.protocol.marks, v_threshold)

    def _overflow(self, response: F.Response):
        return jnp.maximum(response.n_spikes - F.MAX_SPIKES, 0).astype(jnp.float32)

    def validate(self, response: F.Response, gains, v_threshold, marks: Marks | None = None):
        """True when every criterion holds and the simulation stayed finite."""
        checks = [C.holds(c) for c in self.criteria(response, gains, v_threshold, marks)]
        return jnp.all(jnp.stack(checks)) & response.finite

    def objective(self, response: F.Response, gains, v_threshold, marks: Marks | None = None):
        """Graded loss: 0 when the pattern is fully present (with margin), BLOWUP_LOSS on blow-up."""
        return self.score(response, gains, v_threshold, marks)[0]

    def score(self, response: F.Response, gains, v_threshold, marks: Marks | None = None):
        """(objective, validator) from one evaluation of the criteria."""
        marks = marks or self.protocol.marks
        criteria = self.criteria(response, gains, v_threshold, marks)
        passed = jnp.all(jnp.stack([C.holds(c) for c in criteria])) & response.finite
        loss = sum(C.violation(c) for c in criteria)
        # more spikes than the features can see: worse than every resolved response, yet graded
        overflow = self._overflow(response)
        loss = jnp.where(overflow > 0, len(criteria) + 1.0 + overflow / (overflow + F.MAX_SPIKES), loss)
        if self.needs_spikes:
            first_input = min([m for m in (marks.steps + tuple(p[0] for p in marks.pulses)
                                           + tuple(p[0] for p in marks.inhibitions)
                                           + tuple(p[0] for p in marks.ramps)) if m > 0] or [0.0])
            v_rest = F.resting_voltage(response, first_input)
            drive = F.drive(response, v_rest, v_threshold, -1.0, marks.end + 1.0)
            loss = loss + jnp.where(response.n_spikes == 0, 0.5 * (1.0 - drive), 0.0)
        if self.shaping is not None:
            loss = loss + self.shaping(response, gains, marks, v_threshold)
        return jnp.where(response.finite & jnp.isfinite(loss), loss, BLOWUP_LOSS), passed
