# Q6-B gradient flow on the trained Q6-A runs of length probes.length (200), every
# training seed (the spread over seeds is reported); Q6-C hidden-state dynamics on the
# runs of training seed probes.run_seed (null = the first seed).
PROBES_CFG = config["probes"]
PROBE_LENGTH = PROBES_CFG["length"]
PROBE_RUN_SEED = (
    PROBES_CFG["run_seed"] if PROBES_CFG["run_seed"] is not None else SENTIMENT_SEEDS[0]
)
if PROBE_LENGTH not in IMDB_LENGTHS:
    config_error(
        "probes.length",
        f"probes.length={PROBE_LENGTH} is not one of the trained sentiment lengths {IMDB_LENGTHS}",
        "probe a trained length or add it to sentiment.lengths",
    )
if PROBE_RUN_SEED not in SENTIMENT_SEEDS:
    config_error(
        "probes.run_seed",
        f"probes.run_seed={PROBE_RUN_SEED} is not one of the training seeds {SENTIMENT_SEEDS}",
        "set it to a trained seed (or null for the first one)",
    )
PROBE_CHECKPOINTS = dict(
    zip(
        SENTIMENT_MODELS,
        expand(
            rules.sentiment_train.output.best,
            model=SENTIMENT_MODELS,
            length=PROBE_LENGTH,
            seed=PROBE_RUN_SEED,
        ),
    )
)
# `--trained rnn=<path> lstm=<path>`: the same paths the rules take as inputs.
PROBE_TRAINED_ARG = [f"{model}={path}" for model, path in PROBE_CHECKPOINTS.items()]
# Q6-B: `--trained rnn:s0=<path> lstm:s0=<path> rnn:s1=...`, every model and seed.
PROBE_SEED_CHECKPOINTS = {
    f"{model}:s{seed}": expand(
        rules.sentiment_train.output.best, model=model, length=PROBE_LENGTH, seed=seed
    )[0]
    for seed in SENTIMENT_SEEDS
    for model in SENTIMENT_MODELS
}
PROBE_SEEDS_TRAINED_ARG = [f"{key}={path}" for key, path in PROBE_SEED_CHECKPOINTS.items()]
PROBE_GRADIENTS_DIR = f"{SENTIMENT}/gradients"
PROBE_HIDDEN_DIR = f"{SENTIMENT}/hidden"


