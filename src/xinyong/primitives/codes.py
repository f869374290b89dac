"""Every code the engine stores or counts by number, and the ledger's flag bits, defined once.

Stored runs hold these numbers (a ledger row's ``flags``, the codes behind the ``listings``
and ``list_changes`` tables, the columns of decision counts), so a value never changes: a new
code takes the next free number. Every other module imports them from here, and the store's
SQL view, the data dictionary and the tables label them from the same definitions.

=====================  ====  ==================  ==============================================
table                  code  label               meaning
=====================  ====  ==================  ==============================================
``LedgerFlag`` (bits)  1     misattributed       recorded against someone who did not do it
                       2     fabricated          a collector's false report: nobody did it
                       4     dismissed           dismissed on the operator's review: not counted
                       8     submitted           submitted through the live city's API
                       16    reversed            withdrawn on appeal: kept, not counted
                       32    unscored            misattributed to someone the scheme does not
                                                 score (a child, say): kept, not counted
``ListingChange``      0     listed              put on the scheme's listing (its listed grade)
                       1     relisted            listed again while listed (term restarts)
                       2     released            the listing ended
``ListingReason``      1     severe event        listed for a severe event
                       2     score at floor      listed for a score at the scale's floor
                       (0)   (null)              no reason: a release
``ListChange``         0     warned              warned: the score fell below a list's line
                       1     counselled          counselled after a warning
                       2     listed              put on a blacklist or red list
                       3     extended            a member's term extended by a new violation
                       4     expired             the term ran out
                       5     repaired            credit repair: period passed, score recovered
                       6     entered             entered a list that follows the listing
                       7     left                left a list that follows the listing
                       8     obligation met      removed early: the obligation was met
                       9     opening stock       on the list when the run began
``GateAction``         0-5   allow ... deny      what a service does, mildest first (the
                                                 strictest matching rule wins)
``Notice``             0-5   billboard ...       the kinds of public notice
``NoticeHarm``         0-3   about_minors ...    the counts of harmful notices in a summary
=====================  ====  ==================  ==============================================
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

__all__ = [
    "ACTIONS",
    "ACTION_CODE",
    "FLAG_COLUMNS",
    "LISTING_CHANGES",
    "LIST_CHANGES",
    "NOTICE_HARMS",
    "NOTICE_KINDS",
    "NOT_COUNTED",
    "NO_REASON",
    "REASONS",
    "UNTIL_MET",
    "Code",
    "GateAction",
    "LedgerFlag",
    "ListChange",
    "ListingChange",
    "ListingReason",
    "Notice",
    "NoticeHarm",
    "flag_columns",
    "flag_meanings",
    "labels",
    "listing_name",
]


class LedgerFlag(IntFlag):
    """The bits of a ledger row's ``flags`` (``ledger_rows.flags``, an unsigned byte).

    The store's ``ledger`` view shows each as a boolean column named after it in lower case.
    """

    MISATTRIBUTED = 1
    FABRICATED = 2
    DISMISSED = 4
    SUBMITTED = 8
    REVERSED = 16
    UNSCORED = 32


#: Each flag's boolean column in the store's ``ledger`` view: its name in lower case.
FLAG_COLUMNS: dict[LedgerFlag, str] = {flag: str(flag.name).lower() for flag in LedgerFlag}

#: What each flag means, as the data dictionary says it.
_FLAG_MEANINGS = {
    LedgerFlag.MISATTRIBUTED: "recorded against the wrong citizen",
    LedgerFlag.FABRICATED: "a false report: nobody did it",
    LedgerFlag.DISMISSED: "dismissed on review; did not count",
    LedgerFlag.SUBMITTED: "submitted live by a collector",
    LedgerFlag.REVERSED: "reversed on appeal",
    LedgerFlag.UNSCORED: "misattributed to someone the scheme does not score (a child, a "
    "resident of another city); did not count, but the error-free score credits its actor",
}

#: Rows that do not count toward a score: dismissed on review, reversed on appeal, or about
#: someone the scheme does not score.
NOT_COUNTED = LedgerFlag.DISMISSED | LedgerFlag.REVERSED | LedgerFlag.UNSCORED


def flag_meanings() -> dict[str, str]:
    """Each flag's column in the ``ledger`` view, with what it means (true/false)."""
    return {
        FLAG_COLUMNS[flag]: f"{meaning} (true/false)" for flag, meaning in _FLAG_MEANINGS.items()
    }


