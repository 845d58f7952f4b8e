"""One chapter's MyST Markdown converted to GitHub-flavoured Markdown (``ChapterRenderer``).

The source is rewritten in place, not re-rendered from tokens: a line with no MyST in it
reaches the notebook byte for byte. ``parse`` says where the MyST is (fences and
directives, hidden lines, labelled equations; roles, code spans and links within a
line); this module says what each becomes: a role its text or a link to the published
page, a directive a quote, a ``<details>`` block, an image or ``$$`` math, a glued key the
value of the book's own full run.
"""

from __future__ import annotations

import base64
import re
from ast import literal_eval
from pathlib import Path

from sphinx.util.nodes import split_explicit_title

from . import EditionError, citations, parse
from .book import Book, Target
from .layout import BOOK_DIR, OUT_DIR, RUN_DIR, TOOL

# Admonition directives and the titles they get.
ADMONITIONS = {
    "note": "Note", "warning": "Warning", "tip": "Tip", "hint": "Hint", "important": "Important",
    "caution": "Caution", "attention": "Attention", "danger": "Danger", "error": "Error",
    "seealso": "See also", "admonition": "", "topic": "", "sidebar": "", "margin": "",
    "epigraph": "", "dropdown": "Details",
}
# Admonitions whose first line is their title (the others' first line is text).
TITLED = ("admonition", "dropdown", "topic", "sidebar", "margin")
# Directives dropped from the edition (navigation and indexing only).
DROPPED_DIRECTIVES = {"toctree", "tableofcontents", "index", "bibliography"}
NUMREF_DEFAULTS = {"figure": "Fig. {number}", "table": "Table {number}", "equation": "Equation ({number})"}


def format_plain_text(text: str, fmt_spec: str) -> str:
    """Format a glued text/plain value exactly as MyST-NB's ``{glue:text}`` role does."""
    try:
        value = literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if fmt_spec == "":
        return str(value)
    type_char = fmt_spec[-1]
    if type_char == "s":
        value = str(value)
    elif type_char in ("b", "c", "d", "o", "x", "X"):
        value = int(value)
    elif type_char in ("e", "E", "f", "F", "g", "G", "n", "%"):
        value = float(value)
    return format(value, fmt_spec)


def escape_markdown(text: str) -> str:
    """Backslash-escape the characters that would turn pasted plain text into Markdown."""
    return re.sub(r"([\\`*_\[\]<>|~#])", r"\\\1", text)


def code_span(text: str) -> str:
    """``text`` as a Markdown code span, fenced by more backticks than it holds in a row."""
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def has_scheme(target: str) -> bool:
    """Whether a link target is absolute (``https:``, ``mailto:``, ...) or an anchor of the page."""
    return target.startswith("#") or bool(re.match(r"[a-z][a-z0-9+.-]*:", target))


