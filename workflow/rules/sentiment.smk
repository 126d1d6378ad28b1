# Q6: IMDb sentiment with a Simple RNN and an LSTM.
# Q6-A: one model per (model, length, seed) -> run table + accuracy-vs-length figure.
SENTIMENT = f"{RESULTS}/sentiment"
SENTIMENT_RUN = f"{SENTIMENT}/runs/{{model}}_L{{length}}_s{{seed}}"
SENTIMENT_CFG = config.get("sentiment", {})
SENTIMENT_CODE = code("sentiment/train.py", "sentiment/models.py", "sentiment/batching.py", "data/imdb.py")


# Training seeds: the configured list, else the top-level seed.
SENTIMENT_SEEDS = SENTIMENT_CFG.get("seeds") or [config["seed"]]
# Every configured run, in (model, length, seed) order.
SENTIMENT_METRICS = expand(
    f"{SENTIMENT_RUN}/metrics.json",
    model=SENTIMENT_CFG.get("models", ["rnn", "lstm"]),
    length=imdb_lengths(),
    seed=SENTIMENT_SEEDS,
)


rule sentiment_train:
    input:
        data=rules.imdb_encode.output.encoded,
        code=SENTIMENT_CODE,
    output:
        best=f"{SENTIMENT_RUN}/best.pt",
        metrics=f"{SENTIMENT_RUN}/metrics.json",
        curve=f"{SENTIMENT_RUN}/curve.csv",
    wildcard_constraints:
        model="rnn|lstm",
        length=r"\d+",
        seed=r"\d+",
    params:
        # Shared hyper-parameters only; model, length and seed come from the wildcards,
        # so adding a length or a seed trains just the new runs.
        hyper=as_json(SENTIMENT_CFG.get("hyper", {})),
        device=config["device"],
        out_dir=lambda wc: SENTIMENT_RUN.format(**wc),
    threads: SENTIMENT_CFG.get("threads", 1)
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=JOB_GPUS,
    log:
        "logs/sentiment_train/{model}_L{length}_s{seed}.log",
    benchmark:
        "benchmarks/sentiment_train/{model}_L{length}_s{seed}.tsv"
    shell:
        "python -m rnnlab.sentiment.train fit --data {input.data} --model {wildcards.model}"
        " --length {wildcards.length} --seed {wildcards.seed} --hyper {params.hyper:q}"
        " --device {params.device} --threads {threads} --out-dir {params.out_dir} > {log} 2>&1"


rule sentiment_aggregate:
    input:
        metrics=SENTIMENT_METRICS,
        code=code("sentiment/summary.py", "sentiment/models.py"),
    output:
        table=f"{SENTIMENT}/accuracy.csv",
        summary=f"{SENTIMENT}/summary.json",
    conda:
        CONDA_ENV
    log:
        "logs/sentiment_aggregate.log",
    shell:
        "python -m rnnlab.sentiment.summary aggregate --metrics {input.metrics} --table {output.table}"
        " --summary {output.summary} > {log} 2>&1"


rule sentiment_figure:
    input:
        summary=rules.sentiment_aggregate.output.summary,
        font=FONT_MANIFEST,
        code=code("sentiment/summary.py", "sentiment/models.py", "style/plots.py", "style/persian.py"),
    output:
        figure=f"{SENTIMENT}/accuracy_vs_length.svg",
    conda:
        CONDA_ENV
    log:
        "logs/sentiment_figure.log",
    shell:
        "python -m rnnlab.sentiment.summary plot --summary {input.summary} --font {input.font}"
        " --figure {output.figure} > {log} 2>&1"


REPORT_SUMMARIES["q6a"] = rules.sentiment_aggregate.output.summary
REPORT_FIGURES["q6a_accuracy"] = rules.sentiment_figure.output.figure
FINAL_TARGETS.extend(
    [
        rules.sentiment_aggregate.output.table,
        rules.sentiment_aggregate.output.summary,
        rules.sentiment_figure.output.figure,
    ]
)

# ---- Q6-B / Q6-C probes (gradient norms, hidden-state norms): owned by the probes
# engineer; their rules go below this line.
# Q6-B gradient flow and Q6-C hidden-state dynamics, both on the trained runs of
# length probes.length (200) and training seed probes.run_seed (null = the first seed).
PROBES_CFG = config.get("probes", {})
PROBE_LENGTH = PROBES_CFG.get("length", 200)
PROBE_RUN_SEED = (
    PROBES_CFG["run_seed"] if PROBES_CFG.get("run_seed") is not None else SENTIMENT_SEEDS[0]
)
if PROBE_LENGTH not in imdb_lengths():
    raise ValueError(
        f"probes.length={PROBE_LENGTH} is not one of the trained sentiment lengths "
        f"{imdb_lengths()}: probe a trained length or add it to sentiment.lengths."
    )
if PROBE_RUN_SEED not in SENTIMENT_SEEDS:
    raise ValueError(
        f"probes.run_seed={PROBE_RUN_SEED} is not one of the training seeds {SENTIMENT_SEEDS}: "
        "set it to a trained seed (or null for the first one)."
    )
