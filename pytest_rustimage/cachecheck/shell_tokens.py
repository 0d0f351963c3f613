"""A shell script's tokens, read the way a POSIX shell would, enough to follow where output goes.

Words (quotes, escapes, ``$( )`` and backticks kept as the word's text), operators (``&&``, ``||``,
``;``, ``|``, ``|&``, ``&``, parentheses, newlines) and output redirections (``>``, ``>>``, ``2>&1``,
``&>``, ``>& file``, ``N>&-``); input redirections are read and dropped. Comments and line
continuations are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

OPERATORS = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")", "\n")

Token = tuple[str, object]  # ("word", str), ("op", str) or ("redir", Redirect)


@dataclass
class Redirect:
    fd: int | None  # None: both stdout and stderr (``&>``, ``>& file``)
    target: str
    dup: bool  # ``N>&M``: a copy of descriptor M


def tokens(text: str) -> list[Token]:
    """("word", str), ("op", str) and ("redir", :class:`Redirect`) tokens of a shell script."""
    return _Tokeniser(text).run()


class _Tokeniser:
    """Reads ``text`` once, from left to right, into :attr:`out`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.out: list[Token] = []
        self.word: list[str] = []
        self.started = False  # a word is under way (quotes make an empty word)

    def run(self) -> list[Token]:
        text, n = self.text, len(self.text)
        while self.i < n:
            c = text[self.i]
            if c in " \t":
                self._end()
                self.i += 1
            elif c == "#" and not self.started:
                while self.i < n and text[self.i] != "\n":
                    self.i += 1
            elif c in "\\'\"`" or (c == "$" and text[self.i + 1 : self.i + 2] == "("):
                self._quoted(c)
            elif c in "<>" or (c == "&" and text[self.i + 1 : self.i + 2] == ">"):
                self._redirection(c)
            else:
                self._operator_or_letter(c)
        self._end()
        return self.out

    def _end(self) -> None:
        if self.started:
            self.out.append(("word", "".join(self.word)))
        self.word.clear()
        self.started = False

    def _add(self, part: str, i: int) -> None:
        """``part`` belongs to the current word; reading goes on at ``i``."""
        self.word.append(part)
        self.started = True
        self.i = i

    def _quoted(self, c: str) -> None:
        """An escape, a quoted string, a command substitution: all of it part of the current word."""
        text, i, n = self.text, self.i, len(self.text)
        if c == "\\":
            if i + 1 < n and text[i + 1] == "\n":
                self.i = i + 2  # a line continuation
            else:
                self._add(text[i + 1] if i + 1 < n else "", i + 2)
        elif c == "'":
            close = text.find("'", i + 1)
            close = n if close < 0 else close
            self._add(text[i + 1 : close], close + 1)
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\$`':
                    i += 1
                self.word.append(text[i])
                i += 1
            self._add("", i + 1)
        elif c == "$":
            depth, j = 0, i + 1
            while j < n:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            self._add(text[i:j], j)
        else:  # a backtick
            close = text.find("`", i + 1)
            close = n if close < 0 else close
            self._add(text[i : close + 1], close + 1)

    def _redirection(self, c: str) -> None:
        fd: int | None
        if c == "&":
            fd = None
            self.i += 1
        elif self.started and "".join(self.word).isdigit():
            fd = int("".join(self.word))
            self.word.clear()
            self.started = False
        else:
            self._end()
            fd = 0 if c == "<" else 1
        op = self._operator()
        text, n = self.text, len(self.text)
        while self.i < n and text[self.i] in " \t":
            self.i += 1
        raw = first_word(text, self.i)
        found = tokens(raw)
        target = str(found[0][1]) if found and found[0][0] == "word" else ""
        self.i += len(raw)
        if op.startswith("<"):
            return  # input: no effect on where output goes
        dup = op.endswith("&") and (target.isdigit() or target == "-")
        if op.endswith("&") and not dup:  # ``>& file``: both descriptors
            fd = None
        self.out.append(("redir", Redirect(fd, target, dup)))

    def _operator(self) -> str:
        """The redirection operator at :attr:`i` (``>``, ``>>``, ``>&``, ``>|``, ``<<``, ``>>&``…)."""
        text, n = self.text, len(self.text)
        op = text[self.i]
        self.i += 1
        while self.i < n and text[self.i] in "<>&|-":
            if text[self.i] == "&" and op.endswith("&"):
                break
            op += text[self.i]
            self.i += 1
            if op in (">&", "<&", ">>", "<<", ">|"):
                if op in (">>",) and self.i < n and text[self.i] == "&":
                    continue
                break
        return op

    def _operator_or_letter(self, c: str) -> None:
        for op in OPERATORS:
            if self.text.startswith(op, self.i):
                self._end()
                self.out.append(("op", op))
                self.i += len(op)
                return
        self._add(c, self.i + 1)


def first_word(text: str, i: int) -> str:
    """The raw text of the shell word starting at ``i`` (quotes kept)."""
    j, quote = i, ""
    while j < len(text):
        c = text[j]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in " \t\n;&|()<>":
            break
        elif c == "\\":
            j += 1
        j += 1
    return text[i:j]