class ChapterRenderer:
    """Converts one chapter's MyST Markdown cells to GitHub-flavoured Markdown."""

    def __init__(self, book: Book, chapter: str):
        self.book = book
        self.chapter = chapter
        self.site = book.site
        if chapter not in book.runs:
            raise EditionError(f"no saved run for {chapter} in {OUT_DIR}/{RUN_DIR}/: build the full book and run "
                               f"`python {TOOL} extract BUILD_DIR`")
        self.run = book.runs[chapter]

    # ---- glue

    def glue_data(self, key: str) -> dict:
        chapter = self.chapter
        if "::" in key:
            document, key = key.split("::", 1)
            chapter = Path(document).stem
            if chapter not in self.book.runs:
                raise EditionError(f"{self.chapter}: glue reference to unknown document {document!r}")
        glue = self.book.runs[chapter]["glue"]
        if key not in glue:
            raise EditionError(f"{self.chapter}: glue key {key!r} is not in the saved run of {chapter}: "
                               f"rebuild the full book and run `python {TOOL} extract BUILD_DIR`")
        return glue[key]

    def glue_text(self, content: str) -> str:
        # As MyST-NB: the text after the last colon is the format spec, "s" if there is none.
        key, fmt_spec = content.rsplit(":", 1) if ":" in content else (content, "s")
        data = self.glue_data(key)
        if "text/plain" not in data:
            raise EditionError(f"{self.chapter}: glue key {key!r} has no text/plain value")
        try:
            return format_plain_text(data["text/plain"], fmt_spec)
        except (TypeError, ValueError) as error:
            raise EditionError(f"{self.chapter}: cannot format glue {key!r} with {fmt_spec!r}: {error}") from None

    def glue_block(self, key: str, alt: str = "") -> list[str]:
        data = self.glue_data(key)
        for mime in ("image/png", "image/jpeg"):
            if mime in data:
                return [f"![{alt or key}](data:{mime};base64,{''.join(data[mime].split())})"]
        if "image/svg+xml" in data:
            svg = base64.b64encode(data["image/svg+xml"].encode()).decode()
            return [f"![{alt or key}](data:image/svg+xml;base64,{svg})"]
        if "text/html" in data:
            return data["text/html"].splitlines()
        if "text/markdown" in data:
            return data["text/markdown"].splitlines()
        if "text/latex" in data:
            return ["$$", data["text/latex"].strip().strip("$"), "$$"]
        return ["```", *data.get("text/plain", "").splitlines(), "```"]

    # ---- roles

    def target(self, label: str) -> Target:
        if label not in self.book.targets:
            raise EditionError(f"{self.chapter}: reference to unknown label {label!r}")
        return self.book.targets[label]

    def link(self, text: str, url: str) -> str:
        return f"[{text}]({url})"

    def role(self, name: str, content: str) -> str:
        # "text <label>" as Sphinx splits a role's explicit title from its target.
        explicit, title, label = split_explicit_title(content)
        text = title if explicit else ""
        if name in ("glue:text", "glue"):
            return escape_markdown(self.glue_text(content))
        if name == "glue:md":
            return self.glue_data(content.split(":")[0]).get("text/markdown", "").strip()
        if name == "glue:math":
            return "$" + self.glue_data(content.split(":")[0]).get("text/latex", "").strip().strip("$") + "$"
        if name == "math":
            return f"${content}$"
        if name == "eq":
            target = self.target(label)
            return self.link(text or f"({target.number})", self.site.page(target.chapter, target.anchor))
        if name in ("ref", "numref"):
            target = self.target(label.lstrip("!"))
            if name == "numref":
                text = (text or NUMREF_DEFAULTS.get(target.kind, "Section {name}")).replace("%s", "{number}")
                text = text.replace("{number}", str(target.number or "")).replace("{name}", target.title)
            text = text or target.title or label
            return self.link(self.inline(text), self.site.page(target.chapter, target.anchor))
        if name == "doc":
            chapter = Path(label).stem
            if chapter not in self.book.titles:
                raise EditionError(f"{self.chapter}: {{doc}} reference to unknown page {label!r}")
            return self.link(self.inline(text or self.book.titles[chapter]), self.site.page(chapter))
        if name == "term":
            found = self.book.terms.get(label.lower())
            shown = text or label
            if found is None:
                return f"*{shown}*"
            return self.link(shown, self.site.page(found.chapter, found.anchor))
        if name.startswith("cite"):
            return self.citation(name, content)
        if name == "abbr":
            return text or content
        if name in ("sub", "sup"):
            return f"<{name}>{content}</{name}>"
        if name in ("code", "kbd", "file", "samp", "command", "envvar") or name.startswith("py:"):
            return code_span(content)
        if name == "download":
            return self.link(text or Path(label).name, self.site.raw(f"{BOOK_DIR}/{label}"))
        raise EditionError(f"{self.chapter}: unknown role {{{name}}}: teach {TOOL} how to render it")

    def citation(self, name: str, content: str) -> str:
        page = self.book.targets.get("__bibliography__")
        url = self.site.page(page.chapter) if page else ""
        return citations.citation(name, content, self.book.bib, lambda text: self.link(text, url) if url else text)

    # ---- one line

    def inline(self, text: str) -> str:
        """Convert the roles of one line, leaving code spans alone, and point its relative links."""
        edits = []
        for token in parse.inline_tokens(text):
            if token.type == "myst_role":
                edits.append((*token.meta["span"], self.role(token.meta["name"], token.content)))
            elif token.type in ("link_open", "image") and token.markup not in ("autolink", "linkify"):
                edits += self._link_target(text, token)
        return parse.splice(text, edits)

    def _link_target(self, text: str, token) -> list[tuple[int, int, str]]:
        """Relative links to chapters point to the published pages, relative images to GitHub."""
        target = token.attrGet("src" if token.type == "image" else "href") or ""
        end = token.meta["span"][1]
        # Only a plain "(target)" destination is rewritten (not one with a title or <...>).
        if not text[:end].endswith(f"({target})") or not target or has_scheme(target):
            return []
        path, _, anchor = target.partition("#")
        if token.type == "image":
            new = self.site.raw(f"{BOOK_DIR}/{path}")
        elif path.endswith((".ipynb", ".md")) and Path(path).stem in self.book.titles:
            new = self.site.page(Path(path).stem, anchor)
        else:
            return []
        return [(end - len(target) - 1, end - 1, new)]

    # ---- blocks

    def convert(self, source: str) -> str:
        text = "\n".join(self.block(source)).strip("\n")
        return re.sub(r"\n{3,}", "\n\n", text)

    def block(self, source: str) -> list[str]:
        lines = source.split("\n")
        out: list[str] = []
        position = 0
        for block in parse.blocks(source):
            out += [self.inline(line) for line in lines[position:block.start]]
            out += self._block(block, lines)
            position = block.end
        return out + [self.inline(line) for line in lines[position:]]

    def _block(self, block: parse.Block, lines: list[str]) -> list[str]:
        first = lines[block.start]
        if block.kind == "hidden":
            return []
        if block.kind == "math":  # $$ ... $$ (label): the label becomes the site's number
            number = self.target(block.token.info).number
            last = lines[block.end - 1]
            body = last[:last.rindex("$$")]
            closing = [f"{body}\\tag{{{number}}}$$"] if body.strip() else [f"\\tag{{{number}}}", "$$"]
            return [*lines[block.start:block.end - 1], *closing]
        if not parse.fence_closed(block.token, lines):
            raise EditionError(f"{self.chapter}: the fence {first.strip()!r} is never closed")
        if block.kind == "code":
            if block.token.type == "colon_fence":
                raise EditionError(f"{self.chapter}: a ':::' fence without a directive: {first!r}")
            return lines[block.start:block.end]  # copied as it is
        if block.prefix.strip() and set(block.prefix) - set("> "):
            raise EditionError(f"{self.chapter}: the directive {first.strip()!r} shares its line with other "
                               "text: start it on a line of its own")
        body = parse.directive_body(block.token, block.args)
        if body.warnings:
            raise EditionError(f"{self.chapter}: {{{block.name}}}: {'; '.join(body.warnings)}")
        converted = self.directive(block.name, block.args, body.options, body.content)
        # Back into the list item or quote the fence stood in.
        empty = block.prefix.rstrip() if block.prefix.strip() else ""
        return [block.prefix + line if line else empty for line in converted]

    def directive(self, name: str, args: str, options: dict[str, str], content: list[str]) -> list[str]:
        while content and not content[0].strip():
            content = content[1:]
        classes = options.get("class", "").split()
        if name in ADMONITIONS:
            title = ADMONITIONS[name]
            if name in TITLED and args.strip():
                title = args.strip()
            elif args.strip():
                content = [args.strip(), ""] + content
            inner = self.block("\n".join(content))
            if name == "dropdown" or "dropdown" in classes:
                summary = self.inline(title or "Details")
                return ["", "<details>", f"<summary>{summary}</summary>", "", *inner, "", "</details>", ""]
            quoted = [f"> **{self.inline(title)}**", ">"] if title else []
            quoted += [f"> {line}" if line.strip() else ">" for line in inner]
            return ["", *quoted, ""]
        if name == "math":
            label = options.get("label")
            math = "\n".join(content).strip()
            if label:
                math += f" \\tag{{{self.target(label).number}}}"
            return ["", "$$", *math.splitlines(), "$$", ""]
        if name in ("glue:figure", "glue", "glue:any"):
            image = self.glue_block(args.strip(), options.get("alt", ""))
            caption = " ".join(self.block("\n".join(content))).strip()
            label = options.get("name")
            if label and caption:
                caption = f"*Fig. {self.target(label).number}: {caption}*"
            return ["", *image, "", *([caption, ""] if caption else [])]
        if name == "glue:md":
            return ["", *self.glue_data(args.strip()).get("text/markdown", "").splitlines(), ""]
        if name == "glue:math":
            return ["", "$$", self.glue_data(args.strip()).get("text/latex", "").strip().strip("$"), "$$", ""]
        if name in ("figure", "image"):
            target = args.strip()
            url = target if re.match(r"^[a-z]+:", target) else self.site.raw(f"{BOOK_DIR}/{target}")
            caption = " ".join(self.block("\n".join(content))).strip()
            return ["", f"![{options.get('alt', caption or Path(target).name)}]({url})", "",
                    *([f"*{caption}*", ""] if caption else [])]
        if name in ("code-block", "code", "sourcecode", "code-cell"):
            return ["", f"```{args.strip()}", *content, "```", ""]
        if name == "raw":
            return ["", *content, ""] if args.strip() == "html" else []
        if name == "table":
            return ["", f"**{self.inline(args.strip())}**" if args.strip() else "", "",
                    *self.block("\n".join(content)), ""]
        if name == "glossary":
            out = []
            for line in content:
                if line.strip() and not line.startswith((" ", "\t")):
                    out += ["", f"**{self.inline(line.strip())}**"]
                elif line.strip():
                    out.append(self.inline(line.strip()))
            return out + [""]
        if name == "fgsm-playground":
            # The live figure (_ext/fgsm_playground.py) runs only on the site: one line points there.
            url = self.site.page(self.chapter, "fgsm-playground")
            model = options.get("model-name", "the baseline")
            return ["", f"*Interactive figure: [move eps and watch FGSM attack {model}]({url}), live in your "
                        "browser on the book's website.*", ""]
        if name in DROPPED_DIRECTIVES:
            return []
        raise EditionError(f"{self.chapter}: unknown directive {{{name}}}: teach {TOOL} how to render it")
