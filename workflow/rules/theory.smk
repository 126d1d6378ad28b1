# Theory questions answered by computation (src/rnnlab/theory/):
#   Q1   shapes, parameters, FLOPs of the 4-layer net and the four Q1-c changes
#   Q2-c one forward step with the question's numbers (tanh and ReLU)
#   Q2-h binary addition: bit-serial RNN vs MLP (seeded experiment)
#   Q2-i RNN vs equal-FLOP convolution / matmul timings (hardware named)
# Each rule gets only its own config subsection, so editing one reruns only it.
THEORY = f"{RESULTS}/theory"
THEORY_CFG = config["theory"]
# The experiments drawn as figures (rule theory_figure, one job each).
THEORY_FIGURES = ["addition", "parallelism"]


rule theory_q1:
    input:
        code=module_code("rnnlab.theory.q1"),
    output:
        report(
            f"{THEORY}/q1.json",
            caption="../report/theory_q1.rst",
            category="theory",
            subcategory="tables",
        ),
    log:
        "logs/theory_q1.log",
    benchmark:
        "benchmarks/theory_q1.tsv"
    conda:
        CONDA_ENV
    params:
        cfg=as_json(THEORY_CFG["q1"]),
    shell:
        "python -m rnnlab.theory.q1 --params {params.cfg:q} --out {output:q} > {log:q} 2>&1"


rule theory_forward:
    input:
        code=module_code("rnnlab.theory.forward"),
    output:
        f"{THEORY}/forward.json",
    log:
        "logs/theory_forward.log",
    benchmark:
        "benchmarks/theory_forward.tsv"
    conda:
        CONDA_ENV
    params:
        cfg=as_json(THEORY_CFG["forward"]),
    shell:
        "python -m rnnlab.theory.forward --params {params.cfg:q} --out {output:q} > {log:q} 2>&1"


rule theory_addition:
    input:
        code=module_code("rnnlab.theory.addition"),
    output:
        f"{THEORY}/addition.json",
    log:
        "logs/theory_addition.log",
    benchmark:
        "benchmarks/theory_addition.tsv"
    conda:
        CONDA_ENV
    threads: THEORY_CFG["addition"]["threads"]
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        cfg=as_json({k: v for k, v in THEORY_CFG["addition"].items() if k != "threads"}),
    shell:
        "python -m rnnlab.theory.addition --params {params.cfg:q} --threads {threads}"
        " --out {output:q} > {log:q} 2>&1"


rule theory_parallelism:
    input:
        code=module_code("rnnlab.theory.parallelism"),
    output:
        f"{THEORY}/parallelism.json",
    log:
        "logs/theory_parallelism.log",
    benchmark:
        "benchmarks/theory_parallelism.tsv"
    conda:
        CONDA_ENV
    threads: max(THEORY_CFG["parallelism"]["cpu_threads"])
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        cfg=as_json(THEORY_CFG["parallelism"]),
    shell:
        "python -m rnnlab.theory.parallelism --params {params.cfg:q} --threads {threads}"
        " --out {output:q} > {log:q} 2>&1"


rule theory_summary:
    input:
        q1=rules.theory_q1.output[0],
        forward=rules.theory_forward.output[0],
        addition=rules.theory_addition.output[0],
        parallelism=rules.theory_parallelism.output[0],
        code=module_code("rnnlab.theory.summary"),
    output:
        f"{THEORY}/summary.json",
    log:
        "logs/theory_summary.log",
    benchmark:
        "benchmarks/theory_summary.tsv"
    conda:
        CONDA_ENV
    shell:
        "python -m rnnlab.theory.summary --q1 {input.q1:q} --forward {input.forward:q}"
        " --addition {input.addition:q} --parallelism {input.parallelism:q}"
        " --out {output:q} > {log:q} 2>&1"


rule theory_figure:
    input:
        # addition -> theory_addition's output, parallelism -> theory_parallelism's.
        results=lambda wildcards: getattr(rules, f"theory_{wildcards.figure}").output[0],
        font=FONT_MANIFEST,
        code=module_code("rnnlab.theory.figures"),
    output:
        report(
            f"{THEORY}/fig_{{figure}}.svg",
            caption="../report/theory_figure.rst",
            category="theory",
            subcategory="figures",
            labels={"figure": "{figure}"},
        ),
    log:
        "logs/theory_figure/{figure}.log",
    benchmark:
        "benchmarks/theory_figure/{figure}.tsv"
    wildcard_constraints:
        figure="|".join(THEORY_FIGURES),
    conda:
        CONDA_ENV
    shell:
        "python -m rnnlab.theory.figures {wildcards.figure} --results {input.results:q}"
        " --font {input.font:q} --out {output:q} > {log:q} 2>&1"


# Q2-c: the unrolled graph the question assumes; drawn from nothing but the code.
rule theory_graph_figure:
    input:
        font=FONT_MANIFEST,
        code=module_code("rnnlab.theory.figures"),
    output:
        report(
            f"{THEORY}/fig_graph.svg",
            caption="../report/theory_graph.rst",
            category="theory",
            subcategory="figures",
        ),
    log:
        "logs/theory_figure/graph.log",
    benchmark:
        "benchmarks/theory_figure/graph.tsv"
    conda:
        CONDA_ENV
    shell:
        "python -m rnnlab.theory.figures graph --font {input.font:q} --out {output:q} > {log:q} 2>&1"


REPORT_SUMMARIES["theory"] = rules.theory_summary.output[0]
REPORT_FIGURES["q2c_graph"] = rules.theory_graph_figure.output[0]
REPORT_FIGURES["q2h_addition"] = rules.theory_figure.output[0].format(figure="addition")
REPORT_FIGURES["q2i_timing"] = rules.theory_figure.output[0].format(figure="parallelism")
FINAL_TARGETS.extend(
    [
        rules.theory_summary.output[0],
        rules.theory_graph_figure.output[0],
        *expand(rules.theory_figure.output[0], figure=THEORY_FIGURES),
    ]
)
