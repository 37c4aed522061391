"""Set-up as a newcomer meets it: every install route gives a working package and command line, `make lab` serves the
notebooks (as root too), and `make html` writes pages that show everything with no network.

The routes: `make` (the venv these tests run in), `pip install` of the wheel into a fresh environment with only the
declared dependencies (slow tier), and conda's environment.yml (no conda here: its list is checked against
pyproject.toml). The Makefile's recipes are run for real, with VENV pointing at the environment these tests run in and
`-o` telling make not to install it again.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make(*arguments: str) -> list[str]:
    """A `make` command line for this checkout that uses the environment running these tests as its venv."""
    prefix = Path(sys.prefix)
    return ["make", "-s", "-C", str(ROOT), f"VENV={prefix}", "-o", f"{prefix}/.installed-dev", *arguments]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------------------------------------------
# make: which torch
# ---------------------------------------------------------------------------------------------------------------


def torch_install_commands(tmp_path: Path, nvidia_smi: str | None, *variables: str) -> list[str]:
    """The commands `make` would run to put torch into a new venv, with `nvidia-smi` printing `nvidia_smi` (None: no
    NVIDIA driver, the command fails)."""
    stub = tmp_path / "bin" / "nvidia-smi"
    stub.parent.mkdir(exist_ok=True)
    stub.write_text("#!/bin/sh\n" + (f"echo '{nvidia_smi}'\n" if nvidia_smi else "exit 9\n"))
    stub.chmod(0o755)
    venv, path = tmp_path / "venv", f"{stub.parent}:{os.environ['PATH']}"
    done = subprocess.run(
        ["make", "-n", "-C", str(ROOT), f"VENV={venv}", *variables, f"{venv}/.torch"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
    )
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if "pip install" in line]


@pytest.mark.skipif(shutil.which("make") is None or sys.platform != "linux", reason="needs make on Linux")
def test_make_installs_the_cpu_torch_without_an_nvidia_gpu_and_pypis_cuda_build_with_one(tmp_path):
    # No GPU: the +cpu wheel from pip's own sources, else from PyTorch's CPU index; never PyPI's plain torch==, which
    # on Linux is the CUDA build.
    (cpu,) = torch_install_commands(tmp_path, None)
    assert re.search(
        r'pip install "torch==[\d.]+\+cpu" 2>/dev/null \|\| \S+/pip install --index-url '
        r'https://download\.pytorch\.org/whl/cpu "torch==[\d.]+"',
        cpu,
    )
    (gpu,) = torch_install_commands(tmp_path, "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)")
    assert re.search(r'\|\| \{ \S+/pip install "torch==[\d.]+"; \}$', gpu)
    (chosen,) = torch_install_commands(tmp_path, None, "TORCH_INDEX=https://download.pytorch.org/whl/cu128")
    assert "--index-url https://download.pytorch.org/whl/cu128" in chosen
    assert torch_install_commands(tmp_path, None, "TORCH_BUILD=pypi") == [gpu]
    # A venv that already has torch keeps it: the install runs only if importing torch fails.
    assert cpu.startswith(f'{tmp_path / "venv"}/bin/python -c "import torch" 2>/dev/null || ')


# ---------------------------------------------------------------------------------------------------------------
# make lab
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("make") is None or importlib.util.find_spec("jupyterlab") is None, reason="needs make and JupyterLab"
)
def test_make_lab_serves_the_notebooks_for_root_and_other_users_and_passes_LAB_ARGS(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    lab_args = f"--no-browser --port {port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    assert ("--allow-root" in subprocess.run(make("-n", "lab"), capture_output=True, text=True).stdout) == (
        os.geteuid() == 0
    )  # Jupyter refuses root without it
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "c")}
    server = subprocess.Popen(
        make("lab", f"LAB_ARGS={lab_args}"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        contents, deadline = None, time.monotonic() + 180
        while contents is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=5) as r:
                    contents = json.load(r)
            except OSError:
                time.sleep(1)
        assert contents is not None, f"JupyterLab did not answer (exit code {server.poll()})"
        notebooks = sorted(item["name"] for item in contents["content"] if item["type"] == "notebook")
        assert notebooks == sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))  # notebooks/ served
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=30) as page:
            assert "JupyterLab" in page.read().decode()
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # make and the server it started
        server.communicate(timeout=60)


# ---------------------------------------------------------------------------------------------------------------
# conda's environment.yml
# ---------------------------------------------------------------------------------------------------------------


def environment_yml() -> tuple[dict[str, str], list[str]]:
    """{package: version spec} of environment.yml's conda and pip lists (pip names), and its pip lines as written."""
    conda_to_pip = {"pytorch": "torch"}
    listed, pip_lines = {}, []
    in_pip = False
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("\ndependencies:") :].splitlines():
        entry = re.match(r"^(\s*)- (.+)$", line)
        if not entry:
            continue
        item = entry.group(2).strip()
        if item == "pip:":
            in_pip = True
            continue
        if in_pip and len(entry.group(1)) > 2:
            pip_lines.append(item)
            if item.startswith("-"):  # an option such as "-e ."
                continue
        name, spec = re.match(r"^([A-Za-z0-9_.-]+)\s*(.*)$", item).groups()
        listed[canonicalize_name(conda_to_pip.get(name, name))] = spec.replace(" ", "")
    return listed, pip_lines


