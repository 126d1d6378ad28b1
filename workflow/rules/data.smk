# Data: the two archives, each checksummed by a cheap job of its own before anything
# is prepared, so a wrong archive fails before an expensive output is touched.
#   IMDb (Q6):  archive -> reviews -> tokens -> train/val/test -> vocabulary -> encoded ids
#   power (Q7): archive -> hourly series split into train/val/test
IMDB = f"{RESULTS}/data/imdb"
IMDB_DOWNLOAD = "resources/aclImdb_v1.tar.gz"
IMDB_CODE = module_code("rnnlab.data.imdb")
SOURCES_CODE = module_code("rnnlab.data.sources")
# The accepted archive checksums, as `--sha256` flags for sources.py.
IMDB_SHA256_FLAGS = flags("--sha256", config["imdb"]["sha256"])
POWER = f"{RESULTS}/data/power"
POWER_DOWNLOAD = "resources/power/individual_household_electric_power_consumption.zip"
POWER_CODE = module_code("rnnlab.data.power")


# Each archive in the documented lookup order (common.smk: local_archive).
IMDB_ARCHIVE = local_archive("imdb", IMDB_DOWNLOAD)
POWER_ARCHIVE = local_archive("power", POWER_DOWNLOAD)
# Lengths the length-statistics table reports: the configured training lengths.
IMDB_LENGTHS = sorted(config["sentiment"]["lengths"])
if IMDB_LENGTHS[-1] > config["imdb"]["max_length"]:
    config_error(
        "sentiment.lengths",
        f"sentiment lengths {[n for n in IMDB_LENGTHS if n > config['imdb']['max_length']]} "
        f"exceed imdb.max_length={config['imdb']['max_length']}",
        "raise imdb.max_length in the config",
    )
if not math.isclose(sum(config["power"]["split_fractions"].values()), 1.0, abs_tol=1e-9):
    config_error(
        "power.split_fractions",
        f"{config['power']['split_fractions']} sum to "
        f"{sum(config['power']['split_fractions'].values()):g}, not 1",
        "make train + val + test = 1 (the homework fixes 0.7/0.15/0.15)",
    )


rule imdb_download:
    output:
        IMDB_DOWNLOAD,
    log:
        "logs/imdb_download.log",
    benchmark:
        "benchmarks/imdb_download.tsv"
    conda:
        CONDA_ENV
    params:
        url=config["imdb"]["url"],
        sha256_flags=IMDB_SHA256_FLAGS,
        looked_up=os.path.join(
            repo_path(config["offline_data_dir"]), config["imdb"]["offline_name"]
        ),
    shell:
        "python -m rnnlab.data.sources download --url {params.url:q} --dest {output:q}"
        " --what 'IMDb archive' --config-key imdb.archive --looked-up {params.looked_up:q}"
        " {params.sha256_flags:q} > {log:q} 2>&1"


rule imdb_checksum:
    # Its own job, so a bad archive fails before any prepared output is touched.
    # Its code is `ancient`: a checksum depends on the archive's bytes, not on how the
    # package is written. (And while a checksum job is due, Snakemake 9 does not plan
    # the jobs that take its output as `ancient`, whatever their own changes: an edit
    # of a module every job imports would then rerun the checksums and nothing else
    # until a second run.)
    input:
        archive=IMDB_ARCHIVE,
        code=ancient(SOURCES_CODE),
    output:
        checksum_file(IMDB, IMDB_ARCHIVE),
    log:
        "logs/imdb_checksum.log",
    benchmark:
        "benchmarks/imdb_checksum.tsv"
    priority: PREPARE_FIRST
    conda:
        CONDA_ENV
    params:
        sha256_flags=IMDB_SHA256_FLAGS,
    shell:
        "python -m rnnlab.data.sources verify --path {input.archive:q} --what 'IMDb archive'"
        " --config-key imdb.sha256 {params.sha256_flags:q} --out {output:q} > {log:q} 2>&1"


rule imdb_parse:
    input:
        archive=IMDB_ARCHIVE,
        # `ancient`: wait for the checksum, but a rerun of it (say, after a wrong
        # archive was tried and put back) does not make the data stale.
        checksum=ancient(rules.imdb_checksum.output[0]),
        code=IMDB_CODE,
    output:
        reviews=f"{IMDB}/reviews.csv",
        report=f"{IMDB}/parse_report.json",
    log:
        "logs/imdb_parse.log",
    benchmark:
        "benchmarks/imdb_parse.tsv"
    priority: PREPARE_FIRST
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        cfg=as_json(
            {
                "expected_counts": config["imdb"]["expected_counts"],
                "max_review_bytes": config["imdb"]["max_review_bytes"],
            }
        ),
    shell:
        "python -m rnnlab.data.imdb parse --archive {input.archive:q} --checksum {input.checksum:q}"
        " --reviews {output.reviews:q} --report {output.report:q} --params {params.cfg:q} > {log:q} 2>&1"


rule imdb_tokenize:
    input:
        reviews=rules.imdb_parse.output.reviews,
        code=IMDB_CODE,
    output:
        tokens=f"{IMDB}/tokens.csv",
    log:
        "logs/imdb_tokenize.log",
    benchmark:
        "benchmarks/imdb_tokenize.tsv"
    priority: PREPARE_FIRST
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        "python -m rnnlab.data.imdb tokenize --reviews {input.reviews:q} --tokens {output.tokens:q}"
        " > {log:q} 2>&1"


