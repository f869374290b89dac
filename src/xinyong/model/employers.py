"""Employers: the city's companies and government organisations, whom they employ, who leads them.

The work step of :func:`~xinyong.model.population.generate_population` (:func:`employ`): which
adults are employed, by which kind of organisation, by which organisation (heavy-tailed sizes),
and each organisation's legal representative, one of its employees. Organisations come out
numbered in the order of their legal representatives' ids, so a block of a split run, cut at a
citizen, holds each organisation with its legal representative.

Every draw comes from the run's keyed streams on day ``SETUP``, streams ``population/employed``,
``population/sector``, ``population/company/...`` and ``population/government/...``, addressed
by citizen or organisation id.
"""

from __future__ import annotations

import numpy as np

from xinyong.model.families import ADULT
from xinyong.model.weighted import categorical
from xinyong.primitives.streams import SETUP, Streams
from xinyong.scenario import PopulationSpec

__all__ = ["COMPANY", "GOVERNMENT", "employ"]

#: Kinds of organisation.
COMPANY, GOVERNMENT = 0, 1

# Employer sizes: relative weights are log-normal with these sigmas. Firm sizes are heavy
# tailed and roughly log-normal in their body (Cabral & Mata 2003, "On the evolution of the
# firm size distribution", AER 93(4)); sigma 1.5 is an assumption. Government organisations
# are assumed more alike in size (sigma 0.5).
_COMPANY_SIZE_SIGMA = 1.5
_GOVERNMENT_SIZE_SIGMA = 0.5


def _assign_employers(
    streams: Streams, employees: np.ndarray, requested: int, offset: int, sigma: float, stream: str
) -> tuple[np.ndarray, np.ndarray]:
    """Spread ``employees`` over up to ``requested`` organisations with heavy-tailed sizes.

    Each organisation first gets one employee, who is its legal representative; the others go
    to organisations in proportion to log-normal weights. With fewer employees than requested
    organisations, there are only as many organisations as employees.

    Returns:
        The organisation id (from ``offset``) of each employee, and each organisation's legal
        representative.
    """
    n = min(requested, employees.size)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    key = streams.uniform(f"{stream}/legal-rep", SETUP, employees)
    first = np.argpartition(key, n - 1)[:n] if n < employees.size else np.arange(n)
    first = first[np.argsort(key[first], kind="stable")]
    weight = np.exp(sigma * streams.normal(f"{stream}/size", SETUP, np.arange(n)))
    org = categorical(streams.uniform(f"{stream}/employer", SETUP, employees), weight)
    org[first] = np.arange(n)
    return offset + org, employees[first]


def employ(
    spec: PopulationSpec, citizens: int, role: np.ndarray, streams: Streams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Employ adults and found the organisations that employ them (see generate_population).

    Args:
        spec: gives ``employment_rate``, ``government_share``, ``companies_per_1000`` and
            ``government_orgs``.
        citizens: the number of citizens.
        role: per citizen, its role in its household (only :data:`ADULT` citizens work).
        streams: the run's random streams.

    Returns:
        ``(employer, org_kind, org_legal_rep)``: per citizen, the int32 id of its organisation
        (-1 if none); per organisation, its int8 kind (:data:`COMPANY` or :data:`GOVERNMENT`)
        and the int32 citizen id of its legal representative, in increasing order.
    """
    adult_ids = np.flatnonzero(role == ADULT)
    n_company = round(citizens / 1000 * spec.companies_per_1000)
    n_government = spec.government_orgs
    employed = adult_ids[
        streams.uniform("population/employed", SETUP, adult_ids) < spec.employment_rate
    ]
    if n_company == 0 and n_government == 0:
        employed = employed[:0]
    to_government = streams.uniform("population/sector", SETUP, employed) < spec.government_share
    if n_company == 0:
        to_government[:] = True
    elif n_government == 0:
        to_government[:] = False
    employer = np.full(citizens, -1, dtype=np.int32)
    org_c, rep_c = _assign_employers(
        streams, employed[~to_government], n_company, 0, _COMPANY_SIZE_SIGMA, "population/company"
    )
    org_g, rep_g = _assign_employers(
        streams,
        employed[to_government],
        n_government,
        rep_c.size,
        _GOVERNMENT_SIZE_SIGMA,
        "population/government",
    )
    employer[employed[~to_government]] = org_c
    employer[employed[to_government]] = org_g
    legal_rep = np.concatenate((rep_c, rep_g)).astype(np.int32)
    kind = np.repeat(np.array([COMPANY, GOVERNMENT], dtype=np.int8), [rep_c.size, rep_g.size])
    # Organisations are numbered in the order of their legal representatives, so a block of a
    # split run, cut at a citizen, holds each organisation with its legal representative.
    order = np.argsort(legal_rep, kind="stable")
    renumber = np.empty(order.size, dtype=np.int32)
    renumber[order] = np.arange(order.size, dtype=np.int32)
    employer[employer >= 0] = renumber[employer[employer >= 0]]
    legal_rep, kind = legal_rep[order], kind[order]
    return employer, kind, legal_rep
