# Style: the Persian fonts every figure and the report use (rnnlab.style.fonts).
# Included before the stages, since their figure rules read the font manifest.


rule report_fonts:
    input:
        code=module_code("rnnlab.style.fonts"),
    output:
        # Names the Persian font files to use.
        "resources/fonts/fonts.json",
    log:
        "logs/report_fonts.log",
    benchmark:
        "benchmarks/report_fonts.tsv"
    conda:
        CONDA_ENV
    params:
        cfg=as_json(config["report"]["font"]),
        # A run in another directory (tests) reuses the repository's verified tarball
        # (in the repository itself that is the output's own folder).
        reuse=lambda wildcards: from_workdir(os.path.join(REPO, "resources", "fonts")),
    shell:
        "python -m rnnlab.style.fonts --out {output:q} --params {params.cfg:q}"
        " --reuse {params.reuse:q} > {log:q} 2>&1"


FONT_MANIFEST = rules.report_fonts.output[0]
