import subprocess

import numpy as np
from PIL import Image

from .script_runner import ROOT, run_script


def run(*args: str) -> subprocess.CompletedProcess:
    return run_script("render_gallery.py", *args, check=False)


def test_writes_one_png_per_family_asked_for(tmp_path):
    done = run("lot_sizing", "fair_threshold", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for family, size in (("lot_sizing", (900, 600)), ("fair_threshold", (900, 520))):
        image = Image.open(tmp_path / f"render_{family}.png")
        assert image.size == size and image.mode == "RGB"
        assert len(np.unique(np.asarray(image).reshape(-1, 3), axis=0)) > 10
        assert f"{family}: gauntlet/" in done.stdout


def test_unknown_family_is_an_error_naming_the_allowed_ones(tmp_path):
    done = run("chess", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "unknown families ['chess']; allowed: lot_sizing, fair_threshold" in done.stderr
    assert not list(tmp_path.iterdir())


def test_every_shot_names_a_registered_id():
    import runpy

    from gauntlet.registry import TASKS

    gallery = runpy.run_path(str(ROOT / "scripts" / "render_gallery.py"), run_name="render_gallery")["GALLERY"]
    assert {s.env_id for s in gallery.values()} <= set(TASKS)
