"""Meta-learning synaptic plasticity rules in recurrent E/I spiking networks (Confavreux et al.
2025, PLoS Comput. Biol. 21(4): e1012910).

network     the TIF E/I network, event-driven sparse synapses, one `step`
rules       plasticity rules (co-active 6/12/24, polynomial 21, MLP) by name
simulation  chunked runs with filtered-rate blow-up detection
tasks       stability and familiarity losses
metalearn   evosax search, candidates x trials vmapped per generation
experiment  a stored run (checkpoints, results, index); analysis, figures
"""

from jaxplaus.plasticity.network import PRESETS, Network, draw_trial, get_network, initial_state, step
from jaxplaus.plasticity.rules import RULES, coactive_fixed_point, confavreux2025_ie, get_rule, vogels2011
from jaxplaus.plasticity.tasks import get_task

__all__ = [
    "PRESETS",
    "RULES",
    "Network",
    "coactive_fixed_point",
    "confavreux2025_ie",
    "draw_trial",
    "get_network",
    "get_rule",
    "get_task",
    "initial_state",
    "step",
    "vogels2011",
]