def declared_requirements() -> dict[str, str]:
    """{package: version spec} that pyproject.toml declares: the package's and every extra's, less its own extras."""
    requirements = PYPROJECT["project"]["dependencies"] + [
        requirement for extra in PYPROJECT["project"]["optional-dependencies"].values() for requirement in extra
    ]
    declared = {}
    for text in requirements:
        requirement = Requirement(text)
        if canonicalize_name(requirement.name) != canonicalize_name(PYPROJECT["project"]["name"]):
            declared[canonicalize_name(requirement.name)] = str(requirement.specifier)
    return declared


def test_environment_yml_lists_every_dependency_that_pyproject_declares_with_the_same_versions():
    listed, _ = environment_yml()
    declared = declared_requirements()
    assert {"nbmake", "pytest", "numpy", "matplotlib"} <= declared.keys()  # the tests' tools and the core's
    for name, spec in declared.items():
        assert name in listed, f"environment.yml lacks {name}{spec}"
        assert sorted(listed[name].split(",")) == sorted(spec.split(",")), name
    assert set(listed) - set(declared) == {"python", "pip"}  # nothing else


def test_environment_yml_installs_the_package_itself_with_its_command_line():
    _, pip_lines = environment_yml()
    assert "-e ." in pip_lines


# ---------------------------------------------------------------------------------------------------------------
# The command line of the installed package
# ---------------------------------------------------------------------------------------------------------------


def test_the_installed_console_script_beside_this_python_runs(tmp_path):
    script = Path(sys.executable).parent / "albert-explained"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0 and "fill-mask" in done.stdout


def subcommands() -> list[str]:
    from albert_explained.cli import build_parser

    parser = build_parser()
    choices = next(action.choices for action in parser._actions if action.dest == "command")
    return list(choices)


def run_ok(command: list[str], cwd: Path, timeout: int = 600) -> str:
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    # Nothing on stderr but progress: no "Failed to initialize NumPy", no warning, no traceback.
    assert "NumPy" not in done.stderr and "Warning" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    return done.stdout


