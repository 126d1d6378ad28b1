# The report: font -> results.json -> HTML -> PDF. The last rules of the DAG.
# Templates and CSS are inputs of report_html only, so editing one reruns only
# report_html and report_pdf; a figure edit reruns only report_pdf.
import glob

REPORT = "report"
REPORT_RESULTS = f"{REPORT}/results.json"
REPORT_HTML = f"{REPORT}/build/report.html"
REPORT_PDF = f"{REPORT}/{config['report']['pdf_name']}"
REPORT_TEMPLATES = from_workdir(os.path.join(REPO, "templates"))


rule report_fonts:
    input:
        code=code("style/fonts.py"),
    output:
        FONT_MANIFEST,
    params:
        cfg=as_json(config["report"]["font"]),
        # A run in another directory (tests) reuses the repository's verified tarball
        # (in the repository itself that is the output's own folder).
        reuse=lambda wildcards: from_workdir(os.path.join(REPO, "resources", "fonts")),
    conda:
        CONDA_ENV
    log:
        "logs/report_fonts.log",
    shell:
        "python -m rnnlab.style.fonts --out {output:q} --params {params.cfg:q}"
        " --reuse {params.reuse:q} > {log} 2>&1"


rule report_collect:
    input:
        summaries=report_summary_inputs,
        data=report_data_inputs,
        code=code("report/collect.py", "style/fonts.py", "style/persian.py"),
    output:
        REPORT_RESULTS,
    params:
        summaries=report_summary_flags,
        data=report_data_flags,
        # The whole config: results.json records what produced it.
        cfg=as_json(config),
    conda:
        CONDA_ENV
    log:
        "logs/report_collect.log",
    shell:
        "python -m rnnlab.report.collect --out {output:q} {params.summaries} {params.data}"
        " --config {params.cfg:q} --benchmarks benchmarks > {log} 2>&1"


rule report_html:
    input:
        results=REPORT_RESULTS,
        fonts=FONT_MANIFEST,
        templates=sorted(glob.glob(os.path.join(REPORT_TEMPLATES, "**", "*.j2"), recursive=True)),
        css=os.path.join(REPORT_TEMPLATES, "style.css"),
        code=code("report/render.py", "report/mathsvg.py", "style/fonts.py", "style/persian.py"),
    output:
        REPORT_HTML,
    params:
        figures=lambda wildcards: as_json(REPORT_FIGURES),
        cfg=as_json({k: v for k, v in config["report"].items() if k != "font"}),
        templates=lambda wildcards, input: os.path.dirname(input.css),
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
    log:
        "logs/report_html.log",
    benchmark:
        "benchmarks/report_html.tsv"
    shell:
        "python -m rnnlab.report.render --results {input.results:q} --templates {params.templates:q}"
        " --fonts {input.fonts:q} --figures {params.figures:q} --params {params.cfg:q}"
        " --math-cache resources/cache/math --out {output:q} > {log} 2>&1"


rule report_pdf:
    input:
        html=REPORT_HTML,
        fonts=FONT_MANIFEST,
        figures=report_figure_inputs,
        code=code("report/pdf.py"),
    output:
        REPORT_PDF,
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
    log:
        "logs/report_pdf.log",
    benchmark:
        "benchmarks/report_pdf.tsv"
    shell:
        "python -m rnnlab.report.pdf --html {input.html:q} --out {output:q} > {log} 2>&1"


FINAL_TARGETS.extend([REPORT_RESULTS, REPORT_PDF])
