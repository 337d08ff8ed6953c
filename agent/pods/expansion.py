"""`$(VAR)` references in env values, command and args, expanded as Kubernetes does.

`$(NAME)` becomes the value of NAME when it is defined, and stays as written when it is
not; `$$` is an escaped `$`, so `$$(NAME)` gives the literal `$(NAME)`. Examples, with
A=1: "x$(A)y" -> "x1y", "$(B)" -> "$(B)", "$$(A)" -> "$(A)", "$$" -> "$".
"""

from __future__ import annotations

from collections.abc import Mapping


def expand(text: str, values: Mapping[str, str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "$" or i + 1 == len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            end = text.find(")", i + 2)
            if end < 0:
                out.append(text[i:])
                break
            name = text[i + 2 : end]
            out.append(values[name] if name in values else text[i : end + 1])
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)
