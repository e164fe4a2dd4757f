"""Evaluation reports: error rates with bootstrap intervals, error breakdowns and plots.

``seqlab evaluate`` (:mod:`seqlab.cli.evaluate`, the command) runs
:func:`evaluate_checkpoint` (:mod:`~seqlab.report.build`: checkpoint and data
in, report folder out), which decodes the split with
:mod:`~seqlab.report.decoding`; the parts are usable on their own:
:mod:`~seqlab.report.alignment` (S/D/I and confusions),
:mod:`~seqlab.report.stats` (bootstrap intervals, paired test),
:mod:`~seqlab.report.summary` (the report's numbers), :mod:`~seqlab.report.plots`
and :mod:`~seqlab.report.render`.
"""

from seqlab.report.build import default_report_dir, evaluate_checkpoint

__all__ = ["default_report_dir", "evaluate_checkpoint"]
