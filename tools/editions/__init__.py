"""The book's Colab edition: self-contained notebooks generated from the chapters.

A chapter opened outside the built site (Colab, GitHub, plain Jupyter) shows raw MyST:
``{glue:text}`` roles, ``{admonition}`` directives, ``{math}`` blocks with labels,
cross-reference roles. ``python tools/colab_edition.py render`` writes ``colab/NN_*.ipynb``:
the same chapters in GitHub-flavoured Markdown with ``$``/``$$`` math, the numbers of the
book's own full run pasted in, and every code cell's output of that run. The classroom
edition (tools/course.py) converts its Markdown with the same renderer.

The modules, in the order the data flows:

- ``parse``: MyST read as markdown-it tokens (the parser MyST itself builds), directive
  options as MyST parses them, and the HTML ids Sphinx gives labels and glossary terms;
- ``citations``: the bibliography, read by pybtex, and the author-year text of a citation;
- ``book``: every page's titles, labels, figure numbers and glossary terms (link targets);
- ``convert``: one chapter's MyST Markdown to plain Markdown (``ChapterRenderer``);
- ``figures``: the caption and alt text of a code cell's figure, as a Markdown cell;
- ``site_text``: sentences true only on the site, and what the edition says instead;
- ``cells``: the cells the edition adds (note, profile form, setup);
- ``extract``: the outputs and glue values of a full build, saved in colab/_book_run/;
- ``render``: whole notebooks and colab/README.md, written or compared;
- ``cli``: the command line (``tools/colab_edition.py`` runs it).
"""


class EditionError(Exception):
    """A problem that stops extract, render or check; the message says what to do."""
