"""The wheel is the product: built, installed outside the checkout, it scores with what it ships."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        timeout=600,
        cwd=out,
    )
    [built] = out.glob("qa_pipeline-*.whl")
    return built


def test_the_wheel_holds_flows_rubrics_models_and_no_top_level_flows(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "qa_pipeline/flows/nightly.py",
        "qa_pipeline/rubrics/default.yaml",
        "qa_pipeline/rubrics/billing.yaml",
        "qa_pipeline/model_files/turns.skops",
        "qa_pipeline/model_files/turns.card.json",
        "qa_pipeline/model_files/labels/train.jsonl",
        "qa_pipeline/migrations/versions/0007_accounts.py",
        "qa_pipeline/web/templates/interaction.html",
        "qa_pipeline/web/static/app.css",
    ):
        assert shipped in names, shipped
    assert not any(n.startswith("flows/") for n in names)
    top_level = next(n for n in names if n.endswith("top_level.txt"))
    assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["qa_pipeline"]


def test_the_installed_wheel_scores_outside_the_checkout(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    [packages] = env_dir.glob("lib/python*/site-packages")
    # The dependencies come from this environment's site-packages (a plain path entry, so its
    # editable install of the checkout is not activated); qa_pipeline only from the wheel.
    (packages / "deps.pth").write_text(site.getsitepackages()[0] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(env_dir / "bin" / "python"),
            "install",
            "--quiet",
            "--no-deps",
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    interactions = work / "in.jsonl"
    interactions.write_text(
        json.dumps(
            {
                "id": "chat:wheel:1",
                "channel": "chat",
                "agent_id": "a1",
                "language": "en",
                "turns": [
                    {"speaker": "agent", "text": "Hello, thank you for contacting us!"},
                    {"speaker": "customer", "text": "My parcel never arrived and I am upset."},
                    {"speaker": "agent", "text": "I am so sorry about that. I have sent a new one today."},
                ],
            }
        )
        + "\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    python = str(env_dir / "bin" / "python")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=300)

    where = run(
        python,
        "-c",
        "import qa_pipeline, qa_pipeline.classifier as c; print(qa_pipeline.__file__, c.DEFAULT_MODEL)",
    )
    assert where.returncode == 0, where.stderr
    assert str(ROOT) not in where.stdout and str(packages) in where.stdout  # the wheel's copy and model
    assert run(python, "-c", "import flows").returncode != 0  # no generic top-level package
    version = run(str(env_dir / "bin" / "qa"), "--version")
    assert version.returncode == 0 and version.stdout.startswith("qa-pipeline ")
    scored = run(str(env_dir / "bin" / "qa"), "score", "in.jsonl", "-o", "out.jsonl")
    assert scored.returncode == 0, scored.stderr
    [score] = [json.loads(line) for line in (work / "out.jsonl").read_text().splitlines()]
    assert score["rubric"].startswith("default@")  # the shipped rubric, found inside the package
    criteria = score["criteria"]
    assert criteria["greeting"]["result"] == "pass" and criteria["empathy"]["result"] == "pass"
