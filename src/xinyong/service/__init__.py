"""The live city and its HTTP API: keys, roles, limits, appeals."""
