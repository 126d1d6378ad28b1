# Q7: household power forecasting. Prepared series (data.smk) -> one training job per
# (model, window length) -> gate analysis -> summary.json -> figures.
FORECAST = f"{RESULTS}/forecast"
FORECAST_CFG = config["forecast"]
FORECAST_ARCHS = ["rnn", "lstm", "gru", "bilstm"]
# Part (e): the full LSTM is the part-a LSTM; these two are the ablated variants.
FORECAST_ABLATIONS = ["lstm_forget_only", "lstm_input_only"]
FORECAST_FIGURES = ["curves", "forecast", "lengths", "ablation",
                    "gates_calm", "gates_peak", "gates_typical"]
MAIN_LENGTH = FORECAST_CFG["main_length"]
# Test targets shared by every length: each run is evaluated on the longest window's targets.
COMMON_LENGTH = max(FORECAST_CFG["lengths"])
# One trained run: its model, metrics and test predictions live here.
FORECAST_RUN = f"{FORECAST}/runs/{{model}}_L{{length}}"
# Not an output: Snakemake would delete it when a job is killed, and it is
# exactly what a killed job needs to resume.
FORECAST_RESUME = f"{FORECAST}/resume/{{model}}_L{{length}}.pt"
# Shared training settings: every run depends on them (and the summary records them).
FORECAST_SETUP_KEYS = (
    "hidden", "layers", "epochs", "batch_size", "lr", "grad_clip", "train_subsample", "seed"
)  # fmt: skip


if MAIN_LENGTH not in FORECAST_CFG["lengths"]:
    raise ValueError("forecast.main_length must be one of forecast.lengths in the config.")


# (model, length) of every trained model: 4 architectures x lengths + ablations.
FORECAST_RUNS = [(m, n) for m in FORECAST_ARCHS for n in FORECAST_CFG["lengths"]] + [
    (m, MAIN_LENGTH) for m in FORECAST_ABLATIONS
]


rule forecast_train:
    input:
        series=rules.power_prepare.output.series,
        report=rules.power_prepare.output.report,
        code=module_code("rnnlab.forecast.train"),
    output:
        model=f"{FORECAST_RUN}/model.pt",
        metrics=f"{FORECAST_RUN}/metrics.json",
        predictions=f"{FORECAST_RUN}/predictions.npz",
    wildcard_constraints:
        model="|".join(FORECAST_ARCHS + FORECAST_ABLATIONS),
        length=r"\d+",
    params:
        # Only what this one run depends on (not the list of lengths, not other models).
        cfg=lambda wildcards: as_json(
            {k: FORECAST_CFG[k] for k in FORECAST_SETUP_KEYS}
            | {
                "model": wildcards.model,
                "length": int(wildcards.length),
                "common_length": COMMON_LENGTH,
                "device": config["device"],
            }
        ),
        out_dir=lambda wildcards, output: os.path.dirname(output.model),
        resume=lambda wildcards: FORECAST_RESUME.format(
            model=wildcards.model, length=wildcards.length
        ),
    threads: FORECAST_CFG["threads"]
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=90,
        gpu=JOB_GPUS,
    log:
        "logs/forecast_train/{model}_L{length}.log",
    benchmark:
        "benchmarks/forecast_train/{model}_L{length}.tsv"
    shell:
        "python -m rnnlab.forecast.train --series {input.series:q} --prep {input.report:q}"
        " --out-dir {params.out_dir:q} --resume {params.resume:q} --params {params.cfg:q}"
        " --threads {threads} > {log:q} 2>&1"


rule forecast_gates:
    input:
        series=rules.power_prepare.output.series,
        report=rules.power_prepare.output.report,
        lstm=expand(rules.forecast_train.output.model, model="lstm", length=MAIN_LENGTH),
        gru=expand(rules.forecast_train.output.model, model="gru", length=MAIN_LENGTH),
        code=module_code("rnnlab.forecast.gates"),
    output:
        stats=f"{FORECAST}/gates/gates.json",
        arrays=f"{FORECAST}/gates/gates.npz",
    params:
        cfg=as_json(
            FORECAST_CFG["gates"] | {"length": MAIN_LENGTH, "common_length": COMMON_LENGTH}
        ),
    threads: FORECAST_CFG["threads"]
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=30,
        gpu=JOB_GPUS,
    log:
        "logs/forecast_gates.log",
    benchmark:
        "benchmarks/forecast_gates.tsv"
    shell:
        "python -m rnnlab.forecast.gates --series {input.series:q} --prep {input.report:q}"
        " --lstm {input.lstm:q} --gru {input.gru:q} --out-json {output.stats:q}"
        " --out-npz {output.arrays:q} --params {params.cfg:q} --threads {threads} > {log:q} 2>&1"


rule forecast_summary:
    input:
        prep=rules.power_prepare.output.report,
        gates=rules.forecast_gates.output.stats,
        metrics=[
            rules.forecast_train.output.metrics.format(model=m, length=n) for m, n in FORECAST_RUNS
        ],
        code=module_code("rnnlab.forecast.analysis"),
    output:
        summary=f"{FORECAST}/summary.json",
    params:
        metrics=lambda wildcards, input: flags("--metrics", input.metrics),
        setup=as_json(
            {k: FORECAST_CFG[k] for k in FORECAST_SETUP_KEYS} | {"main_length": MAIN_LENGTH}
        ),
    conda:
        CONDA_ENV
    log:
        "logs/forecast_summary.log",
    shell:
        "python -m rnnlab.forecast.analysis --prep {input.prep:q} --gates {input.gates:q}"
        " {params.metrics:q} --setup {params.setup:q} --out {output.summary:q} > {log:q} 2>&1"


rule forecast_figures:
    input:
        summary=rules.forecast_summary.output.summary,
        gates=rules.forecast_gates.output.arrays,
        predictions=expand(
            rules.forecast_train.output.predictions, model=FORECAST_ARCHS, length=MAIN_LENGTH
        ),
        font=FONT_MANIFEST,
        code=module_code("rnnlab.forecast.figures"),
    output:
        **{name: f"{FORECAST}/figures/{name}.svg" for name in FORECAST_FIGURES},
    params:
        predictions=lambda wildcards, input: flags(
            "--prediction", [f"{m}={p}" for m, p in zip(FORECAST_ARCHS, input.predictions)]
        ),
        out_dir=lambda wildcards, output: os.path.dirname(output[0]),
    conda:
        CONDA_ENV
    log:
        "logs/forecast_figures.log",
    benchmark:
        "benchmarks/forecast_figures.tsv"
    shell:
        "python -m rnnlab.forecast.figures --summary {input.summary:q} --gates {input.gates:q}"
        " --font {input.font:q} {params.predictions:q} --out-dir {params.out_dir:q} > {log:q} 2>&1"


REPORT_SUMMARIES["q7"] = rules.forecast_summary.output.summary
for _name in FORECAST_FIGURES:
    REPORT_FIGURES[f"q7_{_name}"] = getattr(rules.forecast_figures.output, _name)
FINAL_TARGETS.extend([rules.forecast_summary.output.summary, *rules.forecast_figures.output])
