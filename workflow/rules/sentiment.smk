# Q6-A: IMDb sentiment with a Simple RNN and an LSTM.
# One model per (model, length, seed) -> run table + accuracy-vs-length figure.
SENTIMENT = f"{RESULTS}/sentiment"
# One trained run: its checkpoint, metrics and curve live here.
SENTIMENT_RUN = f"{SENTIMENT}/runs/{{model}}_L{{length}}_s{{seed}}"
SENTIMENT_CFG = config["sentiment"]
SENTIMENT_MODELS = SENTIMENT_CFG["models"]
# Training seeds: the configured list; null means the top-level seed.
SENTIMENT_SEEDS = SENTIMENT_CFG["seeds"] if SENTIMENT_CFG["seeds"] is not None else [config["seed"]]


rule sentiment_train:
    input:
        data=rules.imdb_encode.output.encoded,
        device=DEVICE_CHECKED,
        code=module_code("rnnlab.sentiment.train"),
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
        hyper=as_json(SENTIMENT_CFG["hyper"]),
        device=config["device"],
        out_dir=lambda wildcards, output: os.path.dirname(output.best),
    threads: SENTIMENT_CFG["threads"]
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
        "python -m rnnlab.sentiment.train fit --data {input.data:q} --model {wildcards.model}"
        " --length {wildcards.length} --seed {wildcards.seed} --hyper {params.hyper:q}"
        " --device {params.device:q} --threads {threads} --out-dir {params.out_dir:q} > {log:q} 2>&1"


rule sentiment_aggregate:
    input:
        # Every configured run, in (model, length, seed) order.
        metrics=expand(
            rules.sentiment_train.output.metrics,
            model=SENTIMENT_MODELS,
            length=IMDB_LENGTHS,
            seed=SENTIMENT_SEEDS,
        ),
        code=module_code("rnnlab.sentiment.summary"),
    output:
        table=f"{SENTIMENT}/accuracy.csv",
        summary=f"{SENTIMENT}/summary.json",
    conda:
        CONDA_ENV
    log:
        "logs/sentiment_aggregate.log",
    shell:
        "python -m rnnlab.sentiment.summary aggregate --metrics {input.metrics:q} --table {output.table:q}"
        " --summary {output.summary:q} > {log:q} 2>&1"


rule sentiment_figure:
    input:
        summary=rules.sentiment_aggregate.output.summary,
        font=FONT_MANIFEST,
        code=module_code("rnnlab.sentiment.summary"),
    output:
        figure=f"{SENTIMENT}/accuracy_vs_length.svg",
    conda:
        CONDA_ENV
    log:
        "logs/sentiment_figure.log",
    shell:
        "python -m rnnlab.sentiment.summary plot --summary {input.summary:q} --font {input.font:q}"
        " --figure {output.figure:q} > {log:q} 2>&1"


REPORT_SUMMARIES["q6a"] = rules.sentiment_aggregate.output.summary
REPORT_FIGURES["q6a_accuracy"] = rules.sentiment_figure.output.figure
FINAL_TARGETS.extend(
    [
        rules.sentiment_aggregate.output.table,
        rules.sentiment_aggregate.output.summary,
        rules.sentiment_figure.output.figure,
    ]
)
