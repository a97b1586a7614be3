"""Figures of the workflow. Importing the package selects matplotlib's non-interactive Agg
backend before any of its modules imports pyplot, so figures render without a display."""

import matplotlib

matplotlib.use("Agg")
