"""One adapter per publisher layout. Each takes a manifest Source and returns observations in the
columns of `common.OBS_COLUMNS`; the manifest's `adapter:` key names the function below."""

from __future__ import annotations

from . import dti, dvc766, papi, pci, reported
from .common import Adapter

ADAPTERS: dict[str, Adapter] = {
    "papi_combined": papi.read_combined,
    "papi_yearly": papi.read_yearly,
    "papi_subdims": papi.read_subdims,
    "pci_workbook": pci.read_workbook,
    "pci_cleaned": pci.read_cleaned,
    "dti_2022": reported.read_dti_2022,
    "mic_egov_2017": reported.read_mic_egov_2017,
    "news_reported": reported.read_news,
    "reported_table": reported.read_reported_table,
    "dvc766_workbook": dvc766.read_workbook,
    "dvc766_yearly": dvc766.read_yearly,
    "dti_yearly": dti.read_dti_yearly,
    "news_reported_supplement": reported.read_news_supplement,
    "par_2020_parts": reported.read_par_2020_parts,
}
# role `uncertainty`: standard errors published beside the scores (data/processed/uncertainty.csv)
UNCERTAINTY_ADAPTERS: dict[str, Adapter] = {"papi_uncertainty": papi.read_uncertainty}
