# The report: results.json -> HTML -> PDF. The last rules of the DAG, and the last
# file included: every stage has registered its summaries (REPORT_SUMMARIES), figures
# (REPORT_FIGURES) and archives by now, so the inputs below are plain values.
# Templates and CSS are inputs of report_html only, so editing one reruns only
# report_html and report_pdf; a figure edit reruns only report_pdf.
import glob

REPORT = "report"
REPORT_TEMPLATES = from_workdir(os.path.join(REPO, "templates"))
# What the rules below were built from; the Snakefile checks that nothing was
# registered after this file was read.
REPORT_REGISTERED = (dict(REPORT_SUMMARIES), dict(REPORT_FIGURES))
# The data archives this run read, for the checksums in the appendix.
REPORT_ARCHIVES = {"imdb": IMDB_ARCHIVE, "power": POWER_ARCHIVE}


rule report_collect:
    input:
        summaries=[REPORT_SUMMARIES[key] for key in sorted(REPORT_SUMMARIES)],
        data=[REPORT_ARCHIVES[key] for key in sorted(REPORT_ARCHIVES)],
        code=module_code("rnnlab.report.collect"),
    output:
        report(
            f"{REPORT}/results.json",
            caption="../report/report_results.rst",
            category="report",
            subcategory="numbers",
        ),
    log:
        "logs/report_collect.log",
    benchmark:
        "benchmarks/report_collect.tsv"
    conda:
        CONDA_ENV
    params:
        summaries=flags(
            "--summary", [f"{k}={REPORT_SUMMARIES[k]}" for k in sorted(REPORT_SUMMARIES)]
        ),
        data=flags("--data", [f"{k}={REPORT_ARCHIVES[k]}" for k in sorted(REPORT_ARCHIVES)]),
        # The whole config: results.json records what produced it.
        cfg=as_json(config),
    shell:
        "python -m rnnlab.report.collect --out {output:q} {params.summaries:q} {params.data:q}"
        " --config {params.cfg:q} --benchmarks benchmarks > {log:q} 2>&1"


rule report_html:
    input:
        results=rules.report_collect.output[0],
        fonts=FONT_MANIFEST,
        templates=sorted(glob.glob(os.path.join(REPORT_TEMPLATES, "**", "*.j2"), recursive=True)),
        css=os.path.join(REPORT_TEMPLATES, "style.css"),
        # The glossary behind term(): data read by rnnlab.style.persian, not an import.
        glossary=from_workdir(os.path.join(SRC, "rnnlab", "style", "glossary.yaml")),
        code=module_code("rnnlab.report.render"),
    output:
        f"{REPORT}/build/report.html",
    log:
        "logs/report_html.log",
    benchmark:
        "benchmarks/report_html.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        figures=as_json(REPORT_FIGURES),
        cfg=as_json({k: v for k, v in config["report"].items() if k != "font"}),
        templates=lambda wildcards, input: os.path.dirname(input.css),
    shell:
        "python -m rnnlab.report.render --results {input.results:q} --templates {params.templates:q}"
        " --fonts {input.fonts:q} --figures {params.figures:q} --params {params.cfg:q}"
        " --math-cache resources/cache/math --out {output:q} > {log:q} 2>&1"


rule report_pdf:
    input:
        html=rules.report_html.output[0],
        fonts=FONT_MANIFEST,
        figures=[REPORT_FIGURES[key] for key in sorted(REPORT_FIGURES)],
        code=module_code("rnnlab.report.pdf"),
    output:
        report(
            f"{REPORT}/{config['report']['pdf_name']}",
            caption="../report/report_pdf.rst",
            category="report",
            subcategory="PDF",
        ),
    log:
        "logs/report_pdf.log",
    benchmark:
        "benchmarks/report_pdf.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        "python -m rnnlab.report.pdf --html {input.html:q} --out {output:q} > {log:q} 2>&1"


FINAL_TARGETS.extend([rules.report_collect.output[0], rules.report_pdf.output[0]])
