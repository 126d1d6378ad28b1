# IMDb data: archive -> reviews -> tokens -> train/val/test -> vocabulary -> encoded ids.
IMDB_CODE = code("data/imdb.py", "data/sources.py")
# The accepted archive checksums, as `--sha256` flags for sources.py.
IMDB_SHA256_FLAGS = " ".join(f"--sha256 {h}" for h in config["imdb"]["sha256"])


rule imdb_download:
    output:
        IMDB_DOWNLOAD,
    params:
        url=config["imdb"]["url"],
        sha256_flags=IMDB_SHA256_FLAGS,
        looked_up=os.path.join(repo_path(config["offline_data_dir"]), config["imdb"]["offline_name"]),
    conda:
        CONDA_ENV
    log:
        "logs/imdb_download.log",
    shell:
        "python -m rnnlab.data.sources download --url {params.url:q} --dest {output:q}"
        " --what 'IMDb archive' --config-key imdb.archive --looked-up {params.looked_up:q}"
        " {params.sha256_flags} > {log} 2>&1"


rule imdb_checksum:
    # Its own job, so a bad archive fails before any prepared output is touched.
    input:
        archive=imdb_archive,
        code=IMDB_CODE,
    output:
        f"{IMDB}/archive.sha256",
    params:
        sha256_flags=IMDB_SHA256_FLAGS,
    conda:
        CONDA_ENV
    log:
        "logs/imdb_checksum.log",
    shell:
        "python -m rnnlab.data.sources verify --path {input.archive:q} --what 'IMDb archive'"
        " --config-key imdb.sha256 {params.sha256_flags} --out {output} > {log} 2>&1"


rule imdb_parse:
    input:
        archive=imdb_archive,
        checksum=rules.imdb_checksum.output,
        code=IMDB_CODE,
    output:
        reviews=f"{IMDB}/reviews.csv",
        report=f"{IMDB}/parse_report.json",
    params:
        cfg=as_json(
            {
                "expected_counts": config["imdb"]["expected_counts"],
                "max_review_bytes": config["imdb"]["max_review_bytes"],
            }
        ),
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
    log:
        "logs/imdb_parse.log",
    benchmark:
        "benchmarks/imdb_parse.tsv"
    shell:
        "python -m rnnlab.data.imdb parse --archive {input.archive:q} --checksum {input.checksum}"
        " --reviews {output.reviews} --report {output.report} --params {params.cfg:q} > {log} 2>&1"


rule imdb_tokenize:
    input:
        reviews=rules.imdb_parse.output.reviews,
        code=IMDB_CODE,
    output:
        tokens=f"{IMDB}/tokens.csv",
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
    log:
        "logs/imdb_tokenize.log",
    benchmark:
        "benchmarks/imdb_tokenize.tsv"
    shell:
        "python -m rnnlab.data.imdb tokenize --reviews {input.reviews} --tokens {output.tokens}"
        " > {log} 2>&1"


rule imdb_split:
    input:
        tokens=rules.imdb_tokenize.output.tokens,
        code=IMDB_CODE,
    output:
        splits=f"{IMDB}/splits.csv",
    params:
        cfg=as_json(
            {"val_fraction": config["imdb"]["val_fraction"], "split_seed": config["imdb"]["split_seed"]}
        ),
    conda:
        CONDA_ENV
    log:
        "logs/imdb_split.log",
    shell:
        "python -m rnnlab.data.imdb split --tokens {input.tokens} --splits {output.splits}"
        " --params {params.cfg:q} > {log} 2>&1"


rule imdb_vocab:
    input:
        tokens=rules.imdb_tokenize.output.tokens,
        splits=rules.imdb_split.output.splits,
        code=IMDB_CODE,
    output:
        vocab=f"{IMDB}/vocab.json",
    params:
        cfg=as_json(
            {"min_freq": config["imdb"]["vocab_min_freq"], "max_size": config["imdb"]["vocab_max_size"]}
        ),
    conda:
        CONDA_ENV
    log:
        "logs/imdb_vocab.log",
    shell:
        "python -m rnnlab.data.imdb vocab --tokens {input.tokens} --splits {input.splits}"
        " --vocab {output.vocab} --params {params.cfg:q} > {log} 2>&1"


rule imdb_encode:
    input:
        tokens=rules.imdb_tokenize.output.tokens,
        splits=rules.imdb_split.output.splits,
        vocab=rules.imdb_vocab.output.vocab,
        code=IMDB_CODE,
    output:
        encoded=f"{IMDB}/encoded.pt",
    params:
        cfg=as_json(
            {"max_length": config["imdb"]["max_length"], "truncation": config["imdb"]["truncation"]}
        ),
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=15,
    log:
        "logs/imdb_encode.log",
    benchmark:
        "benchmarks/imdb_encode.tsv"
    shell:
        "python -m rnnlab.data.imdb encode --tokens {input.tokens} --splits {input.splits}"
        " --vocab {input.vocab} --encoded {output.encoded} --params {params.cfg:q} > {log} 2>&1"


rule imdb_stats:
    input:
        tokens=rules.imdb_tokenize.output.tokens,
        splits=rules.imdb_split.output.splits,
        vocab=rules.imdb_vocab.output.vocab,
        parse_report=rules.imdb_parse.output.report,
        code=IMDB_CODE,
    output:
        stats_csv=f"{IMDB}/length_stats.csv",
        summary=f"{IMDB}/summary.json",
    params:
        cfg=as_json(
            {
                "lengths": imdb_lengths(),
                "val_fraction": config["imdb"]["val_fraction"],
                "truncation": config["imdb"]["truncation"],
            }
        ),
    conda:
        CONDA_ENV
    log:
        "logs/imdb_stats.log",
    shell:
        "python -m rnnlab.data.imdb stats --tokens {input.tokens} --splits {input.splits}"
        " --vocab {input.vocab} --parse-report {input.parse_report} --stats-csv {output.stats_csv}"
        " --summary {output.summary} --params {params.cfg:q} > {log} 2>&1"


REPORT_SUMMARIES["imdb"] = rules.imdb_stats.output.summary
FINAL_TARGETS.extend([rules.imdb_encode.output.encoded, rules.imdb_stats.output.summary])
