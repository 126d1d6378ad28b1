"""Q7: household power forecasting (models, training, gate analysis, summary and figures)."""
