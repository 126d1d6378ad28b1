# `device: cuda`: one cheap job checks that torch sees a GPU where the jobs run
# (rnnlab.device_check), and every torch job waits for it. Without it, a CPU-only
# machine would fail inside each training job, after Snakemake deleted that job's
# old outputs. A job rather than a parse-time check: on a cluster the submit host
# has no GPU but the training nodes do, and the check must run where they run;
# parsing also stays free of torch's import. `cpu` and `auto` cannot fail this
# way, so they add no job.
DEVICE = config["device"]


rule device_check:
    input:
        code=module_code("rnnlab.device_check"),
    output:
        f"{RESULTS}/device.json",
    log:
        "logs/device_check.log",
    benchmark:
        "benchmarks/device_check.tsv"
    conda:
        CONDA_ENV
    resources:
        gpu=JOB_GPUS,
    params:
        device=DEVICE,
    shell:
        "python -m rnnlab.device_check --device {params.device:q} --out {output:q} > {log:q} 2>&1"


# The input every torch job adds: the check's output when there is one. `ancient`:
# the jobs wait for the check, but a rerun of the check (its code changed) does not
# rerun them; their own code and params decide that.
DEVICE_CHECKED = ancient(rules.device_check.output[0]) if DEVICE == "cuda" else []