rule probe_gradients:
    input:
        data=rules.imdb_encode.output.encoded,
        checkpoints=list(PROBE_SEED_CHECKPOINTS.values()),
        device=DEVICE_CHECKED,
        code=module_code("rnnlab.probes.gradients"),
    output:
        steps=report(
            f"{PROBE_GRADIENTS_DIR}/steps.csv",
            caption="../report/q6b_gradients_table.rst",
            category="Q6-B",
            subcategory="tables",
        ),
        batch=f"{PROBE_GRADIENTS_DIR}/batch.csv",
        summary=f"{PROBE_GRADIENTS_DIR}/summary.json",
    log:
        "logs/probe_gradients.log",
    benchmark:
        "benchmarks/probe_gradients.tsv"
    conda:
        CONDA_ENV
    threads: PROBES_CFG["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=JOB_GPUS,
    params:
        cfg=as_json({**PROBES_CFG["gradients"], "length": PROBE_LENGTH}),
        trained=PROBE_SEEDS_TRAINED_ARG,
    shell:
        "python -m rnnlab.probes.gradients measure --encoded {input.data:q}"
        " --trained {params.trained:q} --steps-csv {output.steps:q} --batch-csv {output.batch:q}"
        " --summary {output.summary:q} --threads {threads} --params {params.cfg:q} > {log:q} 2>&1"


rule probe_gradients_figure:
    input:
        steps=rules.probe_gradients.output.steps,
        summary=rules.probe_gradients.output.summary,
        font=FONT_MANIFEST,
        code=module_code("rnnlab.probes.gradients"),
    output:
        figure=report(
            f"{PROBE_GRADIENTS_DIR}/gradient_norms.svg",
            caption="../report/q6b_gradients_figure.rst",
            category="Q6-B",
            subcategory="figures",
        ),
    log:
        "logs/probe_gradients_figure.log",
    benchmark:
        "benchmarks/probe_gradients_figure.tsv"
    conda:
        CONDA_ENV
    shell:
        "python -m rnnlab.probes.gradients plot --steps-csv {input.steps:q}"
        " --summary {input.summary:q} --font {input.font:q} --figure {output.figure:q} > {log:q} 2>&1"


rule probe_hidden:
    input:
        data=rules.imdb_encode.output.encoded,
        checkpoints=list(PROBE_CHECKPOINTS.values()),
        device=DEVICE_CHECKED,
        code=module_code("rnnlab.probes.hidden"),
    output:
        norms=report(
            f"{PROBE_HIDDEN_DIR}/norms.csv",
            caption="../report/q6c_norms_table.rst",
            category="Q6-C",
            subcategory="tables",
        ),
        reviews=f"{PROBE_HIDDEN_DIR}/reviews.csv",
        summary=f"{PROBE_HIDDEN_DIR}/summary.json",
    log:
        "logs/probe_hidden.log",
    benchmark:
        "benchmarks/probe_hidden.tsv"
    conda:
        CONDA_ENV
    threads: PROBES_CFG["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=JOB_GPUS,
    params:
        # The training length is only drawn as a marker (beyond it the models extrapolate).
        cfg=as_json({**PROBES_CFG["hidden"], "train_length": PROBE_LENGTH}),
        trained=PROBE_TRAINED_ARG,
    shell:
        "python -m rnnlab.probes.hidden measure --encoded {input.data:q}"
        " --trained {params.trained:q} --norms-csv {output.norms:q} --reviews-csv {output.reviews:q}"
        " --summary {output.summary:q} --threads {threads} --params {params.cfg:q} > {log:q} 2>&1"


rule probe_hidden_figures:
    input:
        norms=rules.probe_hidden.output.norms,
        summary=rules.probe_hidden.output.summary,
        font=FONT_MANIFEST,
        code=module_code("rnnlab.probes.hidden"),
    output:
        hidden=report(
            f"{PROBE_HIDDEN_DIR}/hidden_norms.svg",
            caption="../report/q6c_hidden.rst",
            category="Q6-C",
            subcategory="figures",
        ),
        cell=report(
            f"{PROBE_HIDDEN_DIR}/cell_norms.svg",
            caption="../report/q6c_cell.rst",
            category="Q6-C",
            subcategory="figures",
        ),
        means=report(
            f"{PROBE_HIDDEN_DIR}/class_means.svg",
            caption="../report/q6c_means.rst",
            category="Q6-C",
            subcategory="figures",
        ),
    log:
        "logs/probe_hidden_figures.log",
    benchmark:
        "benchmarks/probe_hidden_figures.tsv"
    conda:
        CONDA_ENV
    shell:
        "python -m rnnlab.probes.hidden plot --norms-csv {input.norms:q} --summary {input.summary:q}"
        " --font {input.font:q} --hidden-figure {output.hidden:q} --cell-figure {output.cell:q}"
        " --means-figure {output.means:q} > {log:q} 2>&1"


REPORT_SUMMARIES["q6b"] = rules.probe_gradients.output.summary
REPORT_SUMMARIES["q6c"] = rules.probe_hidden.output.summary
REPORT_FIGURES["q6b_gradients"] = rules.probe_gradients_figure.output.figure
REPORT_FIGURES["q6c_hidden"] = rules.probe_hidden_figures.output.hidden
REPORT_FIGURES["q6c_cell"] = rules.probe_hidden_figures.output.cell
REPORT_FIGURES["q6c_means"] = rules.probe_hidden_figures.output.means
FINAL_TARGETS.extend(
    [
        rules.probe_gradients.output.steps,
        rules.probe_gradients.output.batch,
        rules.probe_gradients.output.summary,
        rules.probe_gradients_figure.output.figure,
        rules.probe_hidden.output.norms,
        rules.probe_hidden.output.reviews,
        rules.probe_hidden.output.summary,
        *rules.probe_hidden_figures.output,
    ]
)
