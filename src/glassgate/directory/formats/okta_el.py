"""Okta Expression Language (group-rule forms) -> CEL, exactly or not at all.

Translated, with Okta's null semantics kept (an absent attribute equals
nothing, so ``user.a != "x"`` holds for a user without ``a``):

    user.a == "x"   user.a != "x"   user.a == null   user.a != null   user.a >= 10
    user.flag                          (a boolean attribute)
    String.stringContains(user.a, "x")   String.startsWith(user.a, "x")
    isMemberOfGroupName("n")   isMemberOfGroup("id")   isMemberOfAnyGroup("id", ...)
    isMemberOfGroupNameStartsWith("p")   isMemberOfGroupNameContains("p")
    and/AND/&&   or/OR/||   not/NOT/!   ( )   true   false

Everything else (other functions, ternaries, ``+``, arrays, comparing two
attributes, ordering strings, regular expressions whose dialect differs) is
refused with ``UntranslatableRuleError`` and the reason. Group references
become group names; a reference to a group that another rule fills is
refused too, because glassgate rules see direct memberships only.

Okta profile names map to the directory's (SCIM) names: ``firstName`` ->
``givenName``, ``lastName`` -> ``familyName``, ``login`` -> ``userName``,
``managerId`` -> ``manager``; others are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from glassgate.errors import UntranslatableRuleError

__all__ = ["OKTA_ATTRIBUTES", "GroupContext", "cel_string", "translate"]

MAX_LENGTH = 4096
MAX_DEPTH = 48
OKTA_ATTRIBUTES: Mapping[str, str] = {
    "firstName": "givenName",
    "lastName": "familyName",
    "login": "userName",
    "managerId": "manager",
}
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"]|"")*"|'(?:[^']|'')*')
    | (?P<number>\d+(?:\.\d+)?(?![\w.]))
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<op>==|!=|<=|>=|&&|\|\||[<>!(),.?:+{}\[\]-])
    )""",
    re.X,
)
_WORDS = {"and": "&&", "or": "||", "not": "!"}
_CEL_RESERVED = frozenset(
    {
        "as", "break", "const", "continue", "else", "false", "for", "function", "if", "import",
        "in", "let", "loop", "namespace", "null", "package", "return", "true", "var", "void",
        "while",
    }
)  # fmt: skip
_CEL_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}


@dataclass(frozen=True, slots=True)
class GroupContext:
    """What the translator knows of the export's groups."""

    names: Mapping[str, str]  # Okta group id -> group name
    rule_filled: frozenset[str] = frozenset()  # names of groups some rule assigns

    def name_of(self, group_id: str) -> str:
        name = self.names.get(group_id)
        if name is None:
            raise _refuse(f"group id {group_id!r} is not in the export's groups")
        return name

    def require_direct(self, names: set[str]) -> None:
        """Refuse a reference to groups that rules fill: rules read direct groups only."""
        filled = sorted(names & self.rule_filled)
        if filled:
            raise _refuse(
                f"group(s) {filled} are filled by group rules, and glassgate rules see "
                "direct memberships only"
            )


@dataclass(frozen=True, slots=True)
class _Lit:
    value: str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class _Attr:
    name: str  # already the directory's name


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    args: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Op:
    op: str  # && || ! == != < <= > >=
    args: tuple[_Node, ...]


_Node = _Lit | _Attr | _Call | _Op


def _refuse(reason: str) -> UntranslatableRuleError:
    return UntranslatableRuleError(reason)


