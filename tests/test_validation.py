"""The validation report lists every PAPI and PCI figure reported in the press or the articles."""

from __future__ import annotations

import pandas as pd

from analysis import load_table, paths
from analysis.validation import FAMILY_ORDER, agreement, reported_papi_pci


def test_every_reported_papi_pci_figure_is_listed(panel):
    listed = reported_papi_pci(load_table("crosschecks"), panel)
    for name in ("articles.csv", "press_papi_pci.csv"):
        src = pd.read_csv(paths.reported_dir() / name, dtype=str)
        src = src[src["index"].isin(["PAPI", "PCI"])]
        for _, r in src.iterrows():
            hit = listed[(listed["year"] == int(r["year"])) & (listed["index"] == r["index"]) & (listed["indicator"] == r["indicator"])
                         & (listed["reported"].round(4) == round(float(r["value"]), 4))]
            assert len(hit), f"{name}: {r['province']} {r['year']} {r['index']} {r['indicator']} missing from the report"
    assert set(listed["status"]) <= {"agree", "conflict", "rank agrees, ranked out of a different N", "no panel value to compare"}


def test_agreement_rates_by_family():
    rates = agreement(load_table("crosschecks"))
    fam = rates.groupby("family", observed=True)[["compared", "agree"]].sum()
    assert fam.loc[FAMILY_ORDER[0], "compared"] == fam.loc[FAMILY_ORDER[0], "agree"] > 17000
    assert fam.loc[FAMILY_ORDER[2], "compared"] - fam.loc[FAMILY_ORDER[2], "agree"] == 5  # the PCI 2014 errata
