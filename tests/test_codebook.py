"""The codebook source (data/codebook.yml): validated like data, and the scale, composition and break
rules the build, notebooks and cards rely on."""

from __future__ import annotations

import pytest
import yaml

from analysis.errors import DataError
from analysis.panel import codebook as cb
from analysis.sources import papi


def test_papi_scales_follow_the_redesign_and_the_number_of_parts():
    assert cb.expected_scale_max("PAPI", "total", 2017) == 60
    assert cb.expected_scale_max("PAPI", "total", 2018) == 80
    assert cb.expected_scale_max("PAPI", "d8.1", 2018) == 5  # two e-governance sub-dimensions in 2018
    assert cb.expected_scale_max("PAPI", "d8.1", 2019) == pytest.approx(10 / 3)  # three from 2019
    assert cb.expected_scale_max("PAPI", "d5.1", 2020) == 2.5
    assert cb.expected_scale_max("PAPI", "d5.1", 2021) == pytest.approx(10 / 3)  # construction permits dropped
    assert cb.expected_scale_max("PCI", "total", 2010) == 100
    assert cb.expected_scale_max("PAPI", "total_rank", 2019) is None


def test_structure_matches_the_published_columns():
    # the adapters check every workbook header against this structure; spot-check the changes by year
    assert papi.structure(2015)["d3"] == ["d3.1", "d3.4", "d3.5"]
    assert papi.structure(2016)["d3"] == ["d3.1", "d3.2", "d3.4"]
    assert "d8" not in papi.structure(2017) and papi.structure(2018)["d8"] == ["d8.1", "d8.2"]
    assert papi.structure(2021)["d5"] == ["d5.1", "d5.3", "d5.4"]
    assert len(papi.structure(2024)) == 8


def test_exists_knows_what_each_year_published():
    assert cb.exists("PAPI", "d8.3", 2019) and not cb.exists("PAPI", "d8.3", 2018)
    assert not cb.exists("PAPI", "d9", 2020)
    assert not cb.exists("PAPI", "d5.2", 2021) and cb.exists("PAPI", "d5.2", 2020)
    assert not cb.exists("PAPI", "d7", 2017)
    assert cb.exists("PCI", "implementation", 2005) and not cb.exists("PCI", "implementation", 2006)
    assert cb.exists("PCI", "equal_competition", 2013) and not cb.exists("PCI", "equal_competition", 2012)


def test_the_2018_redesign_breaks_every_papi_series():
    for indicator in ("total", "d1", "d5", "d1.1"):
        ok, found = cb.comparable("PAPI", indicator, 2017, 2018)
        assert not ok and any(b.kind == "method" and b.year == 2018 for b in found)
    assert cb.segments("PAPI", "total", list(range(2011, 2025))) == [list(range(2011, 2018)), list(range(2018, 2021)), list(range(2021, 2025))]


def test_d8_3_discontinuity_breaks_d8_3_and_its_dimension_but_not_the_total():
    assert not cb.comparable("PAPI", "d8.3", 2019, 2020)[0]
    ok, found = cb.comparable("PAPI", "d8", 2019, 2020)
    assert not ok and any(b.kind == "part" and "d8.3" in b.note for b in found)
    ok, found = cb.comparable("PAPI", "total", 2019, 2020)
    assert ok and any(b.kind == "part" for b in found)  # a caveat the output must state
    assert cb.segments("PAPI", "d8", list(range(2018, 2025))) == [[2018], [2019], [2020], list(range(2021, 2025))]


def test_rescaled_subdimension_is_comparable_only_relatively():
    assert not cb.comparable("PAPI", "d8.1", 2018, 2019)[0]
    assert cb.comparable("PAPI", "d8.1", 2018, 2019, relative=True)[0]
    assert not cb.comparable("PAPI", "d5", 2020, 2021, relative=True)[0]  # composition, not scale


def test_pci_method_versions_are_breaks():
    assert cb.segments("PCI", "total", list(range(2005, 2020))) == [[2005], [2006, 2007, 2008], [2009, 2010, 2011, 2012],
                                                                  list(range(2013, 2020))]


def test_labels_cover_every_indicator_in_the_panel(panel):
    pairs = set(zip(panel["index"], panel["indicator"], strict=True))
    missing = [p for p in pairs if not p[1].endswith("_rank") and cb.indicator_info(*p) is None and p[0] in cb.INDEX_LABELS]
    assert not missing, missing