def _tokens(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    source = source.rstrip()
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            raise _refuse(f"unexpected character {source[position : position + 10]!r}")
        kind = match.lastgroup or "op"
        text = match.group(kind)
        if kind == "name" and text.lower() in _WORDS:
            kind, text = "op", _WORDS[text.lower()]
        tokens.append((kind, text))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the subset; anything outside it is refused."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.index = 0
        self.depth = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (text is not None and token[1] != text):
            found = token[1] or "the end of the expression"
            raise _refuse(f"expected {text or 'more'} but found {found!r}")
        self.index += 1
        return token

    def parse(self) -> _Node:
        node = self.binary(0)
        if self.peek()[0] != "end":
            raise _refuse(f"operator or token {self.peek()[1]!r} is not translated")
        return node

    def binary(self, level: int) -> _Node:
        ops = ("||", "&&")
        if level == len(ops):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek() == ("op", ops[level]):
            self.take()
            node = _Op(ops[level], (node, self.binary(level + 1)))
        return node

    def unary(self) -> _Node:
        if self.peek() == ("op", "!"):
            self.take()
            return _Op("!", (self.nested(self.unary),))
        left = self.primary()
        kind, text = self.peek()
        if kind == "op" and text in _FLIP:
            self.take()
            return _Op(text, (left, self.primary()))
        return left

    def nested(self, parse: Callable[[], _Node]) -> _Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _refuse(f"the expression nests deeper than {MAX_DEPTH} levels")
        try:
            return parse()
        finally:
            self.depth -= 1

    def primary(self) -> _Node:
        kind, text = self.take()
        if (kind, text) == ("op", "("):
            node = self.nested(lambda: self.binary(0))
            self.take(")")
            return node
        if kind == "string":
            quote = text[0]
            return _Lit(text[1:-1].replace(quote * 2, quote))
        if kind == "number":
            return _Lit(float(text) if "." in text else int(text))
        if kind == "name":
            return self.name(text)
        raise _refuse(f"operator {text!r} is not translated")

    def name(self, first: str) -> _Node:
        lowered = first.lower()
        if lowered in ("true", "false"):
            return _Lit(lowered == "true")
        if lowered == "null":
            return _Lit(None)
        parts = [first]
        while self.peek() == ("op", "."):
            self.take()
            kind, text = self.take()
            if kind != "name":
                raise _refuse(f"expected a name after '.' but found {text!r}")
            parts.append(text)
        if self.peek() == ("op", "("):
            return _Call(".".join(parts), self.arguments())
        if parts[0] == "user" and len(parts) == 2:
            return _Attr(OKTA_ATTRIBUTES.get(parts[1], parts[1]))
        raise _refuse(f"reference {'.'.join(parts)!r} is not translated (only user.<attribute>)")

    def arguments(self) -> tuple[_Node, ...]:
        self.take("(")
        args: list[_Node] = []
        while self.peek() != ("op", ")"):
            if args:
                self.take(",")
            args.append(self.nested(lambda: self.binary(0)))
        self.take(")")
        return tuple(args)


def translate(source: str, groups: GroupContext) -> str:
    """The CEL equivalent of an Okta group-rule ``source``, or ``UntranslatableRuleError``."""
    if not isinstance(source, str) or not source.strip():
        raise _refuse("the expression is empty")
    if len(source) > MAX_LENGTH:
        raise _refuse(f"the expression is longer than {MAX_LENGTH} characters")
    if "\\" in source:
        raise _refuse("backslashes in string literals have no documented meaning in Okta EL")
    if _unencodable(source):
        raise _refuse("the expression contains characters that are not valid text")
    return _Emitter(groups).condition(_Parser(source).parse())


class _Emitter:
    def __init__(self, groups: GroupContext) -> None:
        self.groups = groups

    def condition(self, node: _Node) -> str:
        if isinstance(node, _Op):
            if node.op in ("&&", "||"):
                left, right = (self.condition(arg) for arg in node.args)
                return f"({left} {node.op} {right})"
            if node.op == "!":
                return f"!({self.condition(node.args[0])})"  # CEL's ! binds tighter than in
            return self.comparison(node.op, *node.args)
        if isinstance(node, _Call):
            return self.call(node)
        if isinstance(node, _Attr):
            return f"({_has(node.name)} && {_ref(node.name)} == true)"
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        raise _refuse(f"the literal {node.value!r} is not a condition")

    def comparison(self, op: str, left: _Node, right: _Node) -> str:
        if isinstance(left, _Lit) and isinstance(right, _Attr):
            left, right, op = right, left, _FLIP[op]
        if not (isinstance(left, _Attr) and isinstance(right, _Lit)):
            raise _refuse(f"'{op}' is translated only between user.<attribute> and a literal")
        has, ref, value = _has(left.name), _ref(left.name), right.value
        if value is None:
            if op not in ("==", "!="):
                raise _refuse(f"'{op} null' has no meaning")
            return f"!{has}" if op == "==" else has
        if op in ("<", "<=", ">", ">=") and (isinstance(value, str | bool)):
            raise _refuse(f"ordering with {op} is translated for numbers only")
        if op == "!=":
            return f"(!{has} || {ref} != {cel_string(value)})"
        return f"({has} && {ref} {op} {cel_string(value)})"

    def call(self, node: _Call) -> str:
        name, args = node.name, node.args
        if name in ("String.stringContains", "String.startsWith"):
            if len(args) != 2 or not isinstance(args[0], _Attr):
                raise _refuse(f'{name} is translated only as {name}(user.<attribute>, "text")')
            method = "contains" if name.endswith("Contains") else "startsWith"
            attr, text = args[0].name, _text(args[1], name)
            return f"({_has(attr)} && {_ref(attr)}.{method}({cel_string(text)}))"
        if name in ("isMemberOfGroupName", "isMemberOfGroup", "isMemberOfAnyGroup"):
            return self.membership(name, args)
        if name in ("isMemberOfGroupNameStartsWith", "isMemberOfGroupNameContains"):
            if len(args) != 1:
                raise _refuse(f"{name} takes one string")
            pattern = _text(args[0], name)
            known = self.groups.names.values()
            if name.endswith("StartsWith"):
                method, matches = "startsWith", {n for n in known if n.startswith(pattern)}
            else:
                method, matches = "contains", {n for n in known if pattern in n}
            self.groups.require_direct(matches)
            return f"groups.exists(g, g.{method}({cel_string(pattern)}))"
        raise _refuse(f"function {name}() is not translated")

    def membership(self, name: str, args: tuple[_Node, ...]) -> str:
        if not args or (name != "isMemberOfAnyGroup" and len(args) != 1):
            count = "one or more strings" if name == "isMemberOfAnyGroup" else "exactly one string"
            raise _refuse(f"{name} takes {count}")
        texts = [_text(arg, name) for arg in args]
        names = texts if name == "isMemberOfGroupName" else [self.groups.name_of(t) for t in texts]
        self.groups.require_direct(set(names))
        terms = [f"{cel_string(n)} in groups" for n in names]
        return terms[0] if len(terms) == 1 else "(" + " || ".join(terms) + ")"


def _text(node: _Node, function: str) -> str:
    if isinstance(node, _Lit) and isinstance(node.value, str):
        return node.value
    raise _refuse(f"{function} is translated only with string literal arguments")


def cel_string(value: str | int | float | bool) -> str:
    """``value`` as a CEL literal (strings JSON-quoted: also valid CEL)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid CEL string literal
    return repr(value)


def _unencodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return "\x00" in text


def _plain(name: str) -> bool:
    return _CEL_IDENT.fullmatch(name) is not None and name not in _CEL_RESERVED


def _ref(name: str) -> str:
    return f"user.{name}" if _plain(name) else f"user[{cel_string(name)}]"


def _has(name: str) -> str:
    return f"has(user.{name})" if _plain(name) else f"({cel_string(name)} in user)"
