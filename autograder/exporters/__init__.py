"""Exporters: each turns a GradingReport (or several) into one output format."""