rule imdb_split:
    input:
        tokens=rules.imdb_tokenize.output.tokens,
        code=IMDB_CODE,
    output:
        splits=f"{IMDB}/splits.csv",
    log:
        "logs/imdb_split.log",
    benchmark:
        "benchmarks/imdb_split.tsv"
    priority: PREPARE_FIRST
    conda:
        CONDA_ENV
    params:
        cfg=as_json(
            {
                "val_fraction": config["imdb"]["val_fraction"],
                "split_seed": config["imdb"]["split_seed"],
            }
        ),
    shell:
        "python -m rnnlab.data.imdb split --tokens {input.tokens:q} --splits {output.splits:q}"
        " --params {params.cfg:q} > {log:q} 2>&1"


rule imdb_vocab:
    input:
        tokens=rules.imdb_tokenize.output.tokens,
        splits=rules.imdb_split.output.splits,
        code=IMDB_CODE,
    output:
        vocab=f"{IMDB}/vocab.json",
    log:
        "logs/imdb_vocab.log",
    benchmark:
        "benchmarks/imdb_vocab.tsv"
    priority: PREPARE_FIRST
    conda:
        CONDA_ENV
    params:
        cfg=as_json(
            {
                "min_freq": config["imdb"]["vocab_min_freq"],
                "max_size": config["imdb"]["vocab_max_size"],
            }
        ),
    shell:
        "python -m rnnlab.data.imdb vocab --tokens {input.tokens:q} --splits {input.splits:q}"
        " --vocab {output.vocab:q} --params {params.cfg:q} > {log:q} 2>&1"


rule imdb_encode:
    input:
        tokens=rules.imdb_tokenize.output.tokens,
        splits=rules.imdb_split.output.splits,
        vocab=rules.imdb_vocab.output.vocab,
        code=IMDB_CODE,
    output:
        encoded=f"{IMDB}/encoded.pt",
    log:
        "logs/imdb_encode.log",
    benchmark:
        "benchmarks/imdb_encode.tsv"
    priority: PREPARE_FIRST
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        cfg=as_json(
            {
                "max_length": config["imdb"]["max_length"],
                "truncation": config["imdb"]["truncation"],
            }
        ),
    shell:
        "python -m rnnlab.data.imdb encode --tokens {input.tokens:q} --splits {input.splits:q}"
        " --vocab {input.vocab:q} --encoded {output.encoded:q} --params {params.cfg:q} > {log:q} 2>&1"


rule imdb_stats:
    input:
        tokens=rules.imdb_tokenize.output.tokens,
        splits=rules.imdb_split.output.splits,
        vocab=rules.imdb_vocab.output.vocab,
        parse_report=rules.imdb_parse.output.report,
        code=IMDB_CODE,
    output:
        stats_csv=report(
            f"{IMDB}/length_stats.csv",
            caption="../report/data_length_stats.rst",
            category="data",
            subcategory="IMDb",
        ),
        summary=f"{IMDB}/summary.json",
    log:
        "logs/imdb_stats.log",
    benchmark:
        "benchmarks/imdb_stats.tsv"
    conda:
        CONDA_ENV
    params:
        cfg=as_json(
            {
                "lengths": IMDB_LENGTHS,
                "val_fraction": config["imdb"]["val_fraction"],
                "truncation": config["imdb"]["truncation"],
            }
        ),
    shell:
        "python -m rnnlab.data.imdb stats --tokens {input.tokens:q} --splits {input.splits:q}"
        " --vocab {input.vocab:q} --parse-report {input.parse_report:q} --stats-csv {output.stats_csv:q}"
        " --summary {output.summary:q} --params {params.cfg:q} > {log:q} 2>&1"


REPORT_SUMMARIES["imdb"] = rules.imdb_stats.output.summary
FINAL_TARGETS.extend([rules.imdb_encode.output.encoded, rules.imdb_stats.output.summary])


rule power_download:
    output:
        POWER_DOWNLOAD,
    log:
        "logs/power_download.log",
    benchmark:
        "benchmarks/power_download.tsv"
    conda:
        CONDA_ENV
    params:
        url=config["power"]["url"],
        looked_up=os.path.join(
            repo_path(config["offline_data_dir"]), config["power"]["offline_name"]
        ),
    shell:
        # The zip's own hash is not published; power_checksum verifies the text inside it.
        "python -m rnnlab.data.sources download --url {params.url:q} --dest {output:q}"
        " --what 'household power consumption archive' --config-key power.archive"
        " --looked-up {params.looked_up:q} > {log:q} 2>&1"


rule power_checksum:
    # Its own job, like imdb_checksum: a wrong archive fails before power_prepare (and
    # the 14 forecasting runs behind it) lose their outputs. Code `ancient` as there.
    input:
        archive=POWER_ARCHIVE,
        code=ancient(POWER_CODE),
    output:
        checksum_file(POWER, POWER_ARCHIVE),
    log:
        "logs/power_checksum.log",
    benchmark:
        "benchmarks/power_checksum.tsv"
    conda:
        CONDA_ENV
    params:
        cfg=as_json({k: config["power"][k] for k in ("sha256", "archive_sha256")}),
    shell:
        "python -m rnnlab.data.power checksum --archive {input.archive:q} --out {output:q}"
        " --params {params.cfg:q} > {log:q} 2>&1"


rule power_prepare:
    input:
        archive=POWER_ARCHIVE,
        checksum=ancient(rules.power_checksum.output[0]),
        code=POWER_CODE,
    output:
        series=f"{POWER}/series.npz",
        report=f"{POWER}/prep.json",
    log:
        "logs/power_prepare.log",
    benchmark:
        "benchmarks/power_prepare.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
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
    shell:
        "python -m rnnlab.data.power prepare --archive {input.archive:q} --series {output.series:q}"
        " --report {output.report:q} --params {params.cfg:q} > {log:q} 2>&1"
