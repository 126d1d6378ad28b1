"""Print every rule of the workflow as JSON: name, shell line, named static inputs.

Loads the Snakefile with Snakemake's Python API (parsing only: no DAG, no job),
for tests that check the rules themselves (tests/test_workflow_code.py,
tests/test_architecture_doc.py). Usage, from anywhere:

    python workflow/lib/rules_json.py [CONFIGFILE ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from snakemake.api import SnakemakeApi
from snakemake.settings.enums import Quietness
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

REPO = Path(__file__).resolve().parents[2]


def _named_inputs(rule) -> dict[str, list[str]]:
    named = {}
    for name, (start, end) in rule.input._names.items():
        items = list(rule.input)[start:end] if end is not None else [rule.input[start]]
        if not any(callable(item) for item in items):
            named[name] = [str(Path(str(item)).resolve()) for item in items]
    return named


def main(configfiles: list[str]) -> None:
    output = OutputSettings(quiet={Quietness.ALL}, dryrun=True)
    with SnakemakeApi(output) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[Path(p) for p in configfiles]),
            snakefile=REPO / "Snakefile",
            workdir=REPO,
        )
        workflow = workflow_api._workflow
        rules = [
            {
                "name": rule.name,
                "shell": rule.shellcmd,
                "inputs": _named_inputs(rule),
                "snakefile": str(rule.snakefile),
            }
            for rule in workflow.rules
        ]
    print(json.dumps(rules))


if __name__ == "__main__":
    main(sys.argv[1:])
