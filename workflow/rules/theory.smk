# Theory questions answered by computation (src/rnnlab/theory/):
#   Q1   shapes, parameters, FLOPs of the 4-layer net and the four Q1-c changes
#   Q2-c one forward step with the question's numbers (tanh and ReLU)
#   Q2-h binary addition: bit-serial RNN vs MLP (seeded experiment)
#   Q2-i RNN vs equal-FLOP convolution / matmul timings (hardware named)
# Each rule gets only its own config subsection, so editing one reruns only it.
THEORY = f"{RESULTS}/theory"
THEORY_CFG = config["theory"]


rule theory_q1:
    input:
        code=code("theory/q1.py", "theory/common.py"),
    output:
        f"{THEORY}/q1.json",
    params:
        cfg=as_json(THEORY_CFG["q1"]),
    conda:
        CONDA_ENV
    log:
        "logs/theory_q1.log",
    shell:
        "python -m rnnlab.theory.q1 --params {params.cfg:q} --out {output:q} > {log} 2>&1"


rule theory_forward:
    input:
        code=code("theory/forward.py", "theory/common.py"),
    output:
        f"{THEORY}/forward.json",
    params:
        cfg=as_json(THEORY_CFG["forward"]),
    conda:
        CONDA_ENV
    log:
        "logs/theory_forward.log",
    shell:
        "python -m rnnlab.theory.forward --params {params.cfg:q} --out {output:q} > {log} 2>&1"


rule theory_addition:
    input:
        code=code("theory/addition.py", "theory/common.py"),
    output:
        f"{THEORY}/addition.json",
    params:
        cfg=as_json({k: v for k, v in THEORY_CFG["addition"].items() if k != "threads"}),
    threads: THEORY_CFG["addition"]["threads"]
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        "logs/theory_addition.log",
    benchmark:
        "benchmarks/theory_addition.tsv"
    shell:
        "python -m rnnlab.theory.addition --params {params.cfg:q} --threads {threads}"
        " --out {output:q} > {log} 2>&1"


rule theory_parallelism:
    input:
        code=code("theory/parallelism.py", "theory/common.py"),
    output:
        f"{THEORY}/parallelism.json",
    params:
        cfg=as_json(THEORY_CFG["parallelism"]),
    threads: max(THEORY_CFG["parallelism"]["cpu_threads"])
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        "logs/theory_parallelism.log",
    benchmark:
        "benchmarks/theory_parallelism.tsv"
    shell:
        "python -m rnnlab.theory.parallelism --params {params.cfg:q} --threads {threads}"
        " --out {output:q} > {log} 2>&1"


rule theory_summary:
    input:
        q1=f"{THEORY}/q1.json",
        forward=f"{THEORY}/forward.json",
        addition=f"{THEORY}/addition.json",
        parallelism=f"{THEORY}/parallelism.json",
        code=code("theory/summary.py"),
    output:
        f"{THEORY}/summary.json",
    conda:
        CONDA_ENV
    log:
        "logs/theory_summary.log",
    shell:
        "python -m rnnlab.theory.summary --q1 {input.q1:q} --forward {input.forward:q}"
        " --addition {input.addition:q} --parallelism {input.parallelism:q}"
        " --out {output:q} > {log} 2>&1"


rule theory_figure:
    input:
        results=f"{THEORY}/{{figure}}.json",
        font=FONT_MANIFEST,
        code=code("theory/figures.py", "style/plots.py", "style/persian.py", "style/fonts.py"),
    output:
        f"{THEORY}/fig_{{figure}}.svg",
    wildcard_constraints:
        figure="addition|parallelism",
    conda:
        CONDA_ENV
    log:
        "logs/theory_figure/{figure}.log",
    shell:
        "python -m rnnlab.theory.figures {wildcards.figure} --results {input.results:q}"
        " --font {input.font:q} --out {output:q} > {log} 2>&1"


REPORT_SUMMARIES["theory"] = f"{THEORY}/summary.json"
REPORT_FIGURES["q2h_addition"] = f"{THEORY}/fig_addition.svg"
REPORT_FIGURES["q2i_timing"] = f"{THEORY}/fig_parallelism.svg"
FINAL_TARGETS.extend(
    [f"{THEORY}/summary.json", f"{THEORY}/fig_addition.svg", f"{THEORY}/fig_parallelism.svg"]
)
