"""The structural schema of the served kinds and the OpenAPI v3 documents built from it.

`building` runs in a child process and writes a cache file; `loading` reads it into a
`SchemaSet`; `checking` validates and prunes request bodies against it; `documents`
renders the OpenAPI v3 documents kubectl reads. Nothing here imports the kubernetes
client except `building`, which only the child process runs.
"""
