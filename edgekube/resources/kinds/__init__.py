"""One module per Kubernetes kind: its `Kind` description and its `Strategy`.

`edgekube.resources.registry` collects them; nothing else imports these modules directly.
"""
