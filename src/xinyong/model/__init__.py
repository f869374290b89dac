"""The system as modelled: the synthetic population and its behaviour, the sensors, the operators'
schemes, lists, gates, notices and responses.
"""
