"""The resource service: the one write path every change goes through.

HTTP handlers and in-process controllers call it alike. For each write it resets what the
caller may not set, checks fields against the schema, applies the kind's defaults and
validation, runs admission, and stores the result with optimistic concurrency.
"""
