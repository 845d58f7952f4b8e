"""advlib.book and advlib.verdicts.wording: phrases, report-vs-book tables and key checks used by the chapters."""

import json

import pytest

from advlib import book
from advlib.plan import catalogue
from advlib.verdicts import wording as text
from tests.support.sources import saved_entry


def test_relation_phrases():
    assert text.relation(0.5, 0.4) == "higher than"
    assert text.relation(0.4, 0.5) == "lower than"
    assert text.relation(0.5, 0.5) == "equal to"


def test_comparison_table_shows_report_ours_and_difference():
    rows = [
        (catalogue.MEASUREMENTS_BY_KEY["baseline.fgsm"], 0.25),
        (catalogue.MEASUREMENTS_BY_KEY["random_every_epoch.fgsm"], 0.5),
    ]
    table = text.comparison_table(rows, "caption")
    html = table._repr_html_()
    assert "<caption>caption</caption>" in html
    assert "<td>0.204</td><td>0.250</td><td>+0.046</td>" in html
    # A measurement the report does not give shows its note and no difference.
    assert "<td>not run</td><td>0.500</td><td>-</td>" in html
    assert table.values == {"baseline.fgsm": 0.25, "random_every_epoch.fgsm": 0.5}
    assert "0.204 | 0.250 | +0.046" in repr(table)


def test_glue_key_and_unknown_measurements():
    assert book.glue_key("random_at_t0.01.fgsm") == "random_at_t0_01_fgsm"
    with pytest.raises(ValueError, match="unknown measurement"):
        book.measured(["baseline.clean", "no.such.key"], "test")


def test_compare_names_the_data_the_saved_numbers_came_from(results_folder):
    # Saved numbers measured on another source than this process would load (as the
    # shipped full-profile results are, for a Colab reader) must say so in the caption.
    results_folder.mkdir(parents=True)
    saved = {key: saved_entry(key, 0.5) for key in ("baseline.clean", "baseline.fgsm")}
    (results_folder / "measurements.json").write_text(json.dumps(saved))
    table = book.compare(["baseline.clean", "baseline.fgsm"], "test")
    assert table.values == {"baseline.clean": 0.5, "baseline.fgsm": 0.5}
    assert table.caption.endswith("data: hand-made; not the book's numbers)")


def test_a_full_profile_caption_names_the_data_not_the_profile():
    caption = text.describe_numbers("full", "image folder /somewhere (JPEG)")
    assert caption == "all 10,000 test images; data: a local JPEG copy of CIFAR-10"
    assert "profile" not in caption and "profile 'quick'" in text.describe_numbers("quick", None)


def test_listing_and_flag_phrases_follow_the_numbers():
    assert text.listing([]) == "none" and text.listing(["a"]) == "a" and text.listing(["a", "b", "c"]) == "a, b and c"

    class Report:
        flags = ["zero_gradients", "accuracy_does_not_fall"]

    assert text.flagged_phrase(Report()) == "is flagged (zero gradients, accuracy does not fall)"
    Report.flags = []
    assert text.flagged_phrase(Report()) == "is not flagged"


def test_source_kind_never_names_a_path():
    assert text.source_kind("image folder /work/shared/data/cifar10-jpeg (JPEG)") == "a local JPEG copy of CIFAR-10"
    assert text.source_kind("the official CIFAR-10 (keras.datasets download)") == "the official CIFAR-10"
    assert text.describe_profile("test", None).endswith("data: not recorded")


PHRASES = {
    "reproduced": "much larger than",
    "not reproduced": "not clearly larger than",
    "reversed": "smaller than",
    "not tested": "not yet compared with",
}


@pytest.mark.parametrize(
    ("random_sign", "fgsm", "expected"),
    [
        # fgsm-not-noise: random_sign - fgsm must exceed claims.LARGE_EFFECT (0.30) over
        # the whole interval. On 10,000 images each Wilson half-width is about 0.01.
        (0.80, 0.20, "much larger than"),
        (0.55, 0.25, "not clearly larger than"),  # +0.30: the interval straddles the bar.
        (0.20, 0.80, "smaller than"),
    ],
)
def test_claim_phrase_follows_the_scorecards_verdict(results_folder, random_sign, fgsm, expected):
    results_folder.mkdir(parents=True)
    saved = {
        "baseline.random_sign": {**saved_entry("baseline.random_sign", random_sign), "test_size": 10_000},
        "baseline.fgsm": {**saved_entry("baseline.fgsm", fgsm), "test_size": 10_000},
    }
    (results_folder / "measurements.json").write_text(json.dumps(saved))
    assert book.claim_phrase("fgsm-not-noise", "test", PHRASES) == expected


def test_claim_phrase_of_an_unmeasured_claim_says_not_tested(results_folder):
    assert book.claim_phrase("fgsm-not-noise", "test", PHRASES) == "not yet compared with"


def test_claim_phrase_needs_words_for_every_verdict():
    with pytest.raises(ValueError, match="missing: reversed, not tested"):
        book.claim_phrase("fgsm-not-noise", "test", {"reproduced": "a", "not reproduced": "b"})
    with pytest.raises(ValueError, match="unknown: reproducd"):
        book.claim_phrase("fgsm-not-noise", "test", {**PHRASES, "reproducd": "x"})
