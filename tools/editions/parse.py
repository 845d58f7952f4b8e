"""MyST Markdown read as markdown-it tokens, as the site's own MyST parser reads it.

The parser is myst-parser's ``create_md_parser`` with Jupyter Book's default extensions,
so a fence, a role, a ``(label)=`` target or a ``$$`` block is one here exactly when it is
one on the site. The editions rewrite the source rather than render the tokens (every
line they do not convert must reach the notebook byte for byte), so this module gives
positions: block tokens carry their lines (``Token.map``), and the inline rules the
editions rewrite (roles, code spans, links, images) are wrapped to record where in the
line each token starts and ends (``meta["span"]``). Directive options are split off as
MyST splits them (``parse_directive_text``), and ids are made as docutils and Sphinx make
them, since a link must hit the anchor of the built page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from docutils.nodes import make_id
from docutils.parsers.rst import Directive, directives
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import backtick, image, link
from markdown_it.token import Token
from mdit_py_plugins.myst_role.index import myst_role
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.directives import parse_directive_text
from myst_parser.parsers.mdit import create_md_parser
from sphinx.util.nodes import make_id as sphinx_make_id

# Jupyter Book 1's default MyST extensions (jupyter_book/default_config.yml,
# parse.myst_enable_extensions); the book's _config.yml keeps them (book.load_book checks).
MYST_EXTENSIONS = ("colon_fence", "dollarmath", "linkify", "substitution", "tasklist")

FENCES = ("fence", "colon_fence")
# Lines the site shows nothing for: (label)= targets, % comments, +++ cell breaks.
HIDDEN = ("myst_target", "myst_line_comment", "myst_block_break")
# The inline rules whose tokens get a span, and the token each one makes.
SPANNED_RULES = {"myst_role": (myst_role, "myst_role"), "backticks": (backtick, "code_inline"),
                 "link": (link, "link_open"), "image": (image, "image")}


def _spanned(rule, token_type: str):
    def recorded(state, silent):
        start, count = state.pos, len(state.tokens)
        found = rule(state, silent)
        if found and not silent:
            # Later tokens of the same rule (a link's text) were spanned by their own rules.
            for token in state.tokens[count:]:
                if token.type == token_type and "span" not in token.meta:
                    token.meta["span"] = (start, state.pos)
        return found

    return recorded


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    config = MdParserConfig(enable_extensions=set(MYST_EXTENSIONS), dmath_double_inline=True)
    md = create_md_parser(config, RendererHTML)
    # Link targets as written (the editions compare them with the source), not percent-encoded.
    md.normalizeLink = lambda url: url
    for name, (rule, token_type) in SPANNED_RULES.items():
        md.inline.ruler.at(name, _spanned(rule, token_type))
    return md


def tokens(source: str) -> list[Token]:
    """The block tokens of ``source``, flat (the contents of lists and quotes included)."""
    return parser().parse(source)


def inline_tokens(text: str) -> list[Token]:
    """The inline tokens of ``text`` (one line); roles, code spans, links and images have a span."""
    [block] = parser().parseInline(text)
    return block.children or []


def splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    """``text`` with each (start, end, new) edit applied; the edits do not overlap."""
    out, position = [], 0
    for start, end, new in sorted(edits):
        out += [text[position:start], new]
        position = end
    return "".join(out) + text[position:]


# --------------------------------------------------------------------------- blocks


@dataclass
class Block:
    """The lines [start, end) of one block the editions convert as a whole."""

    kind: str  # "directive", "code" (a fence copied as it is), "hidden", "math" (labelled $$)
    start: int
    end: int
    token: Token
    name: str = ""  # a directive's name and the rest of its first line
    args: str = ""
    prefix: str = ""  # what stands before the fence marker on its first line (an indent)


def directive_header(info: str) -> tuple[str, str] | None:
    """(name, arguments) of a fence whose info string names a directive, as MyST splits it."""
    parts = info.strip().split(maxsplit=1)
    if not parts or not (parts[0].startswith("{") and parts[0].endswith("}")):
        return None
    return parts[0][1:-1], parts[1] if len(parts) > 1 else ""


def fence_closed(token: Token, lines: list[str]) -> bool:
    """Whether a fence has its closing line (markdown-it runs an open one to the end of its
    list item, quote or document). ``lines``: the source's lines."""
    start, end = token.map
    last = lines[end - 1].lstrip(" \t>").rstrip()  # without the indent or quote it stands in
    return end - start >= 2 and set(last) == {token.markup[0]} and len(last) >= len(token.markup)


