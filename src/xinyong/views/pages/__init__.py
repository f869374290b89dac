"""The dashboard's pages, one module each with the JSON routes it asks: the city (``/``), a
citizen (``/citizen``), the notices feed (``/notices-feed``) and two runs compared
(``/compare``); and what they share (:mod:`xinyong.views.pages.common`).

:func:`xinyong.views.dashboard.add_dashboard` adds them all to the service's app.
"""
