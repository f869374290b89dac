"""What a run leaves behind: the ledger, the store, the books and tallies, the tables,
explanations.
"""
