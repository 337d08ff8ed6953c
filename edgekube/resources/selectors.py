"""Label and field selectors: parsed from query text or from a `spec.selector`, then matched.

Text comes from the `labelSelector` and `fieldSelector` query parameters; a parse error
is a `BadRequest` whose message says what was found, what was expected, and at which
0-based character position. Object selectors (`matchLabels` + `matchExpressions`) are
validated into `Cause`s so the write path can answer 422 with every bad field.

Matching follows Kubernetes: `!=` and `notin` also match objects without the label, and
a selector with no requirements matches everything. `str()` of a selector is its
canonical text (requirements sorted by key, values sorted), as kubectl columns and the
Scale subresource's `status.selector` show it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from edgekube.errors import BadRequest, Cause
from edgekube.resources.validation import (
    forbidden,
    invalid_value,
    is_label_value,
    is_qualified_name,
    required,
    unsupported_value,
    validate_labels,
)

# -- label selectors -------------------------------------------------------------------------


class Operator(StrEnum):
    """How a requirement compares a label; the value is the operator's canonical spelling."""

    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"


# The operators of `matchExpressions`, by their object spelling.
_OBJECT_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


@dataclass(frozen=True)
class Requirement:
    """One condition on one label key. `values` is sorted and without duplicates."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        match self.operator:
            case Operator.EXISTS:
                return present
            case Operator.DOES_NOT_EXIST:
                return not present
            case Operator.EQUALS | Operator.IN:
                return present and labels[self.key] in self.values
            case Operator.NOT_EQUALS | Operator.NOT_IN:
                return not present or labels[self.key] not in self.values

    def __str__(self) -> str:
        match self.operator:
            case Operator.EXISTS:
                return self.key
            case Operator.DOES_NOT_EXIST:
                return f"!{self.key}"
            case Operator.EQUALS | Operator.NOT_EQUALS:
                return f"{self.key}{self.operator}{self.values[0]}"
            case Operator.IN | Operator.NOT_IN:
                return f"{self.key} {self.operator} ({','.join(self.values)})"


def _requirement(key: str, operator: Operator, values: Iterable[str] = ()) -> Requirement:
    return Requirement(key, operator, tuple(sorted(set(values))))


@dataclass(frozen=True)
class LabelSelector:
    """Requirements that must all hold (AND), sorted by key."""

    requirements: tuple[Requirement, ...] = ()

    @classmethod
    def of(cls, requirements: Iterable[Requirement]) -> LabelSelector:
        return cls(tuple(sorted(requirements, key=lambda r: (r.key, str(r)))))

    @property
    def empty(self) -> bool:
        """True when there are no requirements: the selector matches every object."""
        return not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        found = labels or {}
        return all(r.matches(found) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def label_selector_from_set(labels: Mapping[str, str]) -> LabelSelector:
    """The selector `k1=v1,k2=v2` of a plain map (a Service's `spec.selector`)."""
    return LabelSelector.of(_requirement(k, Operator.EQUALS, [v]) for k, v in labels.items())


# -- label selector text ---------------------------------------------------------------------

_END = "end of string"
_SPECIALS = "!=(),"


@dataclass(frozen=True)
class _Token:
    text: str  # "" only for the end of the string
    pos: int
    ident: bool = False

    def shown(self) -> str:
        return _END if not self.text else f"'{self.text}'"


def _tokens(text: str) -> list[_Token]:
    """Identifiers and the operator symbols, each with its position; ends with an end token."""
    out: list[_Token] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "!=" and text[i + 1 : i + 2] == "=":
            out.append(_Token(text[i : i + 2], i))
            i += 2
        elif c in _SPECIALS:
            out.append(_Token(c, i))
            i += 1
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in _SPECIALS:
                i += 1
            out.append(_Token(text[start:i], start, ident=True))
    out.append(_Token("", len(text)))
    return out


class _LabelParser:
    """Recursive descent over the tokens of one `labelSelector` value."""

    def __init__(self, text: str) -> None:
        self._tokens = _tokens(text)
        self._at = 0

    def _peek(self) -> _Token:
        return self._tokens[self._at]

    def _take(self) -> _Token:
        tok = self._tokens[self._at]
        self._at = min(self._at + 1, len(self._tokens) - 1)
        return tok

    def parse(self) -> LabelSelector:
        found: list[Requirement] = []
        if self._peek().text == "":
            return LabelSelector()
        while True:
            tok = self._peek()
            if not (tok.ident or tok.text == "!"):
                raise _fail(f"found {tok.shown()}, expected: !, identifier, or {_END}", tok)
            found.append(self._requirement())
            sep = self._take()
            if sep.text == "":
                return LabelSelector.of(found)
            if sep.text != ",":
                raise _fail(f"found {sep.shown()}, expected: ',' or {_END}", sep)
            nxt = self._peek()
            if not (nxt.ident or nxt.text == "!"):
                raise _fail(f"found {nxt.shown()}, expected: identifier after ','", nxt)

    def _requirement(self) -> Requirement:
        if self._peek().text == "!":
            self._take()
            return _requirement(self._key(), Operator.DOES_NOT_EXIST)
        key = self._key()
        op_tok = self._peek()
        if op_tok.text in ("", ","):
            return _requirement(key, Operator.EXISTS)
        self._take()
        if op_tok.text in ("=", "=="):
            operator = Operator.EQUALS
        elif op_tok.text == "!=":
            operator = Operator.NOT_EQUALS
        elif op_tok.ident and op_tok.text in ("in", "notin"):
            operator = Operator(op_tok.text)
        else:
            raise _requirement_error(
                f"found {op_tok.shown()}, expected: '=', '!=', '==', 'in', 'notin'", op_tok
            )
        values = self._set() if operator in (Operator.IN, Operator.NOT_IN) else self._exact()
        for value, tok in values:
            problems = is_label_value(value)
            if problems:
                raise _requirement_error(
                    f'invalid label value: "{value}": at key: "{key}": {"; ".join(problems)}', tok
                )
        return _requirement(key, operator, (v for v, _ in values))

    def _key(self) -> str:
        tok = self._take()
        if not tok.ident:
            raise _requirement_error(f"found {tok.shown()}, expected: identifier", tok)
        problems = is_qualified_name(tok.text)
        if problems:
            raise _requirement_error(f'invalid label key "{tok.text}": {"; ".join(problems)}', tok)
        return tok.text

    def _exact(self) -> list[tuple[str, _Token]]:
        """The value after `=`, `==` or `!=`; nothing before `,` or the end means ""."""
        tok = self._peek()
        if tok.text in ("", ","):
            return [("", tok)]
        self._take()
        if not tok.ident:
            raise _requirement_error(f"found {tok.shown()}, expected: identifier", tok)
        return [(tok.text, tok)]

    def _set(self) -> list[tuple[str, _Token]]:
        """`(a,b)`. An empty slot, as in `()` or `(a,)`, is the empty value, as in Kubernetes."""
        opening = self._take()
        if opening.text != "(":
            raise _requirement_error(f"found {opening.shown()}, expected: '('", opening)
        values: list[tuple[str, _Token]] = []
        current: _Token | None = None
        while True:
            tok = self._take()
            if tok.ident and current is None:
                current = tok
            elif tok.text in (",", ")"):
                values.append((current.text, current) if current else ("", tok))
                current = None
                if tok.text == ")":
                    return values
            elif tok.ident:
                raise _requirement_error(f"found {tok.shown()}, expected: ',' or ')'", tok)
            else:
                raise _requirement_error(
                    f"found {tok.shown()}, expected: ',', ')' or identifier", tok
                )


def _fail(problem: str, tok: _Token) -> BadRequest:
    return BadRequest(f"{problem} (at position {tok.pos})")


def _requirement_error(problem: str, tok: _Token) -> BadRequest:
    return _fail(f"unable to parse requirement: {problem}", tok)


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a `labelSelector` value; raises `BadRequest` naming the problem and position."""
    return _LabelParser(text).parse()


# -- label selectors in objects --------------------------------------------------------------


class InvalidSelector(ValueError):
    """An object's selector failed validation; `causes` name each bad field."""

    def __init__(self, causes: list[Cause]) -> None:
        super().__init__("; ".join(f"{c.field}: {c.message}" for c in causes))
        self.causes = causes


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def validate_label_selector_object(spec: Any, field_path: str) -> list[Cause]:
    """Every problem with `spec` as a `{matchLabels, matchExpressions}` selector."""
    if not isinstance(spec, dict):
        return [invalid_value(field_path, spec, "must be an object")]
    causes = validate_labels(spec.get("matchLabels"), _child(field_path, "matchLabels"))
    exprs = spec.get("matchExpressions")
    exprs_path = _child(field_path, "matchExpressions")
    if exprs is None:
        return causes
    if not isinstance(exprs, list):
        return [*causes, invalid_value(exprs_path, exprs, "must be a list")]
    for i, expr in enumerate(exprs):
        causes += _validate_expression(expr, f"{exprs_path}[{i}]")
    return causes


def _validate_expression(expr: Any, path: str) -> list[Cause]:
    if not isinstance(expr, dict):
        return [invalid_value(path, expr, "must be an object")]
    causes: list[Cause] = []
    key = expr.get("key")
    if not isinstance(key, str) or not key:
        causes.append(required(f"{path}.key"))
    else:
        causes += [invalid_value(f"{path}.key", key, e) for e in is_qualified_name(key)]
    values = expr.get("values") or []
    if not isinstance(values, list):
        return [*causes, invalid_value(f"{path}.values", values, "must be a list of strings")]
    causes += _operator_problems(expr.get("operator"), bool(values), path)
    for j, value in enumerate(values):
        value_path = f"{path}.values[{j}]"
        if not isinstance(value, str):
            causes.append(invalid_value(value_path, value, "must be a string"))
        else:
            causes += [invalid_value(value_path, value, e) for e in is_label_value(value)]
    return causes


def _operator_problems(spelled: Any, has_values: bool, path: str) -> list[Cause]:
    """An unknown operator, or values present where the operator forbids or needs them."""
    operator = _OBJECT_OPERATORS.get(spelled) if isinstance(spelled, str) else None
    if operator is None:
        return [unsupported_value(f"{path}.operator", spelled, _OBJECT_OPERATORS)]
    if operator in (Operator.IN, Operator.NOT_IN) and not has_values:
        why = "must be specified when `operator` is 'In' or 'NotIn'"
        return [Cause("FieldValueRequired", f"Required value: {why}", f"{path}.values")]
    if operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and has_values:
        why = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
        return [forbidden(f"{path}.values", why)]
    return []


def label_selector_from_object(spec: dict[str, Any]) -> LabelSelector:
    """The selector an object's `{matchLabels, matchExpressions}` describes.

    An empty object matches everything. Raises `InvalidSelector` (a `ValueError`) when the
    selector is invalid; validate with `validate_label_selector_object` first to get
    field paths that fit the enclosing object.
    """
    causes = validate_label_selector_object(spec, "")
    if causes:
        raise InvalidSelector(causes)
    found = [
        _requirement(k, Operator.EQUALS, [v]) for k, v in (spec.get("matchLabels") or {}).items()
    ]
    for expr in spec.get("matchExpressions") or []:
        found.append(
            _requirement(expr["key"], _OBJECT_OPERATORS[expr["operator"]], expr.get("values") or [])
        )
    return LabelSelector.of(found)


# -- field selectors -------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRequirement:
    """`field=value` or `field!=value`."""

    field: str
    operator: Operator  # EQUALS or NOT_EQUALS
    value: str

    def matches(self, values: Mapping[str, str]) -> bool:
        # An absent field reads as "", as in Kubernetes: `spec.nodeName=` finds unbound pods.
        equal = values.get(self.field, "") == self.value
        return equal if self.operator is Operator.EQUALS else not equal

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{_escape(self.value)}"


@dataclass(frozen=True)
class FieldSelector:
    """Field requirements that must all hold (AND), sorted by field."""

    requirements: tuple[FieldRequirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    @property
    def fields(self) -> frozenset[str]:
        """The field names used, for rejecting the ones a kind does not serve."""
        return frozenset(r.field for r in self.requirements)

    def exact(self, field: str) -> str | None:
        """The value `field` is pinned to with `=`, or None (to narrow a query)."""
        for r in self.requirements:
            if r.field == field and r.operator is Operator.EQUALS:
                return r.value
        return None

    def matches(self, values: Mapping[str, str]) -> bool:
        return all(r.matches(values) for r in self.requirements)

    def check_supported(self, supported: Collection[str]) -> None:
        """Raise `BadRequest` (`field label not supported: x`) for a field not in `supported`."""
        for field in sorted(self.fields):
            if field not in supported:
                raise BadRequest(f"field label not supported: {field}")

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


_ESCAPABLE = "\\,="


def _escape(value: str) -> str:
    return "".join(f"\\{c}" if c in _ESCAPABLE else c for c in value)


def _split_unescaped(text: str, sep: str) -> list[str]:
    """`text` split at each `sep` not preceded by a backslash; escapes are kept as they are."""
    parts, start, i = [], 0, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == sep:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _unescape(text: str, selector: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt not in tuple(_ESCAPABLE):
                raise BadRequest(
                    f"invalid field selector: '{selector}': invalid escape sequence "
                    f"'\\{nxt}' (only \\\\, \\, and \\= may be escaped)"
                )
            out.append(nxt)
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _split_term(term: str) -> tuple[str, Operator, str] | None:
    """The field, operator and raw value of one term; the first unescaped operator wins."""
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        for symbol, operator in (("!=", Operator.NOT_EQUALS), ("==", Operator.EQUALS)):
            if term.startswith(symbol, i):
                return term[:i], operator, term[i + 2 :]
        if term[i] == "=":
            return term[:i], Operator.EQUALS, term[i + 1 :]
        i += 1
    return None


def parse_field_selector(text: str) -> FieldSelector:
    """Parse a `fieldSelector` value: `a=b`, `a==b`, `a!=b`, joined by commas.

    A backslash escapes `,`, `=` or `\\` in a value. Whitespace around field names and
    values is ignored. Raises `BadRequest` for a term without an operator or a bad escape.
    """
    found: list[FieldRequirement] = []
    for term in _split_unescaped(text, ","):
        if not term.strip():
            continue
        split = _split_term(term)
        field = split[0].strip() if split else ""
        if split is None or not field:
            raise BadRequest(f"invalid field selector: '{text}': can't understand '{term}'")
        _, operator, raw = split
        found.append(FieldRequirement(field, operator, _unescape(raw.strip(), text)))
    found.sort(key=lambda r: (r.field, str(r)))
    return FieldSelector(tuple(found))