def blocks(source: str) -> list[Block]:
    """The fences, hidden lines and labelled equations of ``source``, in order, outermost only."""
    lines = source.split("\n")
    found: list[Block] = []
    for token in tokens(source):
        if token.map is None or (found and token.map[0] < found[-1].end):
            continue
        start, end = token.map
        if token.type in FENCES:
            header = directive_header(token.info)
            prefix = lines[start][:lines[start].index(token.markup)]
            if header:
                found.append(Block("directive", start, end, token, *header, prefix=prefix))
            else:
                found.append(Block("code", start, end, token, prefix=prefix))
        elif token.type in HIDDEN:
            found.append(Block("hidden", start, end, token))
        elif token.type == "math_block_label":
            found.append(Block("math", start, end, token))
    return found


# --------------------------------------------------------------------------- directives


class _AnyOptions(dict):
    """An option spec that takes every option, its value as written (MyST's strings)."""

    def __missing__(self, key):
        return directives.unchanged

    def __bool__(self):  # parse_directive_text looks for options only when a spec has some
        return True


class _AnyDirective(Directive):
    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = _AnyOptions()


@dataclass
class DirectiveBody:
    options: dict[str, str]
    content: list[str]
    warnings: list[str] = field(default_factory=list)


def directive_body(token: Token, args: str) -> DirectiveBody:
    """A directive's options and content lines, split as MyST splits them."""
    content = token.content
    if token.type == "colon_fence" and content.startswith(":::"):
        content = "\n" + content  # a nested fence, not an option (as MyST's render_colon_fence)
    result = parse_directive_text(_AnyDirective, args, content)
    options = {str(key): "" if value is None else str(value) for key, value in result.options.items()}
    return DirectiveBody(options, list(result.body), [warning.msg for warning in result.warnings])


# --------------------------------------------------------------------------- ids and titles


def label_id(label: str) -> str:
    """The HTML id of a (label)= target or a named figure or table: docutils' make_id."""
    return make_id(label)


def equation_id(label: str) -> str:
    """The HTML id of a labelled equation (MyST and Sphinx: make_id("equation-<label>"))."""
    return make_id(f"equation-{label}")


class GlossaryIds:
    """The HTML ids Sphinx gives one page's glossary terms ("term-" and the term, case kept).

    Sphinx's own ``make_id``, given the page's ids so far, so that a second term with the
    same id gets the numbered id Sphinx gives it.
    """

    def __init__(self):
        self.ids: dict[str, object] = {}  # what make_id reads of the page's document
        self._serial = 0

    def new_serialno(self, category: str = "") -> int:  # what make_id reads of the environment
        self._serial += 1
        return self._serial - 1

    def __call__(self, term: str) -> str:
        node_id = sphinx_make_id(self, self, "term", term)
        self.ids[node_id] = term
        return node_id


def heading_after(all_tokens: list[Token], index: int) -> str:
    """The text of the block after token ``index`` (a target's section title), first line only."""
    for token in all_tokens[index + 1:]:
        if token.type == "inline":
            return token.content.split("\n")[0].strip()
    return ""


def first_heading(source: str) -> str:
    """The text of the first level-1 heading of ``source``, or ""."""
    all_tokens = tokens(source)
    for index, token in enumerate(all_tokens):
        if token.type == "heading_open" and token.tag == "h1":
            return all_tokens[index + 1].content.strip()
    return ""


def without_front_matter(source: str) -> str:
    """``source`` without a leading ``---`` YAML front matter block."""
    first = next(iter(tokens(source)), None)
    if first is None or first.type != "front_matter":
        return source
    return "\n".join(source.split("\n")[first.map[1]:])
