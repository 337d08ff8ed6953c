"""The revisioned object store: an append-only event log plus an index of current objects.

Layers, each seeing only the one below (as kine does it):
    store.Store (facade)      - what the resource service calls
    writing / reading / watching / compacting - log rules: revisions, preconditions,
                                 group commit, watch fan-out, bounded history
    dialects.*                - SQL text, pragmas and error translation, one file per database
"""
