"""The main job (``mecopt demo``): the whole product on the embedded defaults.

Three parts, each a table and a figure: the single-slot comparison of every solver against
the proven optimum (:mod:`mecopt.compare`), the long-term comparison of online and learned
policies against the hindsight optimum on one trace (:mod:`mecopt.demo.longterm_part`) and
the compact variant each device class hosts (:mod:`mecopt.demo.variants_part`). Every
setting is in :class:`~mecopt.demo.settings.DemoSettings`; the learned policies shown are
found by :func:`~mecopt.demo.learned.learned_policy_file`.
"""

from mecopt.demo.learned import LEARNED_DEVICES, learned_policy_file
from mecopt.demo.settings import PARTS, DemoSettings

__all__ = ["LEARNED_DEVICES", "PARTS", "DemoSettings", "learned_policy_file"]
