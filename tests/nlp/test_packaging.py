"""`spacy package` turns a trained pipeline into a wheel that loads on its own."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.nlp.components.test_theme_classifier import REPORT


@pytest.mark.slow
def test_packaging_spacy_package_wheel_installs_and_loads_in_isolation(tiny_pipeline_dir, tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    subprocess.run(
        [sys.executable, "-m", "spacy", "package", str(tiny_pipeline_dir), str(dist),
         "--name", "ofsted_themes_test", "--version", "0.0.1", "--build", "wheel", "--force"],
        check=True, capture_output=True,
    )
    wheel = next(dist.rglob("*.whl"))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)], check=True, capture_output=True)
    # Loaded by package name from the wheel's install folder, in a process that never saw the pipeline folder.
    script = textwrap.dedent(
        f"""
        import json, spacy
        nlp = spacy.load("en_ofsted_themes_test")
        doc = nlp({REPORT!r})
        print(json.dumps([nlp.meta["version"], [f._.themes for f in doc.spans["findings"]]]))
        """
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(target), "PATH": ""}
    ).stdout
    version, themes = json.loads(output)
    assert version == "0.0.1"
    assert themes[0] == ["missing_children"]
