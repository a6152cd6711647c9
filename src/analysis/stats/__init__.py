"""Statistics the notebooks report, each stating N and the provenance of the values it rests on, and none
run across a methodology break the method does not handle (`analysis.panel.codebook` says where they are):

- `common`: annual provincial rows, share of the maximum, provenance counts;
- `breaks`: candidate discontinuities found in the data (`screen`: spread, mean shift, floor pile-up, and
  rank reshuffles tested with a bootstrap-calibrated, FDR-controlled rule, a lag-2 check and the breadth per
  step) and like-for-like parts across a caveated break;
- `correlation`: cross-sectional correlations with Fisher-z intervals, Holm/BH and part-whole handling;
- `trends`: stratified Mann-Kendall and Sen slopes within comparable segments, percentile-rank mobility;
- `its`: interrupted time series on yearly means over comparable years;
- `panel_models`: fixed effects with province-within-segment entities and province-clustered errors;
- `uncertainty`: each province's own standard error and where it comes from (published or carried), and
  the SEs a whole year is judged with (published, or one pooled SE);
- `ranks`: single-step confidence intervals for ranks from those standard errors (marginal or simultaneous).

Thin wrappers over scipy, statsmodels, linearmodels and pymannkendall; tests/test_stats.py checks each
against a second implementation."""
