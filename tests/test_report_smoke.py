"""The report of the smoke run (whole pipeline on fixture data, conftest.smoke_run).

Checks the issue asks for on the real templates: the PDF exists, embeds the
Persian font, has a TOC and every registered figure, shows numbers taken from
results.json; results.json is stable; a template edit reruns only the report.
"""

from __future__ import annotations

import json
import re
import subprocess

from conftest import REPO, run_snakemake
from test_report_render import flat, words

from rnnlab.style.persian import fa


def test_pdf_exists_with_font_toc_and_figures(smoke_run):
    report = smoke_run / "report"
    pdf = report / "rnnlab-report.pdf"
    assert pdf.stat().st_size > 10_000
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "Vazirmatn" in fonts or "NotoSansArabic" in fonts
    html = (report / "build" / "report.html").read_text(encoding="utf-8")
    registered = re.search(r'<meta name="rnnlab-figures" content="([^"]*)">', html).group(1)
    for figure_id in registered.split():
        assert f'<figure id="{figure_id}"' in html, f"figure {figure_id} is not in the report"
    text = flat(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout)
    assert words("فهرست مطالب پیوست: بازتولیدپذیری مراجع") <= words(text)
    # A number from results.json, as the appendix prints it: the count of CPU cores.
    results = json.loads((report / "results.json").read_text())
    assert f"{fa(results['meta']['volatile']['hardware']['cpus'])} هسته" in text


def test_results_json_is_sorted_and_complete(smoke_run):
    results = json.loads((smoke_run / "report" / "results.json").read_text())
    assert "meta" in results and "imdb" in results
    assert set(results["meta"]) == {"config", "data", "packages", "seeds", "summaries", "volatile"}
    assert results["meta"]["data"]["imdb"]["sha256"]
    text = (smoke_run / "report" / "results.json").read_text()
    assert text == json.dumps(results, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_template_edit_reruns_only_the_report(smoke_run):
    config = smoke_run / "smoke-config.yaml"
    # Templates and CSS are inputs of report_html (so an edit reruns it)...
    summary = run_snakemake(smoke_run, config, "--detailed-summary").stdout
    row = next(line for line in summary.splitlines() if line.startswith("report/build/report.html"))
    assert str(REPO / "templates" / "style.css") in row
    assert str(REPO / "templates" / "sections" / "appendix.html.j2") in row
    # ...and of nothing upstream: rerunning report_html reruns only the PDF after it.
    proc = run_snakemake(smoke_run, config, "-n", "--forcerun", "report_html")
    planned = set(re.findall(r"^(?:local)?rule (\w+):", proc.stdout, re.M)) - {"all"}
    assert planned == {"report_html", "report_pdf"}, planned
