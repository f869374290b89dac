"""Scenarios as data (see :mod:`xinyong.scenario.models`, moved here from ``scenario.py``)."""

from xinyong.scenario.models import *  # noqa: F403
from xinyong.scenario.models import __all__  # noqa: F401
