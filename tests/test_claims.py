"""Every number the lessons and the README state is a number a lesson measured.

``lessons/claims.py`` registers each measured number that prose states (the lesson, the
words quoted, the results key, a tolerance) and each number that is not a measurement
(a setting, a paper's figure, a count from shapes). These tests hold the prose, the
registry and the committed ``figures/NN_results.json`` together:

- a registered quote must still be in its text, word for word (edit the prose: edit the entry);
- the number it states must match the committed result (rerun a lesson and a result moves:
  the test names the prose that has gone stale);
- every number in a checked region (README's lesson table, the lesson docstrings) must be
  registered, one way or the other.
"""
import ast
import importlib.util
import json
import math
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("lesson_claims", REPO / "lessons" / "claims.py")
claims = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = claims  # dataclasses look their module up while the file runs
_spec.loader.exec_module(claims)

# A number as prose writes it: 0.87, 6,343,680, 1e-10, 2.6 (in 2.6%), 9 (in 9x). Not the digits
# inside a name (W1, h_t, 05_scores.png); an "x" may sit before (x0.88) or after (9x) it.
NUMBER = re.compile(r"(?<![A-Za-wyz_\d.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?"
                    r"(?:(?![A-Za-z_\d])|(?=[kKMGx](?![A-Za-z_\d])))")
ENUMERATOR = re.compile(r"(?m)^(\s*)(\d+\.)(?=\s)")  # "1. " starting a list item
CODE = re.compile(r"``.*?``|`[^`\n]*`", re.S)         # code and file names: ``--steps 16000``


def collapse(text: str) -> str:
    """Whitespace runs to one space, so a quote may cross a line break of the source."""
    return re.sub(r"\s+", " ", text).strip()


def source_text(source: str) -> str:
    """The text a claim quotes: a lesson's docstring ("05") or a whole file ("README.md")."""
    if re.fullmatch(r"\d\d", source):
        path = next((REPO / "lessons").glob(f"{source}_*.py"))
        return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    return (REPO / source).read_text(encoding="utf-8")


def results_of(name: str, figures: Path) -> dict:
    """figures/NN_results.json for a lesson number, else the JSON file at a repository path."""
    path = figures / f"{name}_results.json" if re.fullmatch(r"\d\d", name) else REPO / name
    return json.loads(path.read_text(encoding="utf-8"))


def lookup(path: str, figures: Path):
    """The value at "05:pretrained_vs_scratch:contrast:pretrained" (list items by index)."""
    name, *keys = path.split(":")
    value = results_of(name, figures)
    for key in keys:
        if isinstance(value, list):
            value = value[int(key)]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            raise KeyError(f"{path}: no key {key!r} (there: {sorted(value) if isinstance(value, dict) else value})")
    return value


def measured(key: str, figures: Path) -> float:
    """A results value; the ratio ("a / b") or difference ("a - b") of two; the sum ("a + b + c") of several."""
    for op, combine in ((" / ", lambda a, b: a / b), (" - ", lambda a, b: a - b)):
        if op in key:
            left, right = key.split(op)
            return combine(float(lookup(left, figures)), float(lookup(right, figures)))
    return sum(float(lookup(term, figures)) for term in key.split(" + "))


def as_float(number: str) -> float:
    return float(number.replace(",", ""))


def allowed_error(claim) -> float:
    """How far the stated number may be from the measured one, in the prose's units."""
    if claim.tolerance is not None:
        return claim.tolerance
    if claim.relative is not None:
        return claim.relative * abs(as_float(claim.number))
    mantissa = claim.number.replace(",", "").split("e")[0]
    digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(claim.number.split("e")[1]) if "e" in claim.number else 0
    return 0.5 * 10.0 ** (exponent - digits) * (1 + 1e-9)  # the number, rounded as written


def spans(text: str, quote: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(quote), text)]


def number_offset(claim) -> int:
    """Where the claimed number stands in its quote (it must stand there once, as a whole number)."""
    hits = [m.start() for m in NUMBER.finditer(claim.quote) if m.group() == claim.number]
    assert len(hits) == 1, (f"{claim.source}: {claim.number!r} must appear once, as a number, in the quote "
                            f"{claim.quote!r}; found {len(hits)}")
    return hits[0]


def region(source: str, start: str, end: str | None) -> tuple[str, int, int]:
    """The collapsed text of ``source`` and the span from ``start`` to ``end`` (None: the end)."""
    text = collapse(source_text(source))
    begin = text.find(start)
    assert begin >= 0, f"{source}: the checked region's start {start!r} is gone; update lessons/claims.py"
    stop = len(text) if end is None else text.find(end, begin + len(start))
    assert stop >= 0, f"{source}: the checked region's end {end!r} is gone; update lessons/claims.py"
    return text, begin, stop


