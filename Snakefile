# rnnlab: one command regenerates every number, figure and page of the report.
#   snakemake --cores 4                      full run (config/config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml   tiny fixture-sized run
import os

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config", "config.yaml")


validate(config, os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml"))


# `snakemake --report report/provenance.html`: this text opens it; the outputs wrapped
# in report(...) in the rule files follow, with captions from workflow/report/.
report: "workflow/report/workflow.rst"


# One rule file per stage; each owns its paths and constants and registers its
# outputs for the default target and the report. report.smk reads every stage's
# registrations, so it comes last.
include: "workflow/rules/common.smk"
include: "workflow/rules/device.smk"
include: "workflow/rules/style.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/sentiment.smk"
include: "workflow/rules/probes.smk"
include: "workflow/rules/forecast.smk"
include: "workflow/rules/theory.smk"
include: "workflow/rules/report.smk"


if REPORT_REGISTERED != (REPORT_SUMMARIES, REPORT_FIGURES):
    raise WorkflowError("a stage registered report inputs after report.smk: include it before")


rule all:
    default_target: True
    input:
        final_targets(),
