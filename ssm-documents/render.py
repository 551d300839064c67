#!/usr/bin/env python3
"""Keeps the SSM documents and their scripts in step.

* Splices scripts/common.sh into every scripts/<name>.sh between the "custody common" markers.
* Embeds each scripts/<name>.sh verbatim as the runCommand of custody-<name>.yaml.

`python ssm-documents/render.py` rewrites the files; `--check` only reports drift (exit 1), which
is what the tests use. Needs PyYAML (it comes with moto in tests/requirements.txt).
"""

import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "scripts"
BEGIN = "# --- custody common: begin"
END = "# --- custody common: end"


class _Literal(str):
    """A string dumped as a YAML block scalar, so the embedded script stays readable."""


def _literal(dumper, data):
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")


yaml.SafeDumper.add_representer(_Literal, _literal)


def splice_common(script: str, common: str) -> str:
    """Returns SCRIPT with its common block replaced by COMMON (which includes both markers)."""
    start = script.index(BEGIN)
    end_marker = script.index(END, start)
    end = script.index("\n", end_marker) + 1
    return script[:start] + common + script[end:]


def documents():
    """(document path, script path) for every custody document."""
    for doc in sorted(HERE.glob("custody-*.yaml")):
        yield doc, SCRIPTS / (doc.stem.removeprefix("custody-") + ".sh")


def render_document(doc_text: str, script: str) -> str:
    """Returns the document with SCRIPT as the only runCommand of its single step."""
    doc = yaml.safe_load(doc_text)
    steps = doc["mainSteps"]
    if len(steps) != 1 or steps[0]["action"] != "aws:runShellScript":
        raise SystemExit("each custody document has exactly one aws:runShellScript step")
    steps[0]["inputs"]["runCommand"] = [_Literal(script)]
    return yaml.safe_dump(doc, sort_keys=False, width=100, allow_unicode=False)


def main(check: bool) -> int:
    common = (SCRIPTS / "common.sh").read_text()
    drift = []
    for doc_path, script_path in documents():
        script = script_path.read_text()
        spliced = splice_common(script, common)
        if spliced != script:
            drift.append(script_path)
            if not check:
                script_path.write_text(spliced)
        rendered = render_document(doc_path.read_text(), spliced)
        if rendered != doc_path.read_text():
            drift.append(doc_path)
            if not check:
                doc_path.write_text(rendered)
    for path in drift:
        print(f"{'out of date' if check else 'rewrote'}: {path.relative_to(HERE.parent)}")
    return 1 if (check and drift) else 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