@pytest.mark.parametrize("edit, where", [
    (lambda d: d["indicators"]["PAPI"]["d1"].update(unit="furlongs"), "indicators.PAPI.d1.unit"),
    (lambda d: d["indicators"]["PAPI"]["d1"].update(parts={2011: ["d1.9"]}), "indicators.PAPI.d1.parts.2011"),
    (lambda d: d["indicators"]["PAPI"]["total"].update(scale={2011: -60}), "indicators.PAPI.total.scale"),
    (lambda d: d["indicators"]["PAPI"]["d1"].update(colour="red"), "indicators.PAPI.d1.colour"),
    (lambda d: d["breaks"].append({"index": "PAPI", "indicators": ["d42"], "year": 2020, "kind": "method", "comparable": False}),
     "indicators"),
    (lambda d: d["breaks"].append({"index": "NOPE", "year": 2020, "kind": "method", "comparable": False}), "index"),
    (lambda d: d["indicators"]["PAPI"]["d1"].pop("label_vi"), "label_vi"),
])
def test_broken_codebook_is_a_clear_error(tmp_path, edit, where):
    doc = yaml.safe_load(cb.codebook_path().read_text(encoding="utf-8"))
    edit(doc)
    path = tmp_path / "codebook.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError) as err:
        cb.parse_codebook(path)
    assert str(path) in str(err.value) and where in str(err.value)


def test_a_break_is_scoped_to_the_kind_of_comparison():
    """PAPI 2021 blocks province comparisons and leaves national means comparable with a caveat; a scoped
    leaf break reaches its dimension with the same scope, and the 2018 redesign blocks both kinds."""
    ok, found = cb.comparable("PAPI", "d8.1", 2020, 2021, relative=True)
    assert not ok and [b.year for b in found if not b.comparable] == [2021]
    ok, found = cb.comparable("PAPI", "d8.1", 2020, 2021, relative=True, comparison="national")
    assert ok and [b.year for b in found] == [2021]
    assert cb.segments("PAPI", "d8.1", list(range(2018, 2025)), relative=True, comparison="national") == [list(range(2018, 2025))]
    assert cb.segments("PAPI", "d8.1", list(range(2018, 2025)), relative=True) == [[2018, 2019, 2020], [2021, 2022, 2023, 2024]]
    assert not cb.comparable("PAPI", "total", 2017, 2018, relative=True, comparison="national")[0]
    assert not cb.comparable("PAPI", "d6", 2020, 2021, relative=True, comparison="national")[0]  # law and order shifts 8 SDs
    assert cb.comparable("PAPI", "d1.2", 2020, 2021)[0]  # outside the 2021 break's scope
    with pytest.raises(ValueError, match="comparison must be one of"):
        cb.comparable("PAPI", "total", 2020, 2021, comparison="regional")


def test_scoped_parts_pass_their_scope_to_the_parent(tmp_path, monkeypatch):
    """A leaf break with a scope reaches its parent with that scope (a part break), not as a full break."""
    doc = yaml.safe_load(cb.codebook_path().read_text(encoding="utf-8"))
    doc["breaks"] = [{"index": "PAPI", "indicators": ["d8.2"], "year": 2023, "kind": "discontinuity",
                      "comparable": {"province": False, "national": True}, "note": "test"}]
    path = tmp_path / "codebook.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(cb, "codebook_path", lambda: path)
    found = [b for b in cb.breaks("PAPI", "d8") if b.year == 2023]
    assert len(found) == 1 and found[0].kind == "part" and not found[0].comparable and found[0].comparable_national
    assert "not comparable between provinces" in found[0].scope_text()


@pytest.mark.parametrize("scope", [{"province": False}, {"province": False, "national": "yes"}, "sometimes"])
def test_a_malformed_scope_is_a_clear_error(tmp_path, scope):
    doc = yaml.safe_load(cb.codebook_path().read_text(encoding="utf-8"))
    doc["breaks"].append({"index": "PAPI", "indicators": ["d8.2"], "year": 2023, "kind": "discontinuity", "comparable": scope})
    path = tmp_path / "codebook.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError) as err:
        cb.parse_codebook(path)
    assert str(path) in str(err.value) and "breaks[" in str(err.value)
