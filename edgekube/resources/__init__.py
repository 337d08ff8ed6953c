"""Resource types: what each Kubernetes kind is, its defaults, validation and columns.

This is the lowest layer: it knows nothing of storage or HTTP.
"""
