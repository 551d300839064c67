"""Static checks of every SSM document and script: schema, parameter safety, no drift between the
documents, their scripts and the shared common block, shellcheck, and hostile parameter values
refused both by the documents' allowedPattern and by the scripts themselves."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import CASE_ID, INSTANCE_ID, SCRIPTS, SSM_DIR, run_script

DOCS = sorted(SSM_DIR.glob("custody-*.yaml"))
SCRIPT_FILES = sorted(p for p in SCRIPTS.glob("*.sh") if p.name != "common.sh")
GOOD = {
    "CaseId": CASE_ID,
    "InstanceId": INSTANCE_ID,
    "ManifestUrl": "https://evidence.s3.us-east-1.amazonaws.com/cases/x/manifest.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=ASIA%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Security-Token=IQo%2Bb3%3D&X-Amz-Signature=ab12",
    "VolumeIds": "vol-0123456789abcdef0,vol-0fedcba9876543210",
}
HOSTILE = [
    "",
    " ",
    "$(reboot)",
    "`id`",
    "x; rm -rf /",
    "x && curl evil",
    "x|sh",
    "'",
    '"',
    "{{ CaseId }}",
    "${IFS}",
    "a b",
    "../../etc/passwd",
    "x\ny",
    "x\x00y",
    "\u00e9",
]
HOSTILE_URLS = [
    "http://evidence.s3.amazonaws.com/m?X-Amz-Signature=1",  # not HTTPS
    "https://evil.example/m?a=1'$(id)'",
    "https://evil.example/m?a=1\"",
    "https://evil.example/m?a=1 -o /etc/cron.d/x",
    "https://evil.example/m?a=`id`",
    "https://evil.example/m?a=1\nurl=\"https://x/\"",
    "https://evil.example/m",  # no query: not a presigned URL
    "file:///etc/shadow?x=1",
]


def load(doc: Path) -> dict:
    return yaml.safe_load(doc.read_text())


def shell_text(doc: Path) -> str:
    return "\n".join(load(doc)["mainSteps"][0]["inputs"]["runCommand"])


def test_there_is_a_script_for_every_document_and_a_document_for_every_script():
    assert [d.stem.removeprefix("custody-") for d in DOCS] == [s.stem for s in SCRIPT_FILES]
    assert {d.stem for d in DOCS} >= {
        "custody-capture-memory",
        "custody-map-pods",
        "custody-collect-host",
    }


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.stem)
def test_document_is_a_schema_2_2_command_document_with_safe_parameters(doc):
    d = load(doc)
    assert d["schemaVersion"] == "2.2"
    assert d["description"]
    assert d["parameters"], "every custody document takes parameters"
    for name, p in d["parameters"].items():
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name)
        assert p["type"] == "String", name
        assert p["interpolationType"] == "ENV_VAR", name
        assert p["allowedPattern"].startswith("^") and p["allowedPattern"].endswith("$"), name
        assert "default" not in p, f"{name}: a default would bypass the caller's validation"
    steps = d["mainSteps"]
    assert len(steps) == 1 and steps[0]["action"] == "aws:runShellScript"
    assert steps[0]["precondition"] == {"StringEquals": ["platformType", "Linux"]}
    assert int(steps[0]["inputs"]["timeoutSeconds"]) > 0


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.stem)
def test_shell_text_never_interpolates_parameters(doc):
    text = shell_text(doc)
    assert "{{" not in text and "}}" not in text
    assert text.startswith("#!/bin/bash\n")
    for name in load(doc)["parameters"]:
        assert f'param {name} "$RE_' in text or f"param {name} '" in text, f"{name} is not validated"


def test_documents_embed_their_scripts_verbatim_and_scripts_embed_the_common_block():
    proc = subprocess.run([sys.executable, str(SSM_DIR / "render.py"), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for doc in DOCS:
        script = SCRIPTS / (doc.stem.removeprefix("custody-") + ".sh")
        assert shell_text(doc) == script.read_text()
        assert (SCRIPTS / "common.sh").read_text() in script.read_text()


@pytest.mark.parametrize("script", SCRIPT_FILES + [SCRIPTS / "common.sh"], ids=lambda p: p.name)
def test_shellcheck_is_clean(script):
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).with_name("shellcheck"))
    proc = subprocess.run(
        [shellcheck, "--shell=bash", "--severity=info", str(script)]
        # common.sh alone is a fragment: its variables are used by the scripts that embed it.
        + (["--exclude=SC2034"] if script.name == "common.sh" else []),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def script_patterns(text: str) -> dict[str, str]:
    """RE_* values as a script defines them (its common block and its own)."""
    return dict(re.findall(r"^(RE_[A-Z0-9_]+)='([^']*)'", text, re.M))


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.stem)
def test_the_script_checks_each_parameter_against_the_documents_own_pattern(doc):
    text = shell_text(doc)
    patterns = script_patterns(text)
    for name, p in load(doc)["parameters"].items():
        used = re.search(rf'param {name} "\$(RE_[A-Z0-9_]+)"', text)
        assert used, name
        assert patterns[used.group(1)] == p["allowedPattern"], name


def all_parameters():
    for doc in DOCS:
        for name, p in load(doc)["parameters"].items():
            yield doc.stem, name, p


@pytest.mark.parametrize("doc,name,spec", list(all_parameters()), ids=lambda x: x if isinstance(x, str) else "")
def test_hostile_values_are_refused_by_the_document_pattern(doc, name, spec):
    pattern = re.compile(spec["allowedPattern"])
    good = GOOD.get(name)
    if good is not None:
        assert pattern.search(good), f"{doc}.{name} refuses the legitimate value {good!r}"
    hostile = HOSTILE + (HOSTILE_URLS if name.endswith("Url") else [])
    for value in hostile:
        # SSM's regex dialect lets "$" match before a final newline; the script catches that one.
        if value.endswith("\n"):
            continue
        assert not pattern.search(value), f"{doc}.{name} accepts {value!r}"
        too_long = value + "a" * 9000
        assert "maxChars" in spec or not pattern.search(too_long)


@pytest.mark.parametrize(
    "doc,name", [(d, n) for d in DOCS for n in load(d)["parameters"]], ids=lambda x: x.stem if isinstance(x, Path) else x
)
@pytest.mark.parametrize(
    # NUL cannot travel in an environment variable, so it is left out here.
    "value", [v for v in HOSTILE + HOSTILE_URLS if "\x00" not in v] + [CASE_ID + "\n", "https://x.example/m?a=1\n"]
)
def test_hostile_values_are_refused_by_the_script_before_it_does_anything(doc, name, value, tmp_path, moto):
    params = {k: v for k, v in GOOD.items() if k in load(doc)["parameters"]}
    params[name] = value
    run = run_script(doc.stem.removeprefix("custody-"), params, sandbox=tmp_path, cert=moto.cert)
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    assert f"parameter {name} does not match its allowed pattern" in run.stderr
