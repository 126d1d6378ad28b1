# Q6-A: IMDb sentiment with a Simple RNN and an LSTM.
# One model per (model, length, seed) -> run table + accuracy-vs-length figure.
SENTIMENT = f"{RESULTS}/sentiment"
# One trained run: its checkpoint, metrics, curve and test predictions live here, and
# its resume state `last.pt` (rnnlab.training; not an output, so Snakemake never
# deletes it: a killed job resumes from it, and it cannot go stale).
SENTIMENT_RUN = f"{SENTIMENT}/runs/{{model}}_L{{length}}_s{{seed}}"
SENTIMENT_CFG = config["sentiment"]
SENTIMENT_MODELS = SENTIMENT_CFG["models"]
# Training seeds: the configured list; null means the top-level seed.
SENTIMENT_SEEDS = SENTIMENT_CFG["seeds"] if SENTIMENT_CFG["seeds"] is not None else [config["seed"]]
# Scheduling estimate (expected_cpu_seconds): CPU-seconds of one training per token of length,
# from the three-seed reference run at L=200 and 400 (docs/benchmarks.md): the longest jobs.
SENTIMENT_COST = {"rnn": 1.6, "lstm": 2.4}


rule sentiment_train:
    input:
        data=rules.imdb_encode.output.encoded,
        device=DEVICE_CHECKED,
        code=module_code("rnnlab.sentiment.train"),
    output:
        best=f"{SENTIMENT_RUN}/best.pt",
        metrics=f"{SENTIMENT_RUN}/metrics.json",
        curve=f"{SENTIMENT_RUN}/curve.csv",
        # Test predictions in test-split order (label, logit, correct): the paired
        # McNemar claims of the summary read them.
        predictions=f"{SENTIMENT_RUN}/predictions.npz",
    log:
        "logs/sentiment_train/{model}_L{length}_s{seed}.log",
    benchmark:
        "benchmarks/sentiment_train/{model}_L{length}_s{seed}.tsv"
    wildcard_constraints:
        model="rnn|lstm",
        length=r"\d+",
        seed=r"\d+",
    priority: expected_cpu_seconds(SENTIMENT_COST)
    conda:
        CONDA_ENV
    threads: SENTIMENT_CFG["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=JOB_GPUS,
    params:
        # Shared hyper-parameters only; model, length and seed come from the wildcards,
        # so adding a length or a seed trains just the new runs.
        hyper=as_json(SENTIMENT_CFG["hyper"]),
        device=config["device"],
        out_dir=lambda wildcards, output: os.path.dirname(output.best),
    shell:
        "python -m rnnlab.sentiment.train fit --data {input.data:q} --model {wildcards.model}"
        " --length {wildcards.length} --seed {wildcards.seed} --hyper {params.hyper:q}"
        " --device {params.device:q} --threads {threads} --out-dir {params.out_dir:q} > {log:q} 2>&1"


SENTIMENT_BASELINE = f"{SENTIMENT}/baseline"


rule sentiment_baseline:
    # TF-IDF (unigrams + bigrams) + logistic regression on the same first L ids the
    # networks read, and on the full text; C chosen on validation.
    input:
        data=rules.imdb_encode.output.encoded,
        tokens=rules.imdb_tokenize.output.tokens,
        splits=rules.imdb_split.output.splits,
        vocab=rules.imdb_vocab.output.vocab,
        code=module_code("rnnlab.sentiment.baseline"),
    output:
        summary=f"{SENTIMENT_BASELINE}/baseline.json",
        predictions=f"{SENTIMENT_BASELINE}/predictions.npz",
    log:
        "logs/sentiment_baseline.log",
    benchmark:
        "benchmarks/sentiment_baseline.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        lengths=IMDB_LENGTHS,
        cfg=as_json(SENTIMENT_CFG["baseline"]),
    shell:
        "python -m rnnlab.sentiment.baseline fit --encoded {input.data:q}"
        " --lengths {params.lengths} --tokens {input.tokens:q} --splits {input.splits:q}"
        " --vocab {input.vocab:q} --out {output.summary:q} --predictions {output.predictions:q}"
        " --threads {threads} --params {params.cfg:q} > {log:q} 2>&1"


# One output of every configured run, in (model, length, seed) order.
SENTIMENT_RUNS = dict(model=SENTIMENT_MODELS, length=IMDB_LENGTHS, seed=SENTIMENT_SEEDS)
SENTIMENT_METRICS = expand(rules.sentiment_train.output.metrics, **SENTIMENT_RUNS)
SENTIMENT_PREDICTIONS = expand(rules.sentiment_train.output.predictions, **SENTIMENT_RUNS)


rule sentiment_aggregate:
    input:
        metrics=SENTIMENT_METRICS,
        predictions=SENTIMENT_PREDICTIONS,
        baseline=rules.sentiment_baseline.output.summary,
        baseline_predictions=rules.sentiment_baseline.output.predictions,
        code=module_code("rnnlab.sentiment.summary"),
    output:
        table=report(
            f"{SENTIMENT}/accuracy.csv",
            caption="../report/q6a_accuracy_table.rst",
            category="Q6-A",
            subcategory="tables",
        ),
        summary=f"{SENTIMENT}/summary.json",
    log:
        "logs/sentiment_aggregate.log",
    benchmark:
        "benchmarks/sentiment_aggregate.tsv"
    conda:
        CONDA_ENV
    shell:
        "python -m rnnlab.sentiment.summary aggregate --metrics {input.metrics:q}"
        " --predictions {input.predictions:q} --baseline {input.baseline:q}"
        " --baseline-predictions {input.baseline_predictions:q} --table {output.table:q}"
        " --summary {output.summary:q} > {log:q} 2>&1"


rule sentiment_figure:
    input:
        summary=rules.sentiment_aggregate.output.summary,
        font=FONT_MANIFEST,
        code=module_code("rnnlab.sentiment.summary"),
    output:
        figure=report(
            f"{SENTIMENT}/accuracy_vs_length.svg",
            caption="../report/q6a_accuracy_figure.rst",
            category="Q6-A",
            subcategory="figures",
        ),
    log:
        "logs/sentiment_figure.log",
    benchmark:
        "benchmarks/sentiment_figure.tsv"
    conda:
        CONDA_ENV
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
        rules.sentiment_baseline.output.summary,
    ]
)
