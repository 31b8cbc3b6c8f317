"""The off-screen figure helper used by the envs' rgb_array rendering."""

import subprocess
import sys

import numpy as np

from gauntlet.envs.canvas import new_figure, to_rgb


def test_figure_has_the_requested_pixel_size_and_rgb_uint8_pixels():
    fig = new_figure(320, 200)
    ax = fig.add_subplot()
    ax.bar([0, 1], [1, 2], color="tab:red")
    frame = to_rgb(fig)
    assert frame.shape == (200, 320, 3) and frame.dtype == np.uint8
    assert frame.flags.writeable and len(np.unique(frame.reshape(-1, 3), axis=0)) > 2


def test_drawing_neither_imports_pyplot_nor_changes_the_backend():
    code = (
        "import sys, matplotlib\n"
        "matplotlib.use('svg')\n"
        "from gauntlet.envs.canvas import new_figure, to_rgb\n"
        "to_rgb(new_figure(50, 50))\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