def numbers_in(source: str, begin: int, stop: int) -> list[tuple[int, str]]:
    """(position in the collapsed text, number) for each number of the region, outside code and list labels."""
    raw = source_text(source)
    blanked = CODE.sub(lambda m: re.sub(r"\S", "#", m.group()), raw)  # keep its spaces: they collapse alike
    blanked = ENUMERATOR.sub(lambda m: m.group(1) + "#" * len(m.group(2)), blanked)
    scan = collapse(blanked)  # same length and positions as collapse(raw): only non-space characters changed
    return [(m.start(), m.group()) for m in NUMBER.finditer(scan) if begin <= m.start() < stop]


def label(claim) -> str:
    return f"{claim.source}: {claim.number} in {claim.quote!r}"


def check(claim, figures: Path = REPO / "figures") -> None:
    """Raise AssertionError unless ``claim``'s quote is in its text and its number is the result's."""
    assert spans(collapse(source_text(claim.source)), claim.quote), \
        f"{claim.source} no longer says {claim.quote!r}: update its entry in lessons/claims.py"
    number_offset(claim)
    stated = as_float(claim.number)
    value = measured(claim.key, figures) * claim.scale
    assert math.isfinite(value), f"{claim.key} is not a finite number"
    assert abs(stated - value) <= allowed_error(claim), (
        f"{claim.source} says {claim.quote!r}, but {claim.key} is {value:.6g} (x{claim.scale:g}), "
        f"off by {abs(stated - value):.3g} > {allowed_error(claim):.3g}: a rerun moved the result; "
        f"correct the prose (and its entry) or explain the change")


@pytest.mark.parametrize("claim", claims.CLAIMS, ids=label)
def test_claimed_number_matches_the_committed_result(claim):
    check(claim)


@pytest.mark.parametrize("given", claims.GIVEN, ids=lambda g: f"{g.source}: {g.quote!r}")
def test_each_number_that_is_not_a_measurement_is_still_in_its_text(given):
    assert given.kind in claims.KINDS, f"{given.source}: kind {given.kind!r} must be one of {sorted(claims.KINDS)}"
    assert NUMBER.search(given.quote), f"{given.source}: {given.quote!r} holds no number; drop the entry"
    assert spans(collapse(source_text(given.source)), given.quote), \
        f"{given.source} no longer says {given.quote!r}: update its entry in lessons/claims.py"


@pytest.mark.parametrize("checked", claims.CHECKED, ids=lambda r: f"{r.source}: {r.start!r}")
def test_every_number_in_a_checked_region_is_registered(checked):
    text, begin, stop = region(checked.source, checked.start, checked.end)
    measured_at, given_at = set(), set()
    for claim in (c for c in claims.CLAIMS if c.source == checked.source):
        measured_at |= {at + number_offset(claim) for at in spans(text, claim.quote)}
    for given in (g for g in claims.GIVEN if g.source == checked.source):
        for at in spans(text, given.quote):
            given_at |= {at + m.start() for m in NUMBER.finditer(given.quote)}
    both = sorted(measured_at & given_at)
    assert not both, (f"{checked.source}: numbers registered as measured and as given at once (narrow the "
                      f"Given's quote): {[text[at:at + 12] for at in both]}")
    covered = measured_at | given_at
    loose = [f"{number!r} in ...{text[max(at - 50, 0):at + 20]}..."
             for at, number in numbers_in(checked.source, begin, stop) if at not in covered]
    assert not loose, (f"{checked.source}: {len(loose)} number(s) neither measured-and-registered nor marked as "
                       f"given in lessons/claims.py:\n  " + "\n  ".join(loose))


def test_a_result_edited_by_hand_fails_its_claim(tmp_path):
    """Copy the results, change the one value a claim reads, and the claim must fail."""
    claim = next(c for c in claims.CLAIMS if re.fullmatch(r"\d\d:[^ ]+", c.key))
    number, *keys = claim.key.split(":")
    for path in (REPO / "figures").glob("*_results.json"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    check(claim, tmp_path)  # the untouched copy passes
    results = results_of(number, tmp_path)
    holder = results
    for key in keys[:-1]:
        holder = holder[int(key)] if isinstance(holder, list) else holder[key]
    last = int(keys[-1]) if isinstance(holder, list) else keys[-1]
    holder[last] = holder[last] * 1.5 + 1.0
    (tmp_path / f"{number}_results.json").write_text(json.dumps(results), encoding="utf-8")
    with pytest.raises(AssertionError, match="a rerun moved the result"):
        check(claim, tmp_path)


def test_the_number_pattern_reads_prose_as_a_person_does():
    found = [m.group() for m in NUMBER.finditer("W1 = 0.87, x0.88 per step, 9x, 6,343,680 of 335M, 1e-10, "
                                                "05_scores.png, h_t, 2.6%, 75-80 s, m=4")]
    assert found == ["0.87", "0.88", "9", "6,343,680", "335", "1e-10", "2.6", "75", "80", "4"]
