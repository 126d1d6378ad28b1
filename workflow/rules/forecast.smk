# Q7: household power forecasting. Prepared series (data.smk) -> one training job per
# (model, window length, seed) -> baselines on the same test targets -> gate analysis
# -> summary.json with claims -> figures.
FORECAST = f"{RESULTS}/forecast"
FORECAST_CFG = config["forecast"]
FORECAST_ARCHS = ["rnn", "lstm", "gru", "bilstm"]
# Part (e): the full LSTM is the part-a LSTM; these two are the ablated variants.
FORECAST_ABLATIONS = ["lstm_forget_only", "lstm_input_only"]
# Scheduling estimate (expected_cpu_seconds): CPU-seconds of one training per hour of window.
FORECAST_COST = {
    "rnn": 0.75,
    "gru": 1.6,
    "lstm": 1.6,
    "bilstm": 4.5,
    "lstm_forget_only": 2.6,
    "lstm_input_only": 2.6,
}
FORECAST_FIGURES = [
    "curves",
    "forecast",
    "lengths",
    "ablation",
    "gates_calm",
    "gates_peak",
    "gates_typical",
]
MAIN_LENGTH = FORECAST_CFG["main_length"]
# Test targets shared by every length: each run is evaluated on the longest window's targets.
COMMON_LENGTH = max(FORECAST_CFG["lengths"])
# Every Q7 model is trained with each of these seeds (`forecast.seeds`; null means the
# one `forecast.seed`). Gates and the forecast figure read the first seed's models.
FORECAST_SEEDS = FORECAST_CFG["seeds"] or [FORECAST_CFG["seed"]]
GATES_SEED = FORECAST_SEEDS[0]
# One trained run: its model, metrics and test predictions live here, and its resume
# state `last.pt` (rnnlab.training; not an output, so Snakemake never deletes it: a
# killed job resumes from it, and it cannot go stale).
FORECAST_RUN = f"{FORECAST}/runs/{{model}}_L{{length}}_s{{seed}}"
# Shared training settings: every run depends on them (and the summary records them).
# The stopping and schedule keys are the engine's (rnnlab.training.Settings).
FORECAST_SETUP_KEYS = (
    "hidden", "layers", "batch_size", "lr", "grad_clip", "max_epochs", "patience",
    "min_delta", "lr_schedule",
)  # fmt: skip
FORECAST_SETUP = {k: FORECAST_CFG[k] for k in FORECAST_SETUP_KEYS}


if MAIN_LENGTH not in FORECAST_CFG["lengths"]:
    config_error(
        "forecast.main_length",
        f"{MAIN_LENGTH} is not one of forecast.lengths {FORECAST_CFG['lengths']}",
        "pick one of the trained lengths or add it to forecast.lengths",
    )


# (model, length, seed) of every trained model: (4 architectures x lengths + ablations) x seeds.
FORECAST_RUNS = [
    (m, n, s)
    for m, n in [(m, n) for m in FORECAST_ARCHS for n in FORECAST_CFG["lengths"]]
    + [(m, MAIN_LENGTH) for m in FORECAST_ABLATIONS]
    for s in FORECAST_SEEDS
]


rule forecast_windows:
    # One cheap job: a split without a window of some configured length is reported
    # here once, not by each of the training jobs.
    input:
        series=rules.power_prepare.output.series,
        report=rules.power_prepare.output.report,
        code=POWER_CODE,
    output:
        f"{FORECAST}/windows.json",
    log:
        "logs/forecast_windows.log",
    benchmark:
        "benchmarks/forecast_windows.tsv"
    conda:
        CONDA_ENV
    params:
        lengths=sorted(FORECAST_CFG["lengths"]),
    shell:
        "python -m rnnlab.data.power windows --series {input.series:q} --report {input.report:q}"
        " --lengths {params.lengths} --out {output:q} > {log:q} 2>&1"


rule forecast_train:
    input:
        series=rules.power_prepare.output.series,
        report=rules.power_prepare.output.report,
        # Ordering only: rechecking the windows (new lengths) never retrains a run.
        windows=ancient(rules.forecast_windows.output[0]),
        device=DEVICE_CHECKED,
        code=module_code("rnnlab.forecast.train"),
    output:
        model=f"{FORECAST_RUN}/model.pt",
        metrics=f"{FORECAST_RUN}/metrics.json",
        predictions=f"{FORECAST_RUN}/predictions.npz",
    log:
        "logs/forecast_train/{model}_L{length}_s{seed}.log",
    benchmark:
        "benchmarks/forecast_train/{model}_L{length}_s{seed}.tsv"
    wildcard_constraints:
        model="|".join(FORECAST_ARCHS + FORECAST_ABLATIONS),
        length=r"\d+",
        seed=r"\d+",
    priority: expected_cpu_seconds(FORECAST_COST)
    conda:
        CONDA_ENV
    threads: FORECAST_CFG["threads"]
    resources:
        mem_mb=3000,
        runtime=90,
        gpu=JOB_GPUS,
    params:
        # Only what this one run depends on (not the list of lengths, not other models).
        cfg=lambda wildcards: as_json(
            FORECAST_SETUP
            | {
                "model": wildcards.model,
                "length": int(wildcards.length),
                "seed": int(wildcards.seed),
                "common_length": COMMON_LENGTH,
                "device": config["device"],
            }
        ),
        out_dir=lambda wildcards, output: os.path.dirname(output.model),
    shell:
        # The run folder keeps the engine's resume state until the outputs are written.
        "python -m rnnlab.forecast.train --series {input.series:q} --prep {input.report:q}"
        " --out-dir {params.out_dir:q} --params {params.cfg:q}"
        " --threads {threads} > {log:q} 2>&1"


