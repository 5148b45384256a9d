"""Proven lower bounds without an LP, side by side.

- :mod:`.lagrangian`: the Lagrangian bound of the count-indexed model by pricing count
  layers with partial sorts, count fixing and the subgradient ascent (interference-free;
  a bound for every interference since costs only grow with it);
- :mod:`.interference`: a bound that accounts for other-cells interference (each ES's
  interference at its smallest for the number of offloaded users).

The Lagrangian bound with each ES's own interference is
:mod:`mecopt.formulations.bounds.interference_dual`; the hindsight LP bound stays with the
hindsight model.
"""
