"""How a city runs: keyed random streams, calendars, the day's phases, the one driver loop, split
runs on Ray.
"""