def flag_columns(flags: str = "flags") -> str:
    """The SQL select list that shows each bit of ``flags`` as a boolean column, e.g.
    ``(l.flags & 1) > 0 AS misattributed, ...``, for the store's ``ledger`` view."""
    return ", ".join(
        f"({flags} & {int(flag)}) > 0 AS {column}" for flag, column in FLAG_COLUMNS.items()
    )


class Code(IntEnum):
    """A stored code with the label tables, summaries and scenarios use for it.

    Members are written ``NAME = value, "label"``; ``label`` is what a person reads.
    """

    label: str

    def __new__(cls, value: int, label: str) -> Code:
        member = int.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


def labels(codes: type[Code]) -> tuple[str, ...]:
    """A code table's labels, indexed by code (the codes run 0, 1, 2, ... without gaps)."""
    out = tuple(c.label for c in codes)
    if [int(c) for c in codes] != list(range(len(out))):
        raise ValueError(
            f"{codes.__name__}'s codes must run 0, 1, 2, ... to be indexed "
            f"by; give a new code the next free number"
        )
    return out


class ListingChange(Code):
    """A change to a scheme's own listing, as the ``listings`` table logs it."""

    LISTED = 0, "listed"
    RELISTED = 1, "relisted"
    RELEASED = 2, "released"


class ListingReason(Code):
    """Why a subject was listed or relisted (``listings.reason``; 0 means none: null)."""

    SEVERE_EVENT = 1, "severe event"
    SCORE_AT_FLOOR = 2, "score at floor"


#: The ``ListingReason`` code of a change that has no reason (a release): stored as null.
NO_REASON = 0


class ListChange(Code):
    """A change to a blacklist or red list, as the ``list_changes`` table logs it."""

    WARNED = 0, "warned"
    COUNSELLED = 1, "counselled"
    LISTED = 2, "listed"
    EXTENDED = 3, "extended"
    EXPIRED = 4, "expired"
    REPAIRED = 5, "repaired"
    ENTERED = 6, "entered"
    LEFT = 7, "left"
    OBLIGATION_MET = 8, "obligation met"
    OPENING_STOCK = 9, "opening stock"


class GateAction(Code):
    """What a service does to a subject, mildest first: the strictest matching rule wins,
    so a larger code overrides a smaller one. Labels are the scenario's ``action`` words."""

    ALLOW = 0, "allow"
    WAIVE = 1, "waive"
    DISCOUNT = 2, "discount"
    PRIORITY = 3, "priority"
    RESTRICT = 4, "restrict"
    DENY = 5, "deny"


class Notice(Code):
    """A kind of public notice (the ``notices.kind`` column; the scenario's ``kind``)."""

    BILLBOARD = 0, "billboard"
    TV = 1, "tv"
    PUBLISHED_LIST = 2, "published_list"
    DIAL_TONE = 3, "dial_tone"
    POSTER = 4, "poster"
    CIVILIZED_FAMILY = 5, "civilized_family"


class NoticeHarm(Code):
    """The counts of harmful notices a run keeps (the summary's ``billboard_harms``)."""

    ABOUT_MINORS = 0, "about_minors"
    ON_MISATTRIBUTED_EVENTS = 1, "on_misattributed_events"
    ON_FALSE_REPORTS = 2, "on_false_reports"
    ON_DISMISSED_EVENTS = 3, "on_dismissed_events"


#: Labels by code, under the names the modules that logged them first gave them.
LISTING_CHANGES = dict(enumerate(labels(ListingChange)))
REASONS = {int(r): r.label for r in ListingReason}
LIST_CHANGES = dict(enumerate(labels(ListChange)))
ACTIONS = labels(GateAction)
#: A scenario's action word -> its code.
ACTION_CODE = {a.label: a for a in GateAction}
NOTICE_KINDS = labels(Notice)
NOTICE_HARMS = labels(NoticeHarm)
#: The ``until`` of a listing without a term (a list's ``termed_share``): it lasts until the
#: obligation is met. No day of a run reaches it, and extensions leave it so.
UNTIL_MET = 2**31 // 2 - 1


def listing_name(operator: str) -> str:
    """The name gates give an operator's own scheme listing (its grade D, say)."""
    return f"{operator}:listing"