rule forecast_baselines:
    input:
        series=rules.power_prepare.output.series,
        report=rules.power_prepare.output.report,
        code=module_code("rnnlab.forecast.baselines"),
    output:
        stats=f"{FORECAST}/baselines/baselines.json",
        errors=f"{FORECAST}/baselines/errors.npz",
    log:
        "logs/forecast_baselines.log",
    benchmark:
        "benchmarks/forecast_baselines.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        cfg=as_json(
            {
                "lengths": FORECAST_CFG["lengths"],
                "resolution_minutes": config["power"]["resolution_minutes"],
            }
        ),
    shell:
        "python -m rnnlab.forecast.baselines --series {input.series:q} --prep {input.report:q}"
        " --params {params.cfg:q} --out-json {output.stats:q} --out-npz {output.errors:q}"
        " > {log:q} 2>&1"


rule forecast_gates:
    input:
        series=rules.power_prepare.output.series,
        report=rules.power_prepare.output.report,
        lstm=expand(
            rules.forecast_train.output.model, model="lstm", length=MAIN_LENGTH, seed=GATES_SEED
        ),
        gru=expand(
            rules.forecast_train.output.model, model="gru", length=MAIN_LENGTH, seed=GATES_SEED
        ),
        device=DEVICE_CHECKED,
        code=module_code("rnnlab.forecast.gates"),
    output:
        stats=f"{FORECAST}/gates/gates.json",
        arrays=f"{FORECAST}/gates/gates.npz",
    log:
        "logs/forecast_gates.log",
    benchmark:
        "benchmarks/forecast_gates.tsv"
    conda:
        CONDA_ENV
    threads: FORECAST_CFG["threads"]
    resources:
        mem_mb=2000,
        runtime=30,
        gpu=JOB_GPUS,
    params:
        cfg=as_json(FORECAST_CFG["gates"] | {"length": MAIN_LENGTH, "common_length": COMMON_LENGTH}),
    shell:
        "python -m rnnlab.forecast.gates --series {input.series:q} --prep {input.report:q}"
        " --lstm {input.lstm:q} --gru {input.gru:q} --out-json {output.stats:q}"
        " --out-npz {output.arrays:q} --params {params.cfg:q} --threads {threads} > {log:q} 2>&1"


rule forecast_summary:
    input:
        prep=rules.power_prepare.output.report,
        gates=rules.forecast_gates.output.stats,
        baselines=rules.forecast_baselines.output.stats,
        baseline_errors=rules.forecast_baselines.output.errors,
        metrics=[
            rules.forecast_train.output.metrics.format(model=m, length=n, seed=s)
            for m, n, s in FORECAST_RUNS
        ],
        # Read beside each metrics.json (paired tests on the same test targets).
        predictions=[
            rules.forecast_train.output.predictions.format(model=m, length=n, seed=s)
            for m, n, s in FORECAST_RUNS
        ],
        code=module_code("rnnlab.forecast.analysis"),
    output:
        summary=report(
            f"{FORECAST}/summary.json",
            caption="../report/q7_summary.rst",
            category="Q7",
            subcategory="tables",
        ),
    log:
        "logs/forecast_summary.log",
    benchmark:
        "benchmarks/forecast_summary.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        metrics=lambda wildcards, input: flags("--metrics", input.metrics),
        setup=as_json(FORECAST_SETUP | {"main_length": MAIN_LENGTH, "seeds": FORECAST_SEEDS}),
    shell:
        "python -m rnnlab.forecast.analysis --prep {input.prep:q} --gates {input.gates:q}"
        " --baselines {input.baselines:q} --baseline-errors {input.baseline_errors:q}"
        " {params.metrics:q} --setup {params.setup:q} --out {output.summary:q} > {log:q} 2>&1"


rule forecast_figures:
    input:
        summary=rules.forecast_summary.output.summary,
        gates=rules.forecast_gates.output.arrays,
        predictions=expand(
            rules.forecast_train.output.predictions,
            model=FORECAST_ARCHS,
            length=MAIN_LENGTH,
            seed=GATES_SEED,
        ),
        baseline_errors=rules.forecast_baselines.output.errors,
        font=FONT_MANIFEST,
        code=module_code("rnnlab.forecast.figures"),
    output:
        # In the provenance report: one caption per figure, one for the three gate windows.
        **{
            name: report(
                f"{FORECAST}/figures/{name}.svg",
                caption=f"../report/q7_{name.partition('_')[0]}.rst",
                category="Q7",
                subcategory="figures",
                labels={"figure": name},
            )
            for name in FORECAST_FIGURES
        },
    log:
        "logs/forecast_figures.log",
    benchmark:
        "benchmarks/forecast_figures.tsv"
    conda:
        CONDA_ENV
    params:
        predictions=lambda wildcards, input: flags(
            "--prediction", [f"{m}={p}" for m, p in zip(FORECAST_ARCHS, input.predictions)]
        ),
        out_dir=lambda wildcards, output: os.path.dirname(output[0]),
    shell:
        "python -m rnnlab.forecast.figures --summary {input.summary:q} --gates {input.gates:q}"
        " --font {input.font:q} {params.predictions:q} --baseline-errors {input.baseline_errors:q}"
        " --out-dir {params.out_dir:q} > {log:q} 2>&1"


REPORT_SUMMARIES["q7"] = rules.forecast_summary.output.summary
for _name in FORECAST_FIGURES:
    REPORT_FIGURES[f"q7_{_name}"] = getattr(rules.forecast_figures.output, _name)
FINAL_TARGETS.extend([rules.forecast_summary.output.summary, *rules.forecast_figures.output])