@pytest.mark.slow
def test_the_wheel_in_a_fresh_venv_with_only_its_declared_dependencies_runs_every_command(tmp_path):
    import torch

    # A copy of the checkout without what a build leaves behind, so the build cannot pick up files a clone lacks.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "html", "runs", "__pycache__", ".*cache", ".hypothesis"
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(tmp_path / "wheel"),
            str(source),
        ],
        check=True,
        timeout=600,
    )
    (wheel,) = (tmp_path / "wheel").glob("albert_explained-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    # The torch these tests run on first, as the README says: with none installed, pip would pick a build itself.
    subprocess.run(pip + [f"torch=={torch.__version__.split('+')[0]}"], check=True, timeout=900)
    subprocess.run(pip + [str(wheel)], check=True, timeout=900)

    work = tmp_path / "elsewhere"  # not the checkout: the installed package must stand on its own
    work.mkdir()
    cli = str(venv / "bin" / "albert-explained")
    location = run_ok(
        [str(venv / "bin" / "python"), "-c", "import albert_explained; print(albert_explained.__file__)"], work
    )
    assert Path(location.strip()).is_relative_to(venv)
    assert "fill-mask" in run_ok([cli, "--help"], work)
    for command in subcommands():
        assert f"usage: albert-explained {command}" in run_ok([cli, command, "--help"], work)

    assert len(run_ok([cli, "fill-mask", "To be, or not to [MASK]: that is the question."], work).splitlines()) == 5
    assert "[CLS]" in run_ok([cli, "tokenize", "Friends, Romans, countrymen"], work)
    assert "BERT" in run_ok([cli, "params"], work)
    run_ok([cli, "attention", "Good night, good night!", "--layer", "1", "-o", "x.png"], work)
    assert (work / "x.png").read_bytes().startswith(PNG_MAGIC)
    run_ok([cli, "attention", "Good night, good night!", "--head", "1", "-o", "x.html"], work)
    assert "<canvas>" in (work / "x.html").read_text()
    out = run_ok(
        [
            cli,
            "pretrain",
            "--steps",
            "20",
            "--output-dir",
            "run",
            "--max-documents",
            "2",
            "--max-sentences-per-document",
            "300",
            "--vocab-size",
            "300",
            "--max-eval-examples",
            "32",
            "--no-progress",
        ],
        work,
    )
    assert "validation after 20 steps" in out and (work / "run" / "model" / "model.safetensors").is_file()


# ---------------------------------------------------------------------------------------------------------------
# make html, read offline
# ---------------------------------------------------------------------------------------------------------------


def offline_dom(page: Path, profile: Path) -> str:
    """The page's DOM once its scripts have run, in headless Chromium with every network request made to fail."""
    done = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            "--virtual-time-budget=30000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done.stdout


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("npm") is None or shutil.which("make") is None,
    reason="needs headless Chromium, npm and make",
)
def test_make_html_pages_show_progress_bars_the_explorer_and_equations_with_no_network(tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    notebook.cells = [
        nbformat.v4.new_markdown_cell("Attention: $\\mathrm{softmax}(QK^\\top / \\sqrt{D})\\,V$"),
        nbformat.v4.new_code_cell("from tqdm.auto import tqdm\nfor _ in tqdm(range(5), desc='counting'):\n    pass"),
        nbformat.v4.new_code_cell(
            "from albert_explained import views\nviews.AttentionExplorer(text='Good night, good night!')"
        ),
    ]
    nbformat.write(notebook, tmp_path / "widgets.ipynb")
    subprocess.run(
        make(
            "html",
            f"NOTEBOOKS={tmp_path / 'widgets.ipynb'}",
            f"HTML_DIR={tmp_path / 'html'}",
            f"HTML_ASSETS={tmp_path / 'assets'}",
        ),
        check=True,
        timeout=900,
        capture_output=True,
    )

    page = tmp_path / "html" / "widgets.html"
    assert not re.search(r"""src=["']https?:""", page.read_text())  # no script from the network...
    dom = offline_dom(page, tmp_path / "profile")
    body = dom[dom.find("<body") :]
    # ...and yet the widgets are drawn from their stored state: the finished progress bar, the explorer's controls
    # and its figure (a PNG stored in the page, drawn from a blob: URL), and the equation typeset by MathJax.
    assert re.search(r'class="progress-bar[^"]*" style="[^"]*width: 100%', body)
    assert re.search(r"counting:\s100%", body) and "5/5" in body  # tqdm puts a figure space after the colon
    assert "every layer x head" in body  # the explorer's view buttons
    assert re.search(r'<img class="[^"]*widget-image" src="blob:', body)
    stored = json.loads(
        re.search(
            r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>',
            page.read_text(),
            flags=re.DOTALL,
        ).group(1)
    )
    images = [model for model in stored["state"].values() if model["model_name"] == "ImageModel"]
    assert [base64.b64decode(buffer["data"])[:8] for model in images for buffer in model["buffers"]] == [PNG_MAGIC]
    assert "MathJax_CHTML" in body


# ---------------------------------------------------------------------------------------------------------------
# The README's commands
# ---------------------------------------------------------------------------------------------------------------

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_installs_only_extras_that_pyproject_declares_and_runs_only_make_targets_that_exist():
    extras = set(re.findall(r"'\.\[(\w+)\]'", README))
    assert {"test", "hub", "dev"} <= extras <= set(PYPROJECT["project"]["optional-dependencies"])
    assert "pip install 'albert-explained" not in README  # not on any index: installed from the checkout
    targets = set(re.findall(r"^([a-z]+):", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))
    assert set(re.findall(r"`make (\w+)", README)) <= targets
    for variable in set(re.findall(r"make \w+ ([A-Z_]+)=", README)):
        assert re.search(rf"^{variable} \?=", (ROOT / "Makefile").read_text(), flags=re.MULTILINE), variable
    assert not re.search(r"`python benchmarks/", README)  # the venv's python, which has transformers


def test_every_albert_explained_command_in_the_readme_is_one_the_command_line_accepts():
    import shlex

    from albert_explained.cli import build_parser

    lines = [line.split("  #")[0] for line in re.findall(r"(?:^|`)(albert-explained [^`\n]+)", README, re.MULTILINE)]
    commands = [shlex.split(line)[1:] for line in lines if "<" not in line]
    assert {"fill-mask", "tokenize", "params", "attention", "pretrain"} <= {command[0] for command in commands}
    for command in commands:
        build_parser().parse_args(command)  # exits (SystemExit) on an option that does not exist
