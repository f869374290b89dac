"""The ground floor: what the model is built from and knows nothing of the model.

Keyed random streams (:mod:`.streams`), ids filed by day (:mod:`.calendar`), set operations on
dense scratch columns (:mod:`.scratch`), the day's result types (:mod:`.day`) and the phase
clock (:mod:`.clock`). Nothing here imports any other part of xinyong.
"""
