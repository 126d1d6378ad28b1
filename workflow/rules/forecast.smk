# Q7: household power forecasting. Raw minute file -> prepared series -> one training
# job per (model, window length) -> gate analysis -> summary.json -> figures.
# Constants and input functions (power_archive, forecast_runs, forecast_train_params)
# live in common.smk, with the other stages'.
FORECAST_FIGURES = ["curves", "forecast", "lengths", "ablation",
                    "gates_calm", "gates_peak", "gates_typical"]
MAIN_LENGTH = config["forecast"]["main_length"]


if MAIN_LENGTH not in config["forecast"]["lengths"]:
    raise ValueError("forecast.main_length must be one of forecast.lengths in the config.")


rule power_download:
    output:
        POWER_DOWNLOAD,
    params:
        url=config["power"]["url"],
        looked_up=os.path.join(repo_path(config["offline_data_dir"]), config["power"]["offline_name"]),
    conda:
        CONDA_ENV
    log:
        "logs/power_download.log",
    shell:
        # The zip's own hash is not published; power_prepare verifies the text inside it.
        "python -m rnnlab.data.sources download --url {params.url:q} --dest {output:q}"
        " --what 'household power consumption archive' --config-key power.archive"
        " --looked-up {params.looked_up:q} > {log} 2>&1"


rule power_prepare:
    input:
        archive=power_archive,
        code=code("data/power.py", "data/sources.py"),
    output:
        series=f"{POWER}/series.npz",
        report=f"{POWER}/prep.json",
    params:
        cfg=as_json(
            {
                k: config["power"][k]
                for k in (
                    "sha256",
                    "archive_sha256",
                    "resolution_minutes",
                    "min_coverage",
                    "max_gap_steps",
                    "split_fractions",
                    "target",
                )
            }
        ),
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
    log:
        "logs/power_prepare.log",
    benchmark:
        "benchmarks/power_prepare.tsv"
    shell:
        "python -m rnnlab.data.power prepare --archive {input.archive:q} --series {output.series}"
        " --report {output.report} --params {params.cfg:q} > {log} 2>&1"


rule forecast_train:
    input:
        series=rules.power_prepare.output.series,
        report=rules.power_prepare.output.report,
        code=code("forecast/train.py", "forecast/models.py", "data/power.py"),
    output:
        model=f"{FORECAST}/runs/{{model}}_L{{length}}/model.pt",
        metrics=f"{FORECAST}/runs/{{model}}_L{{length}}/metrics.json",
        predictions=f"{FORECAST}/runs/{{model}}_L{{length}}/predictions.npz",
    wildcard_constraints:
        model="rnn|lstm|gru|bilstm|lstm_forget_only|lstm_input_only",
        length=r"\d+",
    params:
        cfg=forecast_train_params,
        out_dir=lambda wildcards: f"{FORECAST}/runs/{wildcards.model}_L{wildcards.length}",
        # Not an output: Snakemake would delete it when a job is killed, and it is
        # exactly what a killed job needs to resume.
        resume=lambda wildcards: f"{FORECAST}/resume/{wildcards.model}_L{wildcards.length}.pt",
    threads: config["forecast"]["threads"]
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
        "python -m rnnlab.forecast.train --series {input.series} --prep {input.report}"
        " --out-dir {params.out_dir} --resume {params.resume} --params {params.cfg:q}"
        " --threads {threads} > {log} 2>&1"


rule forecast_gates:
    input:
        series=rules.power_prepare.output.series,
        report=rules.power_prepare.output.report,
        lstm=f"{FORECAST}/runs/lstm_L{MAIN_LENGTH}/model.pt",
        gru=f"{FORECAST}/runs/gru_L{MAIN_LENGTH}/model.pt",
        code=code("forecast/gates.py", "forecast/train.py", "forecast/models.py", "data/power.py"),
    output:
        stats=f"{FORECAST}/gates/gates.json",
        arrays=f"{FORECAST}/gates/gates.npz",
    params:
        cfg=as_json(
            config["forecast"]["gates"]
            | {
                "length": config["forecast"]["main_length"],
                "common_length": max(config["forecast"]["lengths"]),
            }
        ),
    threads: config["forecast"]["threads"]
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
        "python -m rnnlab.forecast.gates --series {input.series} --prep {input.report}"
        " --lstm {input.lstm} --gru {input.gru} --out-json {output.stats}"
        " --out-npz {output.arrays} --params {params.cfg:q} --threads {threads} > {log} 2>&1"


rule forecast_summary:
    input:
        prep=rules.power_prepare.output.report,
        gates=rules.forecast_gates.output.stats,
        metrics=[f"{FORECAST}/runs/{m}_L{n}/metrics.json" for m, n in forecast_runs()],
        code=code("forecast/analysis.py", "forecast/models.py"),
    output:
        f"{FORECAST}/summary.json",
    params:
        metrics=lambda wildcards, input: " ".join(f"--metrics {p}" for p in input.metrics),
        setup=as_json(
            {
                k: config["forecast"][k]
                for k in (
                    "hidden",
                    "layers",
                    "epochs",
                    "batch_size",
                    "lr",
                    "grad_clip",
                    "train_subsample",
                    "seed",
                    "main_length",
                )
            }
        ),
    conda:
        CONDA_ENV
    log:
        "logs/forecast_summary.log",
    shell:
        "python -m rnnlab.forecast.analysis --prep {input.prep} --gates {input.gates}"
        " {params.metrics} --setup {params.setup:q} --out {output} > {log} 2>&1"


rule forecast_figures:
    input:
        summary=rules.forecast_summary.output[0],
        gates=rules.forecast_gates.output.arrays,
        predictions=[f"{FORECAST}/runs/{m}_L{MAIN_LENGTH}/predictions.npz" for m in FORECAST_ARCHS],
        font=FONT_MANIFEST,
        code=code("forecast/figures.py", "forecast/models.py", "style/plots.py", "style/persian.py",
                  "style/fonts.py"),
    output:
        [f"{FORECAST}/figures/{name}.svg" for name in FORECAST_FIGURES],
    params:
        predictions=lambda wildcards, input: " ".join(
            f"--prediction {m}={p}" for m, p in zip(FORECAST_ARCHS, input.predictions)
        ),
        out_dir=lambda wildcards, output: os.path.dirname(output[0]),
    conda:
        CONDA_ENV
    log:
        "logs/forecast_figures.log",
    benchmark:
        "benchmarks/forecast_figures.tsv"
    shell:
        "python -m rnnlab.forecast.figures --summary {input.summary} --gates {input.gates}"
        " --font {input.font} {params.predictions} --out-dir {params.out_dir} > {log} 2>&1"


REPORT_SUMMARIES["q7"] = f"{FORECAST}/summary.json"
for _name in FORECAST_FIGURES:
    REPORT_FIGURES[f"q7_{_name}"] = f"{FORECAST}/figures/{_name}.svg"
FINAL_TARGETS.extend([f"{FORECAST}/summary.json"] + [f"{FORECAST}/figures/{n}.svg" for n in FORECAST_FIGURES])
