"""Batched pattern evaluation: a population of candidates x patterns -> losses, in one jit.

A candidate is a point of the unit cube: its first coordinates are the model's parameters, the
rest the pattern's stimulus gains (the cube is mapped to each parameter's bounds, log where
declared, so every proposal of a strategy is valid). Patterns of similar duration are
simulated together (vmap over patterns, then over the population) so short protocols do not
pay for the longest one; each pattern's objective then runs on its own slice.

With `half_step=True` every candidate is also simulated at dt/2 and must pass there too (the
losses add up), with a spike count that agrees within 20% or one spike: forward-Euler models
such as figure1.m's Izhikevich change behaviour with the step (figure1.m's own parameters fail
5 patterns at half its step), and a pattern that exists only at one step size is a numerical
artefact, not a property of the model. `refinements` generalises this to any ladder of steps
(dt / k for each k; validation uses a ladder down to dt/10). All runs record 1-ms blocks, so
their responses stack and each objective is traced once.

Each candidate is also scored against the model's physiological limits (`physiology.py`: input
range, shortest interval, voltage range), so a search inside the physiological box can ask for
a physiological response too (`objectives`).

A large population is evaluated in chunks (`chunk` candidates per pattern at a time, one
`lax.map`), so the per-block records of a chunk fit in memory and cache whatever the population;
given a `mesh`, the population is first split between the mesh's devices (`shard_map`), each
evaluating its share chunk by chunk. Neither changes a candidate's result (compiled, bit for
bit; tests/test_evaluate.py, tests/test_sharding.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from jaxplaus import features, physiology, simulate, stimuli
from jaxplaus.errors import UsageError
from jaxplaus.models.base import ParamSpace
from jaxplaus.patterns import Pattern
from jaxplaus.patterns import criteria as C

DURATION_GROUPS_MS = (110.0, 230.0, 450.0)  # split points: <=110 ms, <=230 ms, <=450 ms, longer

# Candidates per pattern evaluated at once, by backend: on a CPU a chunk's records stay near the
# cache instead of being allocated afresh each call; on a GPU larger chunks run faster until the
# compile time grows (docs/performance.md, "Chunked evaluation"). Other backends: a guess that
# keeps a chunk's records near 3 GB.
CHUNK_CANDIDATES = {"cpu": 256, "gpu": 65536}
DEFAULT_CHUNK_CANDIDATES = 16384

COUNT_TOLERANCE = 0.2  # spike counts at every step agree with the finest step's within 20% ...
COUNT_SLACK = 1  # ... or one spike


class Scores(NamedTuple):
    """One evaluation of candidates, each field [steps, patterns, pop]."""

    loss: jnp.ndarray  # the pattern's graded objective
    passed: jnp.ndarray  # its validator
    limits_loss: jnp.ndarray  # graded violation of the model's physiological limits (0: met)
    limits_ok: jnp.ndarray  # the limits hold (True for a model without physiology)
    n_spikes: jnp.ndarray  # spikes in the run


def count_stability(n_spikes):
    """(graded violation, holds) of spike counts [steps, ...] agreeing down the steps: each
    step's count within COUNT_TOLERANCE (or COUNT_SLACK spikes) of the finest step's."""
    n = n_spikes.astype(jnp.float32)
    finest = n[-1]
    allowed = jnp.maximum(COUNT_SLACK, COUNT_TOLERANCE * finest)
    excess = jnp.max(jnp.abs(n - finest), axis=0) - allowed
    x = jnp.maximum(excess, 0.0) / allowed
    return x / (1.0 + x), excess <= 0


@dataclass(frozen=True, eq=False)
class Evaluator:
    """Evaluates candidates of one model on several patterns (static configuration)."""

    model: object
    patterns: tuple[Pattern, ...]
    dt: float = 0.25
    bounds: str = "wide"
    block_ms: float = 1.0
    half_step: bool = True
    chunk: int | None = None  # candidates per pattern evaluated at once (None: by backend)
    mesh: object = None  # a one-axis `jax.sharding.Mesh` to split the population over, or None
    # step divisors: each candidate is simulated at dt / k for each k (default: 1 and, with
    # `half_step`, 2); the last is the finest
    refinements: tuple[int, ...] | None = None
    # relative slack on the physiological response limits (physiology.SEARCH_MARGIN in a search,
    # 0 in validation)
    limit_margin: float = 0.0

    def __post_init__(self):
        if self.chunk is not None and self.chunk < 1:
            raise ValueError("chunk must be a positive number of candidates")
        longest = max(block_len for _, block_len in self.steps)
        if longest > simulate.MAX_BLOCK_LEN:
            raise UsageError(f"dt {self.dt:g} ms is too small for {self.block_ms:g}-ms recording blocks: "
                             f"{longest} steps a block, at most {simulate.MAX_BLOCK_LEN}")

    @property
    def chunk_size(self) -> int:
        if self.chunk is not None:
            return self.chunk
        platform = jax.default_backend() if self.mesh is None else self.mesh.devices.flat[0].platform
        return CHUNK_CANDIDATES.get(platform, DEFAULT_CHUNK_CANDIDATES)

    @cached_property
    def model_space(self) -> ParamSpace:
        return self.model.param_space

    @cached_property
    def gain_spaces(self) -> tuple[ParamSpace, ...]:
        return tuple(p.protocol.gain_space(self.model.current_scale) for p in self.patterns)

    @property
    def n_model(self) -> int:
        return len(self.model_space)

    @cached_property
    def n_gains(self) -> int:
        return max(len(g) for g in self.gain_spaces)

    @property
    def dim(self) -> int:
        return self.n_model + self.n_gains

    @property
    def block_len(self) -> int:
        return max(1, int(round(self.block_ms / self.dt)))

    @cached_property
    def groups(self) -> tuple[tuple[int, ...], ...]:
        """Pattern indices grouped by protocol duration."""
        edges = DURATION_GROUPS_MS + (np.inf,)
        durations = [p.protocol.duration_ms for p in self.patterns]
        grouped = [tuple(i for i, d in enumerate(durations) if lo < d <= hi)
                   for lo, hi in zip((0.0,) + edges[:-1], edges)]
        return tuple(g for g in grouped if g)

    def decode(self, z, index: int):
        """Unit-cube candidates [..., dim] -> (model params dict, gains [..., n_gains]) for pattern `index`."""
        params = self.model_space.from_unit(z[..., : self.n_model], self.bounds)
        space = self.gain_spaces[index]
        g = space.from_unit(z[..., self.n_model : self.n_model + len(space)])
        gains = jnp.stack([g[n] for n in space.names], axis=-1)
        pad = self.n_gains - len(space)
        return params, jnp.pad(gains, [(0, 0)] * (gains.ndim - 1) + [(0, pad)])

    def encode_defaults(self, index: int, model_values=None, gain_values=None) -> np.ndarray:
        """A unit-cube point for given (or default) model parameters and gains."""
        model_values = model_values or self.model_space.defaults()
        space = self.gain_spaces[index]
        gains = gain_values or space.defaults()
        z = np.full(self.dim, 0.5)
        z[: self.n_model] = self.model_space.to_unit(model_values, self.bounds)
        z[self.n_model : self.n_model + len(space)] = space.to_unit(gains)
        return z

    def physiological_box(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The model's physiological ranges as a box of this evaluator's cube (stimulus gains keep
        their whole range), or None when there is no smaller box (no ranges, or already searched)."""
        if self.bounds == "physiological" or not self.model_space.has_physiological():
            return None
        low, high = np.zeros(self.dim), np.ones(self.dim)
        names = self.model_space.names
        for values, out in zip(self.model_space.bounds("physiological"), (low, high)):
            out[: self.n_model] = self.model_space.to_unit(dict(zip(names, values)), self.bounds)
        return low, high

    @property
    def divisors(self) -> tuple[int, ...]:
        if self.refinements is not None:
            return tuple(self.refinements)
        return (1, 2) if self.half_step else (1,)

    @property
    def steps(self) -> list[tuple[float, int]]:
        """(dt, block_len) of each simulation of a candidate: dt / k for each of `divisors`."""
        return [(self.dt / k, k * self.block_len) for k in self.divisors]

    @cached_property
    def physiology(self):
        return physiology.of(self.model)

    @cached_property
    def input_breakpoints(self) -> tuple[np.ndarray, ...]:
        """Per pattern, its channels' values where its input is extreme (see physiology.py)."""
        return tuple(physiology.breakpoint_channels(p.protocol.pieces, p.protocol.duration_ms)
                     for p in self.patterns)

    def decoded_group(self, z, group: tuple[int, ...]):
        """Stacked (params, gains) [len(group), pop] of a duration group's candidates."""
        decoded = [self.decode(z[i], i) for i in group]
        params = jax.tree.map(lambda *xs: jnp.stack(xs), *[d[0] for d in decoded])
        return params, jnp.stack([d[1] for d in decoded])

    def group_inputs(self, group: tuple[int, ...], dt: float, block_len: int):
        """The group's stacked waveforms, protocol ends and the number of blocks to simulate."""
        pats = [self.patterns[i] for i in group]
        waves = stimuli.stack([stimuli.waveform(p.protocol.pieces) for p in pats])
        t_end = jnp.array([p.protocol.duration_ms for p in pats], jnp.float32)
        steps = max(simulate.n_steps(p.protocol.duration_ms, dt) for p in pats)
        return waves, t_end, simulate.n_blocks(steps, block_len)

    def records(self, z):
        """Simulation only: for each duration group, one Recording [len(group), pop, blocks] per step size."""
        out = []
        for group in self.groups:
            params, gains = self.decoded_group(z, group)
            recs = []
            for dt, block_len in self.steps:
                waves, t_end, blocks = self.group_inputs(group, dt, block_len)
                record = jax.vmap(  # over patterns; record_batch maps over the population
                    lambda p, w, g, te: simulate.record_batch.__wrapped__(
                        self.model, p, w, g, jnp.float32(dt), te, blocks, block_len))
                recs.append(record(params, waves, gains, t_end))
            out.append(recs)
        return out

    def __call__(self, z):
        """z [patterns, pop, dim] -> (loss [patterns, pop], passed [patterns, pop]); with
        several steps, losses add up (with the spike counts' disagreement), and a pass needs
        every step and agreeing counts."""
        return self.objectives(z)[:2]

    def objectives(self, z):
        """z [patterns, pop, dim] -> (loss, passed, physiological loss, physiological pass),
        each [patterns, pop], over all steps: the pattern's objective, and the same with the
        model's physiological limits added to it."""
        return aggregate(self.scores(z))

    def per_step(self, z):
        """z [patterns, pop, dim] -> (loss, passed) [steps, patterns, pop]."""
        scores = self.scores(z)
        return scores.loss, scores.passed

    def scores(self, z) -> Scores:
        """z [patterns, pop, dim] -> `Scores`, each field [steps, patterns, pop]."""
        if self.mesh is None or self.mesh.size == 1:
            return self._in_chunks(z)
        pop, devices, axis = z.shape[1], self.mesh.size, self.mesh.axis_names[0]
        split = jax.shard_map(self._in_chunks, mesh=self.mesh, in_specs=P(None, axis),
                              out_specs=P(None, None, axis), check_vma=False)
        scores = split(_pad_population(z, -(-pop // devices) * devices))
        return jax.tree.map(lambda x: x[..., :pop], scores)

    def _in_chunks(self, z):
        """`_evaluate` over chunks of at most `chunk_size` candidates, one after the other."""
        pop = z.shape[1]
        n = -(-pop // self.chunk_size)
        if n == 1:
            return self._evaluate(z)
        size = -(-pop // n)  # balanced chunks: padding stays below n candidates
        # chunk k holds candidates k, k + n, k + 2n, ...: a population split contiguously
        # between devices (VariantEvaluator's sharding) stays split within every chunk
        chunks = _pad_population(z, size * n).reshape(z.shape[0], size, n, -1).transpose(2, 0, 1, 3)
        scores = jax.lax.map(self._evaluate, chunks)  # [n, steps, patterns, size]
        unchunk = lambda x: x.transpose(1, 2, 3, 0).reshape(*x.shape[1:3], size * n)[..., :pop]  # noqa: E731
        return jax.tree.map(unchunk, scores)

    def _evaluate(self, z):
        # a barrier between the simulation and the scoring, so XLA does not fuse the scoring into
        # the simulation's outputs (docs/performance.md, "Simulation and scoring apart")
        return self.score_records(z, jax.lax.optimization_barrier(self.records(z)))

    def score_records(self, z, records) -> Scores:
        """Features, objectives and physiological limits of `records(z)` (simulated by this or
        any other engine)."""
        n_steps = len(self.steps)
        out = [None] * len(self.patterns)
        for i, resp, gains, threshold, params in self.objective_inputs(z, records):
            loss, ok = jax.vmap(self.patterns[i].score)(resp, gains, threshold)
            limits_loss, limits_ok = jax.vmap(lambda r, g, p: self._limits(i, r, g, p))(resp, gains, params)
            out[i] = [x.reshape(n_steps, -1) for x in (loss, ok, limits_loss, limits_ok, resp.n_spikes)]
        return Scores(*(jnp.stack(field, axis=1) for field in zip(*out)))

    def _limits(self, i, response, gains, params):
        """(graded violation, hold) of the model's physiological limits for pattern i."""
        if self.physiology is None:
            return jnp.float32(0.0), jnp.bool_(True)
        peak = physiology.peak_input(self.input_breakpoints[i], gains)
        limits = physiology.criteria(self.physiology, response, peak, params,
                                     self.patterns[i].protocol.duration_ms, self.limit_margin)
        violation = sum(C.violation(c) for c in limits)  # each in [0, 1]; a blow-up gives NaN
        return jnp.where(jnp.isfinite(violation), violation, float(len(limits))), \
            jnp.all(jnp.stack([C.holds(c) for c in limits]))

    def objective_inputs(self, z, records):
        """For each pattern, in group order: (index, Response, gains, threshold, params), each
        stacked over step sizes x population, as the pattern's `score` takes them under vmap."""
        n_steps = len(self.steps)
        for group, resp in zip(self.groups, self.responses(records)):
            params, gains = self.decoded_group(z, group)
            for k, i in enumerate(group):
                own = jax.tree.map(lambda x: x[k], params)
                threshold = jax.vmap(self.model.threshold)(own)
                threshold = jnp.tile(threshold * jnp.ones(gains.shape[1]), n_steps)
                yield (i, jax.tree.map(lambda x: x[k], resp), jnp.tile(gains[k], (n_steps, 1)), threshold,
                       jax.tree.map(lambda x: jnp.tile(x, n_steps), own))

    def responses(self, records):
        """Per duration group, the features.Response of every run, the step sizes' runs
        concatenated along the population axis ([len(group), steps x pop, ...])."""
        out = []
        for recs in records:
            # the loop writes the records block by block: handing them over block axis first
            # gives XLA their own layout, so the spike search reads them without a transposed copy
            runs = [features.response(jax.tree.map(lambda x: jnp.moveaxis(x, -1, 0) if x.ndim == 3 else x, rec),
                                      dt, block_len)
                    for rec, (dt, block_len) in zip(recs, self.steps)]
            blocks = min(r.v.shape[-1] for r in runs)  # equal up to rounding of the last block
            # (only the fields along blocks: spike_times keeps its MAX_SPIKES slots)
            runs = [r._replace(t=r.t[..., :blocks], v=r.v[..., :blocks], v_max=r.v_max[..., :blocks]) for r in runs]
            out.append(jax.tree.map(lambda *xs: jnp.concatenate(xs, axis=1), *runs))
        return out

    @cached_property
    def jitted(self):
        return jax.jit(self.__call__)


def aggregate(scores: Scores):
    """Per-step `Scores` -> (loss, passed, physiological loss, physiological pass) over all
    steps: losses add up, passes need every step, and with several steps the spike counts
    must agree (see `count_stability`)."""
    loss, passed = scores.loss.sum(axis=0), scores.passed.all(axis=0)
    if scores.loss.shape[0] > 1:
        unstable, stable = count_stability(scores.n_spikes)
        loss, passed = loss + unstable, passed & stable
    phys_loss = loss + scores.limits_loss.sum(axis=0)
    return loss, passed, phys_loss, passed & scores.limits_ok.all(axis=0)


def _pad_population(z, pop: int):
    """z [patterns, n, dim] padded to `pop` candidates with the cube's centre (a valid point)."""
    return jnp.pad(z, ((0, 0), (0, pop - z.shape[1]), (0, 0)), constant_values=0.5)
