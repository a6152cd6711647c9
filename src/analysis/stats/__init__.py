"""Statistics the notebooks report: correlations with intervals and multiple-testing control, trends,
within-province panel models and the interrupted time series. Thin wrappers over scipy, statsmodels,
linearmodels and pymannkendall that also state N and refuse to compute where N is too small."""
