"""The behaviour-only twin: the same city and seed where nothing acts on people.

The chilling effect is what the system changes in what people do: the city's occurrences
against those of its twin, where the system records and scores but no sanction, response or
listed response reaches anyone. The twin draws the same random numbers wherever the difference
does not reach, and its day is three phases, behaviour, rescheduling and the day's end
(:meth:`City.behaviour_only`). A whole run runs its twin after the city; a live city keeps one
a day on with every day (:func:`keep_twin`).
"""

from __future__ import annotations

import numpy as np

from xinyong.engine.city import City
from xinyong.engine.parts import Block
from xinyong.scenario import Scenario
from xinyong.scenario.timeline import behaviour_timeline

__all__ = ["behaviour_twin", "has_twin", "keep_twin", "twin_occurrences"]


def has_twin(scenario: Scenario) -> bool:
    """Whether anything acts on the scenario's people, so that its runs have a twin city: a
    response, or consequences that people on a list respond to (a listed response)."""
    listed = scenario.listed_response
    return scenario.response is not None or (
        scenario.consequences is not None
        and not (listed.negative == 1.0 and listed.positive == 1.0)
    )


def behaviour_twin(
    scenario: Scenario, seed: int, block: Block | None = None, threads: bool = False
) -> City | None:
    """The behaviour-only twin of a city (or of one block of it), at day 0, which the chilling
    effect is measured against; None for a city where nothing acts on people, which needs no
    twin.

    The twin is the same city and seed where the system records and scores but nothing acts
    on people (no sanctions, no responses, no listed response). It draws the same random
    numbers wherever the difference does not reach. A city whose people respond to nothing
    (no response, and no consequences or no listed response) has no twin: it would do what
    the city does.
    Its day is three phases: behaviour, rescheduling and the day's end
    (:meth:`~xinyong.engine.city.City.behaviour_only`). With ``threads`` it uses a second
    core (its set-up's first draws, tomorrow's draws), as a city does.
    """
    if not has_twin(scenario):
        return None
    twin = City(
        scenario.model_copy(
            update={  # no network either: only responses read it
                "consequences": None,
                "response": None,
                "network": None,
                "timeline": behaviour_timeline(scenario),  # what people do, nothing else
                "listed_response": scenario.listed_response.model_copy(
                    update={"negative": 1.0, "positive": 1.0}
                ),
            }
        ),
        seed,
        None,
        block=block,
        threads=threads,
    )
    twin.behaviour_only()
    return twin


def twin_occurrences(
    scenario: Scenario, seed: int, block: Block | None = None, threads: bool = False
) -> np.ndarray | None:
    """Occurrences per day and behaviour in the behaviour-only twin of a whole run (or of one
    block of it), every day of it (see :func:`behaviour_twin`); None without a twin."""
    twin = behaviour_twin(scenario, seed, block, threads)
    if twin is None:
        return None
    twin.run()
    return twin.occurrences()


def keep_twin(city: City) -> None:
    """Keep the behaviour-only twin of ``city`` from now on (a live city, to show the
    chilling effect as it goes), a day on with every day of the city; a city past day 0 gets
    the twin caught up to its day (the same seed draws the same numbers). Nothing happens for
    a city where nothing acts on people (no twin to compare with)."""
    if city.twin is None:
        city.twin = behaviour_twin(city.scenario, city.seed, city.block)
    if city.twin is not None:
        while city.twin.day < city.day:
            city.twin.step()