PROBE_CHECKPOINTS = {
    model: os.path.join(
        SENTIMENT_RUN.format(model=model, length=PROBE_LENGTH, seed=PROBE_RUN_SEED), "best.pt"
    )
    for model in SENTIMENT_CFG.get("models", ["rnn", "lstm"])
}
# `--trained rnn=<path> lstm=<path>`: the same paths the rules take as inputs.
PROBE_TRAINED_ARG = " ".join(f"{model}={path}" for model, path in PROBE_CHECKPOINTS.items())
PROBE_CODE = ("sentiment/models.py", "data/imdb.py", "probes/__init__.py", "probes/selection.py",
              "probes/unroll.py")
PROBE_PLOT_CODE = ("style/plots.py", "style/persian.py", "style/fonts.py", "probes/figures.py")
PROBE_GRADIENTS_DIR = f"{SENTIMENT}/gradients"
PROBE_HIDDEN_DIR = f"{SENTIMENT}/hidden"


rule probe_gradients:
    input:
        data=rules.imdb_encode.output.encoded,
        checkpoints=list(PROBE_CHECKPOINTS.values()),
        code=code(*PROBE_CODE, "probes/gradients.py"),
    output:
        steps=f"{PROBE_GRADIENTS_DIR}/steps.csv",
        batch=f"{PROBE_GRADIENTS_DIR}/batch.csv",
        summary=f"{PROBE_GRADIENTS_DIR}/summary.json",
    params:
        cfg=as_json({**PROBES_CFG.get("gradients", {}), "length": PROBE_LENGTH}),
        trained=PROBE_TRAINED_ARG,
    threads: PROBES_CFG.get("threads", 1)
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=JOB_GPUS,
    log:
        "logs/probe_gradients.log",
    benchmark:
        "benchmarks/probe_gradients.tsv"
    shell:
        "python -m rnnlab.probes.gradients measure --encoded {input.data}"
        " --trained {params.trained} --steps-csv {output.steps} --batch-csv {output.batch}"
        " --summary {output.summary} --threads {threads} --params {params.cfg:q} > {log} 2>&1"


rule probe_gradients_figure:
    input:
        steps=rules.probe_gradients.output.steps,
        summary=rules.probe_gradients.output.summary,
        font=FONT_MANIFEST,
        code=code(*PROBE_CODE, *PROBE_PLOT_CODE, "probes/gradients.py"),
    output:
        figure=f"{PROBE_GRADIENTS_DIR}/gradient_norms.svg",
    conda:
        CONDA_ENV
    log:
        "logs/probe_gradients_figure.log",
    shell:
        "python -m rnnlab.probes.gradients plot --steps-csv {input.steps}"
        " --summary {input.summary} --font {input.font} --figure {output.figure} > {log} 2>&1"


rule probe_hidden:
    input:
        data=rules.imdb_encode.output.encoded,
        checkpoints=list(PROBE_CHECKPOINTS.values()),
        code=code(*PROBE_CODE, "probes/hidden.py"),
    output:
        norms=f"{PROBE_HIDDEN_DIR}/norms.csv",
        reviews=f"{PROBE_HIDDEN_DIR}/reviews.csv",
        summary=f"{PROBE_HIDDEN_DIR}/summary.json",
    params:
        # The training length is only drawn as a marker (beyond it the models extrapolate).
        cfg=as_json({**PROBES_CFG.get("hidden", {}), "train_length": PROBE_LENGTH}),
        trained=PROBE_TRAINED_ARG,
    threads: PROBES_CFG.get("threads", 1)
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=JOB_GPUS,
    log:
        "logs/probe_hidden.log",
    benchmark:
        "benchmarks/probe_hidden.tsv"
    shell:
        "python -m rnnlab.probes.hidden measure --encoded {input.data}"
        " --trained {params.trained} --norms-csv {output.norms} --reviews-csv {output.reviews}"
        " --summary {output.summary} --threads {threads} --params {params.cfg:q} > {log} 2>&1"


rule probe_hidden_figures:
    input:
        norms=rules.probe_hidden.output.norms,
        summary=rules.probe_hidden.output.summary,
        font=FONT_MANIFEST,
        code=code(*PROBE_CODE, *PROBE_PLOT_CODE, "probes/hidden.py"),
    output:
        hidden=f"{PROBE_HIDDEN_DIR}/hidden_norms.svg",
        cell=f"{PROBE_HIDDEN_DIR}/cell_norms.svg",
        means=f"{PROBE_HIDDEN_DIR}/class_means.svg",
    conda:
        CONDA_ENV
    log:
        "logs/probe_hidden_figures.log",
    shell:
        "python -m rnnlab.probes.hidden plot --norms-csv {input.norms} --summary {input.summary}"
        " --font {input.font} --hidden-figure {output.hidden} --cell-figure {output.cell}"
        " --means-figure {output.means} > {log} 2>&1"


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
# ---- end of the Q6-B / Q6-C probes block.
