"""The mutation list (tools/mutations.py) can be run: every snippet is found and every test it names exists.

tools/mutation_check.py plants each mutation and runs its tests, which takes hours; a test
file moved or renamed, or a snippet edited away, would only show there, as an "error".
These checks read the files and run nothing.
"""

import re

import mutation_check
from mutations import MUTATIONS

from tests.support.paths import REPOSITORY


def test_every_snippet_occurs_exactly_once_in_its_file():
    mutation_check.check_mutations(MUTATIONS, REPOSITORY)  # raises MutationListError naming each problem


def test_every_test_a_mutation_names_exists():
    missing = []
    for mutation in MUTATIONS:
        for target in mutation["tests"]:
            path, _, node = target.partition("::")
            if not (REPOSITORY / path).is_file():
                missing.append(f"{mutation['id']}: {target}: no file {path}")
                continue
            # A node id names a test function of that file, possibly with a parameter ("name[case]").
            name = re.split(r"[\[:]", node)[0]
            if name and not re.search(rf"^def {re.escape(name)}\(", (REPOSITORY / path).read_text(), re.MULTILINE):
                missing.append(f"{mutation['id']}: {target}: no function {name} in {path}")
    assert not missing, "\n".join(missing)
