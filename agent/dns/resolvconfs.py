"""resolv.conf files as data: parse one into nameservers, search domains and options, render one back.

Parsing follows the resolver's own reading: `#` and `;` start comments, the last `search`
(or `domain`) line wins, `options` lines add up. Search domains lose their trailing dot and
the root domain `.` is dropped (it adds nothing to a search list). Unknown lines are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ResolvConf:
    nameservers: list[str] = field(default_factory=list)
    """Resolver addresses in the order they are tried."""
    searches: list[str] = field(default_factory=list)
    """Search domains, without trailing dots."""
    options: list[str] = field(default_factory=list)
    """Options as written (`ndots:5`, `edns0`), in order."""

    def render(self) -> str:
        """The file's text: nameservers, then the search line, then the options line."""
        lines = [f"nameserver {server}" for server in self.nameservers]
        if self.searches:
            lines.append("search " + " ".join(self.searches))
        if self.options:
            lines.append("options " + " ".join(self.options))
        return "".join(f"{line}\n" for line in lines)


def parse_resolv_conf(text: str) -> ResolvConf:
    """The nameservers, search domains and options that `text` (a resolv.conf) sets."""
    conf = ResolvConf()
    for raw in text.splitlines():
        fields = raw.split("#", 1)[0].split(";", 1)[0].split()
        if not fields:
            continue
        keyword, args = fields[0], fields[1:]
        if keyword == "nameserver" and args:
            conf.nameservers.append(args[0])
        elif keyword in ("search", "domain"):
            # Either keyword replaces the list (resolv.conf(5): the last instance wins).
            conf.searches = [d.rstrip(".") for d in args if d.rstrip(".")]
        elif keyword == "options":
            conf.options.extend(args)
    return conf
